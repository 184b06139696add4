#!/usr/bin/env bash
# Installs whatever Reconnect needs that is missing. Idempotent and quiet when
# everything is already there.
#   scripts/install-deps.sh          what the app needs to build and run
#   scripts/install-deps.sh --test   plus what the test suite needs
#   scripts/install-deps.sh --package  plus Tauri's CLI (scripts/package.sh)
set -euo pipefail
mode=${1:-run}
say() { printf '==> %s\n' "$*" >&2; }

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

install_debian() {
  local pkgs=(build-essential pkg-config ca-certificates curl file libssl-dev
    libwebkit2gtk-4.1-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
    xdg-utils dbus gnome-keyring libsecret-tools libglib2.0-bin)
  # Without a display (servers, CI) the app runs under Xvfb.
  pkgs+=(xvfb xauth imagemagick)
  if [ "$mode" = "--test" ]; then
    pkgs+=(dbus-x11 dbus-bin webkit2gtk-driver chromium chromium-driver python3-venv python3-pip x11-utils)
    # systemd-analyze checks the keeper's user unit; git (Debian's) speaks to reconnect credential.
    pkgs+=(systemd git)
    # Node.js runs the independent OpenID provider (tests/peers/oidc-provider);
    # Debian's packages only when there is no node at all.
    if ! command -v node >/dev/null; then
      pkgs+=(nodejs npm)
    elif ! command -v npm >/dev/null; then
      pkgs+=(npm)
    fi
  fi
  # Tauri's CLI, which builds the Debian package, comes from npm (install_tauri_cli).
  if [ "$mode" != run ] && ! command -v npm >/dev/null; then
    pkgs+=(npm)
  fi
  local missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing system packages: ${missing[*]}"
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

case "$(uname -s)" in
  Linux)
    if command -v apt-get >/dev/null; then
      install_debian
    else
      say "not Debian/Ubuntu: install the Tauri 2 Linux prerequisites (webkit2gtk 4.1, libayatana-appindicator, librsvg, openssl, a Secret Service such as gnome-keyring) with your package manager."
    fi ;;
  Darwin)
    xcode-select -p >/dev/null 2>&1 || { say "installing the Xcode command line tools"; xcode-select --install || true; } ;;
  MINGW*|MSYS*|CYGWIN*)
    say "Windows: needs the Microsoft C++ Build Tools and the WebView2 runtime (preinstalled on Windows 10/11)." ;;
esac

if ! command -v cargo >/dev/null; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    say "installing the Rust toolchain with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
fi

if [ "$mode" = "--test" ]; then
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
  if ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
    say "installing tauri-driver"
    cargo install tauri-driver --version '^2' --locked --quiet
  fi
fi

# An npm project of ours (DIR, holding package.json and package-lock.json),
# installed in place with `npm ci` when node_modules is missing or was
# installed from another lockfile; WHAT names it in messages.
npm_project() {
  local dir="$1" what="$2"
  [ -f "$dir/package-lock.json" ] || return 0
  if ! command -v npm >/dev/null; then
    say "npm is missing: install Node.js 18 or later with npm for $what"
    return 1
  fi
  if [ -d "$dir/node_modules" ] \
    && cmp -s "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json"; then
    return 0
  fi
  say "installing $what (npm ci in ${dir#"$root"/})"
  (cd "$dir" && npm ci --silent --no-audit --no-fund >/dev/null) || return 1
  cp "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json"
}

root="$(cd "$(dirname "$0")/.." && pwd)"
# The independent OpenID provider the tests run (tests/peers/oidc-provider).
if [ "$mode" = "--test" ]; then
  npm_project "$root/tests/peers/oidc-provider" "the OpenID provider peer" \
    || say "the OpenID provider peer is missing: its tests will fail"
fi

# Tauri's CLI, for its bundler (scripts/package.sh): the npm package carries a
# prebuilt binary, pinned in tools/tauri-cli; installed there, never globally.
install_tauri_cli() {
  npm_project "$root/tools/tauri-cli" "Tauri's CLI"
}

case "$mode" in
  --package) install_tauri_cli ;;
  # Without it only the package step fails, not the whole test run.
  --test) install_tauri_cli || say "Tauri's CLI is missing: the package step will fail" ;;
esac
