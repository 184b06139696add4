#!/usr/bin/env bash
# Quick start, part one: installs what is missing, builds, and opens Reconnect
# on its built-in demo profile (backed by the simulator running inside the app).
# Without a display (a server, CI) it runs the window under Xvfb and saves a
# screenshot to artifacts/run.png. RECONNECT_RUN_SECONDS=N stops it after N s.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export PATH="$HOME/.cargo/bin:$PATH"
echo "==> building the app" >&2
cargo build --quiet -p reconnect-app -p reconnect-cli
app="${CARGO_TARGET_DIR:-target}/debug/reconnect-app"
export RECONNECT_PROFILE="${RECONNECT_PROFILE:-demo}"
seconds="${RECONNECT_RUN_SECONDS:-}"

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ "$(uname -s)" != Linux ]; then
  if [ -n "$seconds" ]; then timeout "$seconds" "$app" || [ $? -eq 124 ]; else exec "$app"; fi
  exit 0
fi

echo "==> no display: running the window under Xvfb (screenshot: artifacts/run.png)" >&2
mkdir -p artifacts
export APP="$app" SECONDS_TO_RUN="${seconds:-0}"
# No desktop session usually means no Secret Service either: give the demo a
# private D-Bus session with an unlocked gnome-keyring (scripts/with-session.sh).
wrap=()
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || wrap=(scripts/with-session.sh)
exec xvfb-run -a -s "-screen 0 1280x800x24" "${wrap[@]}" bash -c '
  "$APP" & pid=$!
  sleep 8
  import -window root artifacts/run.png && echo "==> screenshot saved: artifacts/run.png" >&2
  if [ "$SECONDS_TO_RUN" -gt 0 ]; then sleep "$SECONDS_TO_RUN"; kill $pid; wait $pid || true; else wait $pid; fi'
