#!/usr/bin/env bash
# Microsoft's own client library (MSAL for Python) against the simulator.
#
# Creates a venv, installs `msal` and PyJWT (with `cryptography`, to verify
# id_token signatures) with pip, starts
#   reconnect sim serve --tls --ca-out CA --auto-approve alice@contoso.test
# registers the check's two apps in it (the simulator is strict, as Entra is:
# it refuses apps nobody registered) with `reconnect sim app add`:
#   MSAL_CLIENT_ID             a desktop app whose redirect URI is http://localhost/callback
#   MSAL_CUSTOM_KEY_CLIENT_ID  the same, with its id_tokens signed by its own key
# and runs tests/peers/msal_check.py with REQUESTS_CA_BUNDLE=CA.
# The binary comes from $RECONNECT_BIN (default target/debug/reconnect, or
# $CARGO_TARGET_DIR/debug/reconnect when CARGO_TARGET_DIR is set); the venv
# from $MSAL_VENV (default: a fresh one in a scratch folder).
# Needs: python3 with venv (Debian: python3-venv), network access for pip.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/peer.sh"
peer_setup msal.sh

# Major versions pinned: a new major is a deliberate upgrade.
peer_venv MSAL_VENV 'msal>=1,<2' 'PyJWT[crypto]>=2.8,<3'
"$venv/bin/python" -c 'import jwt, msal; print("msal", msal.__version__, "pyjwt", jwt.__version__)'

peer_sim --tls --ca-out "$work/ca.pem" --auto-approve alice@contoso.test
if [[ "$sim_line" != *"https_url"* ]]; then
    echo "msal.sh: the simulator printed no HTTPS address" >&2
    exit 1
fi

export MSAL_CLIENT_ID=4b0db8c2-9f26-4417-8bde-3f0e3656f8e0
export MSAL_CUSTOM_KEY_CLIENT_ID=b7d3e1f0-6a2c-4e58-9d41-0c8f2a7e5b93
# MSAL's redirect URI is http://localhost:8765/callback; Entra ignores the
# port of a localhost redirect URI, not its path.
peer_app "$MSAL_CLIENT_ID" --redirect http://localhost/callback
peer_app "$MSAL_CUSTOM_KEY_CLIENT_ID" --redirect http://localhost/callback --custom-signing-key

REQUESTS_CA_BUNDLE="$work/ca.pem" "$venv/bin/python" "$root/tests/peers/msal_check.py" "$sim_line"
