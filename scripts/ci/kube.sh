#!/usr/bin/env bash
# Kubernetes' own client library (the Python `kubernetes` package) reads
# `reconnect token NAME --format exec-credential` as kubectl's exec plugin.
#
# Creates a venv, installs `kubernetes` with pip, starts
#   reconnect sim serve --auto-approve alice@contoso.test --app CLIENT_ID
# (the simulator is strict: the account's app must be registered), connects
# an account with `reconnect signin` (curl as the browser), and runs
# tests/peers/kube_check.py, which loads a kubeconfig whose user runs
# Reconnect and calls a stand-in API server that demands the same token.
# The binary comes from $RECONNECT_BIN (default target/debug/reconnect).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/peer.sh"
peer_setup kube.sh

peer_venv KUBE_VENV kubernetes
"$venv/bin/python" -c 'import kubernetes; print("kubernetes client", kubernetes.__version__)'

client_id=6c1e8a52-0b7d-4f3e-9a61-2d4c8b5e7f10
# --app: a desktop registration, whose http://localhost redirect (any port)
# is the one `reconnect signin` listens on.
peer_sim --auto-approve alice@contoso.test --app "$client_id"

export RECONNECT_HOME="$work/profile"
browser="$work/browser.sh"
printf '#!/bin/sh\nexec curl -s -L -o /dev/null "$1"\n' >"$browser"
chmod +x "$browser"
"$bin" add cluster --authority "$sim_url" --tenant common \
    --client-id "$client_id" \
    --scopes "6dae42f8-4368-4678-94ff-3960e28e3630/.default openid profile offline_access"
"$bin" signin cluster --browser "$browser"

RECONNECT_BIN="$bin" "$venv/bin/python" "$root/tests/peers/kube_check.py" cluster
