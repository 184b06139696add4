#!/usr/bin/env bash
# Architecture rule: reconnect-core is pure. Its normal dependency tree must not
# contain any IO crate (async runtime, HTTP, keychain, UI shell, web server, SQLite).
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(cargo tree -p reconnect-core -e normal --prefix none --format '{p}' | awk '{print $1}' | sort -u)
forbidden='^(tokio|reqwest|hyper|keyring|tauri|tauri-.*|axum|rusqlite|libsqlite3-sys|mio|reconnect-(oauth|store|engine|signin|sim|cli|app))$'
bad=$(printf '%s\n' "$tree" | grep -E "$forbidden" || true)
if [ -n "$bad" ]; then
  echo "reconnect-core must stay pure, but it depends on:" >&2
  printf '  %s\n' $bad >&2
  exit 1
fi
echo "core dependency rule: ok ($(printf '%s\n' "$tree" | wc -l) crates, none of them IO)"
