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
source "$(dirname "${BASH_SOURCE[0]}")/lib/peer.sh"
peer_setup msal.sh

peer_venv MSAL_VENV msal
"$venv/bin/python" -c 'import msal; print("msal", msal.__version__)'

peer_sim --tls --ca-out "$work/ca.pem" --auto-approve alice@contoso.test
if [[ "$sim_line" != *"https_url"* ]]; then
    echo "msal.sh: the simulator printed no HTTPS address" >&2
    exit 1
fi

REQUESTS_CA_BUNDLE="$work/ca.pem" "$venv/bin/python" "$root/tests/peers/msal_check.py" "$sim_line"
