#!/usr/bin/env bash
# What the sign-in browser tests need beyond the lead's CI set-up:
# - tests/tests/signin_browser.rs drives Debian's headless Chromium through
#   /usr/bin/chromedriver (packages chromium + chromium-driver, which the
#   main CI script installs; installed here only if missing);
# - the scripted sign-in tests use curl as their "browser".
# The tests themselves run with the rest, under scripts/with-session.sh.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# chromedriver refuses a Chromium of another major version; say so plainly.
chromium_major=$(/usr/bin/chromium --version 2>/dev/null | grep -oE '[0-9]+' | head -1)
driver_major=$(/usr/bin/chromedriver --version 2>/dev/null | grep -oE '[0-9]+' | head -1)
if [ "$chromium_major" != "$driver_major" ]; then
  echo "chromium $chromium_major and chromedriver $driver_major differ; install matching packages" >&2
  exit 1
fi
echo "browser tests: chromium $chromium_major with a matching chromedriver, curl present"
