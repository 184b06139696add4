#!/usr/bin/env bash
# Whole-process time of `reconnect token NAME` against the local simulator:
#   1. with a cached, valid access token (keychain read, no network);
#   2. with a refresh needed (lock, keychain read, one HTTP round trip,
#      keychain + database write);
# beside a raw `curl` POST of the same refresh-token grant to the simulator.
# Prints min / median / mean / p90 in milliseconds. Figures, not asserts.
# Then the engine's own overhead in process (examples/refresh_overhead.rs).
#
# Usage: scripts/bench-token.sh [RUNS]   (default 30)
# Env:   RECONNECT_BIN=path/to/reconnect (default: a release build in
#        $CARGO_TARGET_DIR or ./target). Needs the Secret Service: the script
#        re-runs itself inside scripts/with-session.sh when not in a session.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-30}

target=${CARGO_TARGET_DIR:-$PWD/target}
if [ -z "${RECONNECT_BIN:-}" ]; then
  # Build first, outside the keyring session (a long build can outlive it).
  echo "building the release CLI…" >&2
  cargo build --release -p reconnect-cli --features test-hooks --quiet
  export RECONNECT_BIN=$target/release/reconnect
fi
BIN=$RECONNECT_BIN

if [ -z "${RECONNECT_IN_SESSION:-}" ]; then
  exec scripts/with-session.sh "$0" "$@"
fi
command -v curl >/dev/null || { echo "curl is required" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }

work=$(mktemp -d -t reconnect-bench.XXXXXX)
export RECONNECT_HOME="$work/home"
sim_pid=""
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$BIN" sim serve >"$work/sim.json" 2>"$work/sim.log" &
sim_pid=$!
until [ -s "$work/sim.json" ]; do sleep 0.05; done
url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http_url"])' "$work/sim.json")

client=bench-client
scope="openid profile offline_access User.Read"
grant() {
  curl -sf -X POST "$url/_sim/grants" -H 'content-type: application/json' \
    -d "{\"upn\":\"alice@contoso.test\",\"client_id\":\"$client\",\"scope\":\"$scope\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_token"])'
}
"$BIN" add bench --authority "$url" --tenant common --client-id "$client" >/dev/null
grant | "$BIN" import bench --refresh-token-stdin >/dev/null
"$BIN" token bench >/dev/null   # first access token

now_ns() { date +%s%N; }
times=()
measure() { # label, then the command
  local label=$1; shift
  local samples=()
  for i in $(seq "$RUNS"); do
    local t0 t1
    t0=$(now_ns)
    "$@" "$i" >/dev/null
    t1=$(now_ns)
    samples+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${samples[@]}" | python3 -c '
import statistics, sys
label = sys.argv[1]
xs = sorted(int(x) / 1000 for x in sys.stdin.read().split())
p90 = xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]
print(f"{label:<44} n={len(xs):<4} min {xs[0]:7.2f}  median {statistics.median(xs):7.2f}  mean {statistics.mean(xs):7.2f}  p90 {p90:7.2f}  ms")
' "$label"
}

cached() { "$BIN" token bench; }
# Each run is two hours further ahead, so the cached access token has expired
# and exactly one refresh is needed (engine test hook, see crates/engine/README.md).
expired() { RECONNECT_TEST_CLOCK_OFFSET=$(( $1 * 7200 )) "$BIN" token bench; }
rt=$(grant)
raw_curl() {
  curl -sf -o /dev/null -X POST "$url/common/oauth2/v2.0/token" \
    --data-urlencode grant_type=refresh_token --data-urlencode "client_id=$client" \
    --data-urlencode "refresh_token=$rt" --data-urlencode "scope=$scope"
}

echo "reconnect token, whole process, $RUNS runs each (binary: $BIN)"
measure "cached valid token" cached
measure "refresh needed (one round trip)" expired
measure "raw curl POST of the same refresh" raw_curl
refreshes=$(curl -sf "$url/_sim/log" | python3 -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin)["requests"] if e.get("grant_type") == "refresh_token"))')
echo "refresh requests seen by the simulator: $refreshes (expected $(( 2 * RUNS + 1 )))"

echo
echo "The same refresh inside one process, without the OS keychain (engine overhead alone):"
cargo run --release --quiet -p reconnect-engine --example refresh_overhead 200
