#!/usr/bin/env bash
# Quick start, part two: installs what is missing and runs every check and test:
# fmt, clippy, the core dependency rule, all unit/integration/end-to-end tests
# (under Xvfb and a private D-Bus session with an unlocked gnome-keyring), the
# peer-tool checks in scripts/ci/, and a bounded run of the run command.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/install-deps.sh --test
export PATH="$HOME/.cargo/bin:$PATH" CARGO_TERM_COLOR=never
step() { printf '\n==> %s\n' "$*"; }

step "format"
cargo fmt --all --check
step "clippy"
cargo clippy --quiet --workspace --all-targets -- -D warnings
step "architecture"
scripts/check-core-deps.sh
step "build"
cargo build --quiet --workspace --bins
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
export RECONNECT_BIN="$target_dir/debug/reconnect"

step "tests (real keychain, real window under Xvfb)"
# Every test binary runs through scripts/with-session.sh (cargo's target
# runner): its own D-Bus session, unlocked gnome-keyring and throwaway
# HOME/XDG dirs, so binaries never share keychain state or a daemon.
host=$(rustc -vV | sed -n 's/^host: //p')
runner_var="CARGO_TARGET_$(printf '%s' "$host" | tr 'a-z-' 'A-Z_')_RUNNER"
export "$runner_var=$root/scripts/with-session.sh"
xvfb-run -a -s "-screen 0 1280x800x24" \
  cargo test --workspace --no-fail-fast -- --include-ignored
unset "$runner_var"

for extra in scripts/ci/*.sh; do
  [ -e "$extra" ] || continue
  step "$extra"
  xvfb-run -a -s "-screen 0 1280x800x24" scripts/with-session.sh bash "$extra"
done

step "run command (bounded)"
rm -f artifacts/run.png
RECONNECT_RUN_SECONDS=2 scripts/run.sh
colors=$(identify -format '%k' artifacts/run.png)
[ "$colors" -gt 16 ] || { echo "the run command's window looks blank ($colors colours)"; exit 1; }
echo "run command: window painted ($colors colours in artifacts/run.png)"
