#!/usr/bin/env bash
# Startup benchmark: time from process start to the first page load (the
# webview's first paint of the UI) and resident memory (the app plus its
# WebKit child processes), for Reconnect and for an empty Tauri 2 window built
# the same way (same crate, profile and Tauri features: the `blank` example).
#
#   scripts/bench-startup.sh            # release build, 5 runs each
#   RUNS=10 BENCH_PROFILE=dev scripts/bench-startup.sh
#
# The first run of each binary is reported as "cold" (nothing of it in the
# page cache from this script yet); the median of the others as "warm".
# Without a display it re-runs itself under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DISPLAY:-}" ] && [ -z "${BENCH_UNDER_XVFB:-}" ]; then
  exec env BENCH_UNDER_XVFB=1 xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$@"
fi

runs="${RUNS:-5}"
profile="${BENCH_PROFILE:-release}"
target="${CARGO_TARGET_DIR:-target}"
if [ "$profile" = release ]; then flag=(--release); dir=release; else flag=(); dir=debug; fi
echo "==> building ($profile): reconnect-app and the blank example" >&2
cargo build --quiet "${flag[@]}" -p reconnect-app --bin reconnect-app --example blank
app="$target/$dir/reconnect-app"
blank="$target/$dir/examples/blank"

tree_rss_kib() { # sum of VmRSS over a process and all its descendants
  local total=0 pid
  for pid in $(descendants "$1"); do
    total=$(( total + $(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0) ))
  done
  echo "$total"
}
descendants() {
  echo "$1"
  local child
  for child in $(pgrep -P "$1" || true); do descendants "$child"; done
}

# One launch: prints "<ms to page load> <RSS KiB 3 s after it>".
measure() {
  local bin="$1" log home start pid ms
  log="$(mktemp)"; home="$(mktemp -d)"
  start=$(date +%s%N)
  RECONNECT_BENCH=1 RECONNECT_HOME="$home" RECONNECT_NO_NOTIFICATIONS=1 "$bin" 2>"$log" >/dev/null &
  pid=$!
  for _ in $(seq 1 600); do
    grep -q "reconnect-bench page-loaded" "$log" && break
    sleep 0.05
  done
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  grep -q "reconnect-bench page-loaded" "$log" || ms="timeout"
  sleep 3
  local rss; rss=$(tree_rss_kib "$pid")
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  rm -rf "$log" "$home"
  echo "$ms $rss"
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else print a[int((NR+1)/2)]}'; }

report() {
  local name="$1" bin="$2" cold times=() rsss=() line
  cold="$(measure "$bin")"
  for _ in $(seq 2 "$runs"); do
    line="$(measure "$bin")"; times+=("${line% *}"); rsss+=("${line#* }")
  done
  printf '%-22s cold %6s ms  warm median %6s ms  RSS median %7s KiB (cold run %s KiB)\n' \
    "$name" "${cold% *}" "$(printf '%s\n' "${times[@]}" | median)" \
    "$(printf '%s\n' "${rsss[@]}" | median)" "${cold#* }"
}

echo "==> $runs runs each, $profile build, time to first page load and resident memory (app + WebKit processes)"
report "empty Tauri 2 window" "$blank"
report "Reconnect" "$app"
