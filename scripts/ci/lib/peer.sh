# Shared by the peer checks in scripts/ci/ (sourced, not run): the binary
# under test, a scratch folder cleaned up on exit, a venv with one package,
# and `reconnect sim serve` started in the background.
#
#   peer_setup NAME              sets $root, $bin and $work; traps cleanup
#   peer_venv VAR_DEFAULT PKG... sets $venv (honouring the named env var) with the PKGs installed
#   peer_sim ARGS...             starts the simulator; sets $sim_line (its start-up JSON)
#                                and $sim_url (its http URL)
#   peer_app CLIENT_ID ARGS...   registers an app in that simulator (`reconnect sim app add`;
#                                the simulator is strict: it refuses apps nobody registered)

peer_setup() {
    peer_name=$1
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
    bin="${RECONNECT_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/reconnect}"
    if [[ ! -x "$bin" ]]; then
        echo "$peer_name: $bin is missing; build it first (cargo build -p reconnect-cli) or set RECONNECT_BIN" >&2
        exit 1
    fi
    work="$(mktemp -d)"
    server_pid=""
    trap peer_cleanup EXIT
}

peer_cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}

peer_venv() {
    venv="${!1:-$work/venv}"
    if [[ ! -x "$venv/bin/python" ]]; then
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${@:2}"
}

peer_sim() {
    "$bin" sim serve "$@" >"$work/serve.out" &
    server_pid=$!
    sim_line=""
    for _ in $(seq 1 300); do
        if [[ -s "$work/serve.out" ]] && sim_line="$(head -n 1 "$work/serve.out")" && [[ "$sim_line" == *"}"* ]]; then
            sim_url="$(sed -n 's/.*"http_url": *"\([^"]*\)".*/\1/p' <<<"$sim_line")"
            return 0
        fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "$peer_name: the simulator exited before printing its URLs" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "$peer_name: no start-up line from the simulator" >&2
    exit 1
}

peer_app() {
    if ! "$bin" sim app add --url "$sim_url" "$@" >"$work/app.out"; then
        echo "$peer_name: could not register the app $1 in the simulator" >&2
        exit 1
    fi
}
