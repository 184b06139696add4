#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring
# (the real Secret Service) and throwaway HOME/XDG dirs, so tests never touch
# the user's own keychain or data. Usage: scripts/with-session.sh CMD [ARGS...]
#
# gnome-keyring 42 (Debian 12) can abort (SIGTRAP) when a client vanishes
# while its Secret Service session is being negotiated; Reconnect opens at
# most one session per process to stay clear of that, but tests that kill
# our processes on purpose can still hit it. So:
# - if the daemon dies, D-Bus activation brings back an *unlocked* one over
#   the same keyring files (our own service file, found before the system's,
#   which would start a locked daemon that waits for a password forever);
# - every death is reported when the command ends, with the daemon's log;
#   `$RECONNECT_SESSION_SCRATCH/keyring-restarts` counts the restarts.
# With RECONNECT_TEST_SUMMARY set, one line per command (name, status,
# seconds) is appended to that file for scripts/test.sh's summary.
set -euo pipefail
if [ -z "${RECONNECT_IN_SESSION:-}" ]; then
  scratch=$(mktemp -d -t reconnect-session.XXXXXX)
  mkdir -p "$scratch"/{home,config,data/dbus-1/services,cache,state,runtime,tmp}
  chmod 700 "$scratch/runtime"
  cat >"$scratch/keyring.sh" <<EOF
#!/bin/sh
# Starts gnome-keyring unlocked; with "restart", counts a restart first.
[ "\${1:-}" = restart ] && echo "\$(date +%T)" >>"$scratch/keyring-restarts"
exec gnome-keyring-daemon --foreground --unlock --components=secrets \
  >>"$scratch/keyring.log" 2>&1 <<PW
reconnect-test-pw
PW
EOF
  chmod +x "$scratch/keyring.sh"
  printf '[D-BUS Service]\nName=org.freedesktop.secrets\nExec=%s restart\n' \
    "$scratch/keyring.sh" >"$scratch/data/dbus-1/services/org.freedesktop.secrets.service"
  export RECONNECT_IN_SESSION=1 HOME="$scratch/home" XDG_CONFIG_HOME="$scratch/config" \
    XDG_DATA_HOME="$scratch/data" XDG_CACHE_HOME="$scratch/cache" XDG_STATE_HOME="$scratch/state" \
    XDG_RUNTIME_DIR="$scratch/runtime" TMPDIR="$scratch/tmp" RECONNECT_SESSION_SCRATCH="$scratch"
  # cargo and rustup live under the real home; keep them reachable.
  export CARGO_HOME="${CARGO_HOME:-/root/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-/root/.rustup}"
  started=$(date +%s)
  status=0
  dbus-run-session -- "$0" "$@" || status=$?
  if [ -n "${RECONNECT_TEST_SUMMARY:-}" ]; then
    name=$(basename "$1")
    case "$1" in */deps/*) name=${name%-*} ;; */rust_out) name="doc-test" ;; esac
    [ "$name" != bash ] || name=${2:-bash}
    restarts=0
    [ ! -f "$scratch/keyring-restarts" ] || restarts=$(wc -l <"$scratch/keyring-restarts")
    printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$(($(date +%s) - started))" "$restarts" \
      >>"$RECONNECT_TEST_SUMMARY"
  fi
  rm -rf "$scratch"
  exit $status
fi
scratch=$RECONNECT_SESSION_SCRATCH
"$scratch/keyring.sh" &
keyring=$!
gdbus wait --session --timeout 10 org.freedesktop.secrets
for _ in $(seq 1 100); do
  gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
    --method org.freedesktop.Secret.Service.ReadAlias default 2>/dev/null | grep -q login && break
  sleep 0.1
done
# A test binary normally takes a few minutes at most; one that hangs is
# stopped so a CI run stays bounded. RECONNECT_SESSION_TIMEOUT (seconds)
# changes the limit.
status=0
timeout --kill-after=30 "${RECONNECT_SESSION_TIMEOUT:-1200}" "$@" || status=$?
[ "$status" -ne 124 ] || echo "with-session: '$*' was stopped after ${RECONNECT_SESSION_TIMEOUT:-1200} s" >&2
if [ -s "$scratch/keyring-restarts" ] || ! kill -0 "$keyring" 2>/dev/null; then
  restarts=0
  [ ! -f "$scratch/keyring-restarts" ] || restarts=$(wc -l <"$scratch/keyring-restarts")
  {
    echo "with-session: gnome-keyring-daemon died during '$*' and was restarted" \
      "$restarts time(s); its log:"
    grep -v '^$' "$scratch/keyring.log" | tail -n 20 | sed 's/^/  | /'
  } >&2
fi
kill "$keyring" 2>/dev/null || true
exit $status
