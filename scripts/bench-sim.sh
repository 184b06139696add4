#!/usr/bin/env bash
# Load benchmark of the simulator's token endpoint on loopback.
#
# Builds `reconnect` and the load generator (example `token_load` of the sim
# crate) in release, starts
#   reconnect sim serve --addr 127.0.0.1:0 --app bench-client
# (`--app bench-client`: the strict simulator refuses apps nobody registered,
# and bench-client is the load generator's client id) and keeps CONCURRENCY
# keep-alive connections busy redeeming refresh tokens (grant_type=
# refresh_token, Graph User.Read + offline_access) for SECONDS.
# Prints: concurrency, duration, requests, requests/second, p50/p99 latency,
# errors, the server's CPU time per request and what that makes per core, the
# server's RSS idle and after the run, and the load average (other processes
# share the cores: read the figures next to it). Only 127.0.0.1 is used.
#
#   scripts/bench-sim.sh [CONCURRENCY=32] [SECONDS=10]
#
# BENCH_PIN=split puts the server on CPU 0 and the load generator on CPU 1
# (taskset), so the client cannot take the server's core; the default lets
# the scheduler share every core between them. RECONNECT_BIN skips the build
# of `reconnect` and uses that binary.
set -euo pipefail

concurrency="${1:-32}"
seconds="${2:-10}"
pin="${BENCH_PIN:-none}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"

cd "$root"
if [[ -z "${RECONNECT_BIN:-}" ]]; then
    cargo build --release -p reconnect-cli --bin reconnect
fi
bin="${RECONNECT_BIN:-$target/release/reconnect}"
cargo build --release -p reconnect-sim --example token_load
load="$target/release/examples/token_load"

server_cpus=()
load_cpus=()
case "$pin" in
    split)
        if ! command -v taskset >/dev/null || [[ "$(nproc)" -lt 2 ]]; then
            echo "bench-sim.sh: BENCH_PIN=split needs taskset and two CPUs" >&2
            exit 1
        fi
        server_cpus=(taskset -c 0)
        load_cpus=(taskset -c 1)
        ;;
    none) ;;
    *)
        echo "bench-sim.sh: BENCH_PIN is 'split' or 'none', not '$pin'" >&2
        exit 1
        ;;
esac

out="$(mktemp)"
"${server_cpus[@]}" "$bin" sim serve --addr 127.0.0.1:0 --app bench-client >"$out" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 100); do
    [[ -s "$out" ]] && break
    sleep 0.1
done
url="$(sed -n 's/.*"http_url": *"\([^"]*\)".*/\1/p' "$out" | head -n 1)"
[[ -n "$url" ]] || { echo "bench-sim.sh: the simulator printed no URL" >&2; exit 1; }

rss() { awk -v k="$1" '$1 == k":" { printf "%.1f MiB", $2 / 1024 }' "/proc/$pid/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
hz="$(getconf CLK_TCK)"

echo "simulator: $url (pid $pid), $(nproc) cores, pinning: $pin"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server RSS idle: $(rss VmRSS)"
before="$(cpu_ticks)"
result="$("${load_cpus[@]}" "$load" "$url" "$concurrency" "$seconds")"
after="$(cpu_ticks)"
echo "$result"
ok="$(sed -n 's/^requests: \([0-9]*\) ok.*/\1/p' <<<"$result")"
if [[ -n "$ok" && "$ok" -gt 0 ]]; then
    awk -v t="$((after - before))" -v hz="$hz" -v n="$ok" 'BEGIN {
        s = t / hz; us = s * 1e6 / n
        printf "server CPU: %.2f s for %d requests = %.1f us/request, i.e. %.0f requests/second per core the server has to itself\n", s, n, us, 1e6 / us }'
fi
echo "server RSS after the run: $(rss VmRSS) (peak $(rss VmHWM))"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
