#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring
# (the real Secret Service) and throwaway HOME/XDG dirs, so tests never touch
# the user's own keychain or data. Usage: scripts/with-session.sh CMD [ARGS...]
set -euo pipefail
if [ -z "${RECONNECT_IN_SESSION:-}" ]; then
  scratch=$(mktemp -d -t reconnect-session.XXXXXX)
  mkdir -p "$scratch"/{home,config,data,cache,state,runtime,tmp}
  chmod 700 "$scratch/runtime"
  export RECONNECT_IN_SESSION=1 HOME="$scratch/home" XDG_CONFIG_HOME="$scratch/config" \
    XDG_DATA_HOME="$scratch/data" XDG_CACHE_HOME="$scratch/cache" XDG_STATE_HOME="$scratch/state" \
    XDG_RUNTIME_DIR="$scratch/runtime" TMPDIR="$scratch/tmp" RECONNECT_SESSION_SCRATCH="$scratch"
  # cargo and rustup live under the real home; keep them reachable.
  export CARGO_HOME="${CARGO_HOME:-/root/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-/root/.rustup}"
  status=0
  dbus-run-session -- "$0" "$@" || status=$?
  rm -rf "$scratch"
  exit $status
fi
echo -n reconnect-test-pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
gdbus wait --session --timeout 10 org.freedesktop.secrets
exec "$@"
