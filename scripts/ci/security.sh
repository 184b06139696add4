#!/usr/bin/env bash
# After every other test has written its artefacts (screenshots, driver
# logs): scan them once more for token-shaped text. The security suites
# themselves (tests/tests/security_*.rs) run in the main `cargo test` step.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo test --quiet -p reconnect-e2e --test security_artifacts -- --nocapture
