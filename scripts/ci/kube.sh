#!/usr/bin/env bash
# Kubernetes' own client library (the Python `kubernetes` package) reads
# `reconnect token NAME --format exec-credential` as kubectl's exec plugin.
#
# Creates a venv, installs `kubernetes` with pip, starts
#   reconnect sim serve --auto-approve alice@contoso.test
# connects an account with `reconnect signin` (curl as the browser), and runs
# tests/peers/kube_check.py, which loads a kubeconfig whose user runs
# Reconnect and calls a stand-in API server that demands the same token.
# The binary comes from $RECONNECT_BIN (default target/debug/reconnect).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${RECONNECT_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/reconnect}"
if [[ ! -x "$bin" ]]; then
    echo "kube.sh: $bin is missing; build it first (cargo build -p reconnect-cli) or set RECONNECT_BIN" >&2
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

venv="${KUBE_VENV:-$work/venv}"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check kubernetes
"$venv/bin/python" -c 'import kubernetes; print("kubernetes client", kubernetes.__version__)'

"$bin" sim serve --auto-approve alice@contoso.test >"$work/serve.out" &
server_pid=$!
line=""
for _ in $(seq 1 300); do
    if [[ -s "$work/serve.out" ]] && line="$(head -n 1 "$work/serve.out")" && [[ "$line" == *"}"* ]]; then
        break
    fi
    kill -0 "$server_pid" 2>/dev/null || { echo "kube.sh: the simulator exited early" >&2; exit 1; }
    sleep 0.1
done
sim_url="$(printf '%s' "$line" | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["http_url"])')"

export RECONNECT_HOME="$work/profile"
browser="$work/browser.sh"
printf '#!/bin/sh\nexec curl -s -L -o /dev/null "$1"\n' >"$browser"
chmod +x "$browser"
"$bin" add cluster --authority "$sim_url" --tenant common \
    --client-id 6c1e8a52-0b7d-4f3e-9a61-2d4c8b5e7f10 \
    --scopes "6dae42f8-4368-4678-94ff-3960e28e3630/.default openid profile offline_access"
"$bin" signin cluster --browser "$browser"

RECONNECT_BIN="$bin" "$venv/bin/python" "$root/tests/peers/kube_check.py" cluster
