#!/usr/bin/env bash
# Quick start, part two: installs what is missing and runs every check and test:
# fmt, clippy, the core dependency rule, all unit/integration/end-to-end tests
# (under Xvfb and a private D-Bus session with an unlocked gnome-keyring), the
# peer-tool checks in scripts/ci/, and a bounded run of the run command.
# Ends with a summary: every step and test binary, pass or fail, and its time.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/install-deps.sh --test
export PATH="$HOME/.cargo/bin:$PATH" CARGO_TERM_COLOR=never

mkdir -p artifacts
summary="$root/artifacts/test-summary.tsv"
: >"$summary"
# One line per step or test binary: name, exit status, seconds, keyring restarts.
export RECONNECT_TEST_SUMMARY="$summary"

# Runs one step, records it, and keeps going when it fails.
step() {
  local name=$1 started status=0
  shift
  printf '\n==> %s\n' "$name"
  started=$(date +%s)
  "$@" || status=$?
  printf '%s\t%s\t%s\t-\n' "$name" "$status" "$(($(date +%s) - started))" >>"$summary"
  return 0
}

report() {
  local failed=0 restarts=0
  printf '\n==> summary\n'
  while IFS=$'\t' read -r name status seconds kr; do
    local verdict=pass
    [ "$status" = 0 ] || { verdict=FAIL; failed=$((failed + 1)); }
    local note=""
    if [ "$kr" != "-" ] && [ "$kr" != 0 ]; then
      note="  (gnome-keyring died and was restarted $kr time(s))"
      restarts=$((restarts + kr))
    fi
    printf '%-4s %6ss  %s%s\n' "$verdict" "$seconds" "$name" "$note"
  done <"$summary"
  local total
  total=$(wc -l <"$summary")
  [ "$restarts" = 0 ] || printf 'gnome-keyring died %s time(s) in all (see the with-session lines)\n' "$restarts"
  printf 'summary: %s passed, %s failed\n' "$((total - failed))" "$failed"
  [ "$failed" = 0 ]
}

# Tests need a build; without one only the summary is worth printing.
built() {
  cargo build --quiet --workspace --bins
}

step "format" cargo fmt --all --check
step "clippy" cargo clippy --quiet --workspace --all-targets -- -D warnings
step "architecture" scripts/check-core-deps.sh
step "build" built
if ! tail -n 1 "$summary" | grep -q $'^build\t0\t'; then
  report
  exit 1
fi
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
export RECONNECT_BIN="$target_dir/debug/reconnect"

# Every test binary runs through scripts/with-session.sh (cargo's target
# runner): its own D-Bus session, unlocked gnome-keyring and throwaway
# HOME/XDG dirs, so binaries never share keychain state or a daemon. The
# runner records each binary in the summary.
host=$(rustc -vV | sed -n 's/^host: //p')
runner_var="CARGO_TARGET_$(printf '%s' "$host" | tr 'a-z-' 'A-Z_')_RUNNER"
printf '\n==> tests (real keychain, real window under Xvfb)\n'
env "$runner_var=$root/scripts/with-session.sh" xvfb-run -a -s "-screen 0 1280x800x24" \
  cargo test --workspace --no-fail-fast -- --include-ignored \
  || echo "cargo test: some test binaries failed (see the summary)"

