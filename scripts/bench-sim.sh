#!/usr/bin/env bash
# Load benchmark of the simulator's token endpoint on loopback.
#
# Builds `reconnect` and the load generator in release, starts
#   reconnect sim serve --addr 127.0.0.1:0
# and runs CONCURRENCY workers redeeming refresh tokens for SECONDS (bounded
# by MAX requests). Prints requests/second and the server's memory (RSS and
# peak RSS from /proc). Only 127.0.0.1 is used.
#
#   scripts/bench-sim.sh [CONCURRENCY=32] [SECONDS=10] [MAX=2000000]
set -euo pipefail

concurrency="${1:-32}"
seconds="${2:-10}"
max="${3:-2000000}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"

cd "$root"
cargo build --release -p reconnect-cli --bin reconnect
cargo build --release -p reconnect-sim --example token_load

out="$(mktemp)"
"$target/release/reconnect" sim serve --addr 127.0.0.1:0 >"$out" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 100); do
    [[ -s "$out" ]] && break
    sleep 0.1
done
url="$(sed -n 's/.*"http_url":"\([^"]*\)".*/\1/p' "$out" | head -n 1)"
[[ -n "$url" ]] || { echo "bench-sim.sh: the simulator printed no URL" >&2; exit 1; }

rss() { awk -v k="$1" '$1 == k":" { printf "%.1f MiB", $2 / 1024 }' "/proc/$pid/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
echo "simulator at $url (pid $pid); idle RSS $(rss VmRSS)"
before="$(cpu_ticks)"
result="$("$target/release/examples/token_load" "$url" "$concurrency" "$seconds" "$max")"
after="$(cpu_ticks)"
echo "$result"
ok="$(sed -n 's/^token endpoint: \([0-9]*\) ok.*/\1/p' <<<"$result")"
hz="$(getconf CLK_TCK)"
if [[ -n "$ok" && "$ok" -gt 0 ]]; then
    awk -v t="$((after - before))" -v hz="$hz" -v n="$ok" 'BEGIN {
        us = t / hz * 1e6 / n
        printf "server CPU: %.1f s for %d requests = %.1f us/request, i.e. about %.0f requests/second per fully free core\n", t / hz, n, us, 1e6 / us }'
fi
echo "server memory after load: RSS $(rss VmRSS), peak RSS $(rss VmHWM)"
echo "load average before/after: $(cut -d' ' -f1-3 /proc/loadavg) (other processes share these cores)"
echo "cores: $(nproc); the load generator runs on the same machine"
