#!/usr/bin/env bash
# Builds Reconnect's Debian package with Tauri's bundler (its CLI, pinned in
# tools/tauri-cli, installed there by scripts/install-deps.sh):
#   /usr/bin/reconnect-app                       the desktop app
#   /usr/share/applications/Reconnect.desktop    its menu entry, with its icons
#   /usr/bin/reconnect, /usr/bin/git-credential-reconnect   the command line
# The package's settings are in src-tauri/tauri.conf.json (bundle). Release
# builds; honours CARGO_TARGET_DIR. Progress goes to stderr; the last line on
# stdout is the path of the .deb. Install it with `sudo dpkg -i PATH`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/install-deps.sh --package
export PATH="$HOME/.cargo/bin:$PATH"
tauri="$root/tools/tauri-cli/node_modules/.bin/tauri"

# Where cargo puts its output (CARGO_TARGET_DIR, build.target-dir or target/).
target_dir=$(cargo metadata --format-version 1 --no-deps \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
[ -n "$target_dir" ] || { echo "package.sh: cannot find cargo's target directory" >&2; exit 1; }

echo "==> building the command line (release)" >&2
cargo build --quiet --release -p reconnect-cli >&2

# tauri.conf.json names the CLI binaries under ../target/release; elsewhere,
# the same entries with the real target directory.
overrides=()
if [ "$target_dir" != "$root/target" ]; then
  overrides=(--config "{\"bundle\":{\"linux\":{\"deb\":{\"files\":{
    \"/usr/bin/reconnect\":\"$target_dir/release/reconnect\",
    \"/usr/bin/git-credential-reconnect\":\"$target_dir/release/git-credential-reconnect\"}}}}}")
fi

echo "==> building the app (release) and its Debian package" >&2
rm -rf "$target_dir/release/bundle/deb"
(cd src-tauri && "$tauri" build --ci --bundles deb "${overrides[@]}" -- --quiet) >&2

debs=("$target_dir"/release/bundle/deb/*.deb)
[ -f "${debs[0]}" ] && [ ${#debs[@]} -eq 1 ] \
  || { echo "package.sh: expected one .deb in $target_dir/release/bundle/deb" >&2; exit 1; }
echo "==> package: ${debs[0]}" >&2
echo "${debs[0]}"
