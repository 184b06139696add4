#!/usr/bin/env bash
# Issue 14's benchmark table, side by side in one run. Whole processes, a
# release build, the real gnome-keyring, the simulator on loopback:
#
#   `reconnect token`, valid cached token   vs `secret-tool lookup` of a 2 KB secret   goal ≤ 1.5×
#   `reconnect token`, one refresh needed   vs raw `curl` POST of the same refresh grant goal ≤ 3×
#   the same refresh                         vs MSAL for Python acquire_token_by_refresh_token,
#                                               whole process, over https           goal Reconnect ≥ 5× faster
#   `reconnect status --json`, 1,000 accounts                                       goal ≤ 30 ms
#   `reconnect status --json`, 10,000 accounts                                      goal ≤ 200 ms
#
# Each row alternates: Reconnect then the reference, the next round the
# reference first, so drift in the machine's load hits both. Prints min /
# median / p90 of each side, the ratio of medians and whether the goal is met,
# then one Markdown table (with the machine, the date and the load average) to
# paste into the README. Figures, not asserts: a missed goal does not fail the
# script; only something that could not be measured does.
#
# "One refresh needed": every run is started with the engine's test hook
# RECONNECT_TEST_CLOCK_OFFSET two hours further ahead than the last, so the
# cached one-hour access token has expired (crates/engine/README.md, "Test
# hooks"); the simulator's request log proves each run sent exactly one
# refresh grant (and each cached-token run none).
#
# Usage: scripts/bench-token.sh [RUNS]   (default 15 rounds per row)
# Env:   RECONNECT_BIN   an existing binary built with --features test-hooks
#                        (default: build the release CLI with them)
#        BENCH_VENV      the venv for MSAL for Python (default
#                        $CARGO_TARGET_DIR/bench-venv, or target/bench-venv);
#                        created and filled with pip on first use
#        BENCH_ACCOUNTS  account counts for the status rows (default 1000,10000)
#        BENCH_IN_PROCESS=1  also run the engine's in-process refresh overhead
#                        (examples/refresh_overhead.rs, no keychain)
# Needs: python3 (with venv), curl, secret-tool (libsecret-tools; installed
# with apt-get when missing), dbus-run-session and gnome-keyring-daemon. Runs
# itself inside scripts/with-session.sh (a private D-Bus session with an
# unlocked gnome-keyring) when not in a session already.
# The work is done by scripts/bench/bench_token.py (stdlib Python) and, for
# the MSAL row, scripts/bench/msal_refresh.py (in the venv).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-15}
case "$RUNS" in '' | *[!0-9]* | 0) echo "usage: $0 [RUNS]  (RUNS a positive number)" >&2; exit 2 ;; esac

die() { echo "bench-token: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null || die "$1 is required ($2)"; }
target=${CARGO_TARGET_DIR:-$PWD/target}
export BENCH_VENV=${BENCH_VENV:-$target/bench-venv}

# --- Outside the session: what needs the network or takes a while. ---------
if [ -z "${BENCH_SETUP_DONE:-}" ]; then
  need python3 "Debian: apt-get install python3 python3-venv"
  need curl "Debian: apt-get install curl"
  if ! command -v secret-tool >/dev/null && command -v apt-get >/dev/null; then
    echo "bench-token: installing libsecret-tools (secret-tool, the keychain reference)…" >&2
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq >/dev/null &&
      DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        libsecret-tools >/dev/null || true
  fi
  need secret-tool "Debian: apt-get install libsecret-tools"

  if [ -z "${RECONNECT_BIN:-}" ]; then
    echo "bench-token: building the release CLI (with test hooks)…" >&2
    cargo build --release -p reconnect-cli --features test-hooks --quiet
    export RECONNECT_BIN=$target/release/reconnect
  fi
  [ -x "$RECONNECT_BIN" ] || die "$RECONNECT_BIN is not an executable"

  # MSAL for Python in a venv, as scripts/ci/msal.sh does (pinned major).
  if [ ! -x "$BENCH_VENV/bin/python" ]; then
    python3 -m venv "$BENCH_VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  fi
  if ! "$BENCH_VENV/bin/python" -c 'import msal, sys; sys.exit(msal.__version__.split(".")[0] != "1")' 2>/dev/null; then
    echo "bench-token: installing MSAL for Python into $BENCH_VENV…" >&2
    "$BENCH_VENV/bin/pip" install --quiet --disable-pip-version-check 'msal>=1,<2' ||
      die "pip could not install msal into $BENCH_VENV (network or package index unreachable?)"
  fi

  if [ "${BENCH_IN_PROCESS:-}" = 1 ]; then
    cargo build --release --quiet -p reconnect-engine --example refresh_overhead
  fi
  export BENCH_SETUP_DONE=1
fi

if [ -z "${RECONNECT_IN_SESSION:-}" ]; then
  need dbus-run-session "Debian: apt-get install dbus-bin"
  need gnome-keyring-daemon "Debian: apt-get install gnome-keyring"
  export RECONNECT_SESSION_TIMEOUT=${RECONNECT_SESSION_TIMEOUT:-3600}
  exec scripts/with-session.sh "$0" "$RUNS"
fi

# --- Inside the session. -----------------------------------------------------
BIN=$RECONNECT_BIN
work=$(mktemp -d -t reconnect-bench.XXXXXX)
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# --app: the strict simulator refuses apps nobody registered; bench-client is
# the client id scripts/bench/bench_token.py uses for every row.
"$BIN" sim serve --tls --ca-out "$work/ca.pem" --app bench-client >"$work/sim.out" 2>"$work/sim.log" &
sim_pid=$!
line=""
for _ in $(seq 1 300); do
  if [ -s "$work/sim.out" ] && line=$(head -n 1 "$work/sim.out") && [[ "$line" == *"}"* ]]; then
    break
  fi
  kill -0 "$sim_pid" 2>/dev/null || die "the simulator exited before printing its URLs: $(cat "$work/sim.log")"
  sleep 0.1
done
[[ "$line" == *'"https_url":"https'* ]] || die "no start-up line with an https_url from the simulator"
[ -s "$work/ca.pem" ] || die "the simulator wrote no CA to $work/ca.pem"

echo "bench-token: $RUNS rounds per row; binary $BIN; load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo ?)" >&2
python3 scripts/bench/bench_token.py --bin "$BIN" --runs "$RUNS" --sim-line "$line" --ca "$work/ca.pem" \
  --work "$work" --msal-python "$BENCH_VENV/bin/python" --accounts "${BENCH_ACCOUNTS:-1000,10000}"

if [ "${BENCH_IN_PROCESS:-}" = 1 ]; then
  echo
  echo "The same refresh inside one process, without the OS keychain (engine overhead alone):"
  "$target/release/examples/refresh_overhead" 200
fi
