#!/usr/bin/env bash
# Microsoft's own client library (MSAL for Python) against the simulator.
#
# Creates a venv, installs `msal` with pip, starts
#   reconnect sim serve --tls --ca-out CA --auto-approve alice@contoso.test
# and runs tests/peers/msal_check.py with REQUESTS_CA_BUNDLE=CA.
# The binary comes from $RECONNECT_BIN (default target/debug/reconnect, or
# $CARGO_TARGET_DIR/debug/reconnect when CARGO_TARGET_DIR is set).
# Needs: python3 with venv (Debian: python3-venv), network access for pip.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${RECONNECT_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/reconnect}"
if [[ ! -x "$bin" ]]; then
    echo "msal.sh: $bin is missing; build it first (cargo build -p reconnect-cli) or set RECONNECT_BIN" >&2
    exit 1
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

venv="${MSAL_VENV:-$work/venv}"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check msal
"$venv/bin/python" -c 'import msal; print("msal", msal.__version__)'

"$bin" sim serve --tls --ca-out "$work/ca.pem" --auto-approve alice@contoso.test >"$work/serve.out" &
server_pid=$!

line=""
for _ in $(seq 1 300); do
    if [[ -s "$work/serve.out" ]] && line="$(head -n 1 "$work/serve.out")" && [[ "$line" == *"}"* ]]; then
        break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "msal.sh: the simulator exited before printing its URLs" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ "$line" != *"https_url"* ]]; then
    echo "msal.sh: no start-up line from the simulator" >&2
    exit 1
fi

REQUESTS_CA_BUNDLE="$work/ca.pem" "$venv/bin/python" "$root/tests/peers/msal_check.py" "$line"
