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
# gnome-keyring runs in the foreground as our own child: daemonized, it was
# seen to vanish mid-run, after which D-Bus activation started a *locked*
# replacement. The password goes in on stdin, which then closes.
printf '%s' reconnect-test-pw | gnome-keyring-daemon --foreground --unlock --components=secrets \
  >/dev/null 2>&1 &
keyring=$!
gdbus wait --session --timeout 10 org.freedesktop.secrets
for _ in $(seq 1 100); do
  gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
    --method org.freedesktop.Secret.Service.ReadAlias default 2>/dev/null | grep -q login && break
  sleep 0.1
done
# A test binary normally takes a few minutes at most; one that hangs (say on
# an unlock prompt after the keyring died) is stopped so a CI run stays
# bounded. RECONNECT_SESSION_TIMEOUT (seconds) changes the limit.
status=0
timeout --kill-after=30 "${RECONNECT_SESSION_TIMEOUT:-1200}" "$@" || status=$?
[ "$status" -ne 124 ] || echo "with-session: '$*' was stopped after ${RECONNECT_SESSION_TIMEOUT:-1200} s" >&2
kill "$keyring" 2>/dev/null || true
exit $status