for extra in scripts/ci/*.sh; do
  [ -e "$extra" ] || continue
  printf '\n==> %s\n' "$extra"
  xvfb-run -a -s "-screen 0 1280x800x24" scripts/with-session.sh bash "$extra" || true
done

bounded_run() {
  rm -f artifacts/run.png
  RECONNECT_TEST_SUMMARY='' RECONNECT_RUN_SECONDS=2 scripts/run.sh || return 1
  local colors
  colors=$(identify -format '%k' artifacts/run.png)
  [ "$colors" -gt 16 ] || { echo "the run command's window looks blank ($colors colours)"; return 1; }
  echo "run command: window painted ($colors colours in artifacts/run.png)"
}
step "run command (bounded)" bounded_run

# The Debian package (scripts/package.sh): what it holds, the command line it
# puts on PATH and the app its menu entry starts (screenshot:
# artifacts/package.png). In CI (CI=true), or with RECONNECT_PACKAGE_INSTALL=1,
# it is installed with dpkg -i; otherwise only unpacked into a temporary
# directory, so running the tests never installs a package behind your back.
package_check() {
  local deb listing path prefix="" status=0
  deb=$(scripts/package.sh | tail -n 1) && [ -f "$deb" ] || return 1
  listing=$(dpkg-deb -c "$deb")
  for path in usr/bin/reconnect-app usr/bin/reconnect usr/bin/git-credential-reconnect \
    usr/share/applications/Reconnect.desktop usr/share/icons/hicolor/128x128/apps/reconnect-app.png; do
    grep -Eq " (\./)?$path\$" <<<"$listing" || { echo "the package lacks /$path"; return 1; }
  done
  dpkg-deb -f "$deb" Package Version Depends
  if [ "${CI:-}" = true ] || [ "${RECONNECT_PACKAGE_INSTALL:-}" = 1 ]; then
    echo "installing $(basename "$deb") with dpkg -i"
    if [ "$(id -u)" -eq 0 ]; then dpkg -i "$deb"; else sudo dpkg -i "$deb"; fi || return 1
  else
    prefix=$(mktemp -d -t reconnect-deb.XXXXXX)
    echo "unpacked into $prefix, not installed (CI=true or RECONNECT_PACKAGE_INSTALL=1 installs it)"
    dpkg-deb -x "$deb" "$prefix"
  fi
  package_run "$prefix" || status=$?
  [ -z "$prefix" ] || rm -rf "$prefix"
  return "$status"
}

# The installed (or unpacked, under $1) command line, menu entry and app.
package_run() {
  local prefix=$1 desktop exec wm_class colors
  "$prefix/usr/bin/reconnect" --version || return 1
  "$prefix/usr/bin/git-credential-reconnect" --version || return 1
  desktop="$prefix/usr/share/applications/Reconnect.desktop"
  grep -qx 'Icon=reconnect-app' "$desktop" || { echo "the menu entry names another icon"; return 1; }
  exec=$(sed -n 's/^Exec=//p' "$desktop")
  [ "$exec" = reconnect-app ] || { echo "the menu entry runs '$exec', not reconnect-app"; return 1; }
  wm_class=$(sed -n 's/^StartupWMClass=//p' "$desktop")
  # What the menu runs, found on PATH as the desktop finds it, on the demo
  # profile in a private session; the window's WM_CLASS must be the entry's
  # StartupWMClass for docks and task bars to show the entry's icon.
  rm -f artifacts/package.png artifacts/package-wm-class.txt
  PATH="${prefix:+$prefix/usr/bin:}$PATH" EXEC="$exec" RECONNECT_PROFILE=demo RECONNECT_TEST_SUMMARY='' \
    xvfb-run -a -s "-screen 0 1280x800x24" scripts/with-session.sh bash -c '
      $EXEC & pid=$!
      sleep 8
      import -window root artifacts/package.png
      id=$(xwininfo -root -tree | sed -n "s/^ *\(0x[0-9a-f]*\) \"Reconnect\".*/\1/p" | head -n 1)
      [ -z "$id" ] || xprop -id "$id" WM_CLASS >artifacts/package-wm-class.txt
      kill $pid; wait $pid || true' || return 1
  colors=$(identify -format '%k' artifacts/package.png) || return 1
  [ "$colors" -gt 16 ] || { echo "the installed app's window looks blank ($colors colours)"; return 1; }
  echo "installed app: window painted ($colors colours in artifacts/package.png)"
  grep -qF "\"$wm_class\"" artifacts/package-wm-class.txt || {
    echo "the window's WM_CLASS is not the menu entry's StartupWMClass=$wm_class"
    cat artifacts/package-wm-class.txt
    return 1
  }
  echo "its $(cat artifacts/package-wm-class.txt) matches the menu entry's StartupWMClass"
}
step "package (deb)" package_check
report
