//! What the whole suite leaves behind holds no token: the `artifacts/`
//! directory (screenshots, driver logs) and the screenshots under
//! `docs/screenshots/` are scanned for token-shaped text (signed JWTs, which
//! is what every access, id and refresh token of the simulator is), in their
//! raw bytes, so PNG text chunks count too.
//!
//! Runs in the main test step and again from `scripts/ci/security.sh` after
//! every other test has written its artefacts.

use reconnect_e2e::harness::workspace_root;
use reconnect_e2e::secrets::{ScanReport, token_shapes_under};

#[test]
fn artifacts_and_screenshots_hold_no_token() {
    let root = workspace_root();
    let mut report = ScanReport::default();
    for dir in ["artifacts", "docs/screenshots"] {
        report.merge(token_shapes_under(&root.join(dir)).expect("readable artefacts"));
    }
    report.assert_clean("in artifacts/ and docs/screenshots/");
}
