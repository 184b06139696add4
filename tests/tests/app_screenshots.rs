//! Screenshots of the main views of the demo profile. With
//! `RECONNECT_UPDATE_SCREENSHOTS=1` they replace `docs/screenshots/` (linked
//! from the README); otherwise they go to `artifacts/screenshots/`:
//!
//!     RECONNECT_UPDATE_SCREENSHOTS=1 scripts/with-session.sh \
//!       xvfb-run -a -s "-screen 0 1280x800x24" \
//!       cargo test -p reconnect-e2e --test app_screenshots -- --ignored
//!
//! It also checks that each view rendered what the picture is meant to show.

mod app_support;

use app_support::App;
use reconnect_e2e::harness::workspace_root;
use reconnect_e2e::window::artifacts_dir;
use serde_json::json;

async fn save(app: &App, name: &str) {
    let png = app.client.screenshot().await.expect("screenshot");
    let dir = if std::env::var_os("RECONNECT_UPDATE_SCREENSHOTS").is_some() {
        workspace_root().join("docs/screenshots")
    } else {
        artifacts_dir().join("screenshots")
    };
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service"]
async fn screenshots_of_the_main_views() {
    let app = App::demo().await;
    app.client.set_window_size(1280, 860).await.unwrap();
    save(&app, "dashboard").await;

    app.go("#/account/carlos-crm").await;
    app.wait_for("#view-detail .diagnostics pre").await;
    save(&app, "account-detail").await;

    // Three accounts failing alike make a spike.
    for name in ["adele-mail", "bianca-files"] {
        let r = app
            .invoke(
                "tester_break",
                json!({ "name": name, "kind": "revoked", "code": null }),
            )
            .await;
        assert!(r.get("ok").is_some(), "{r}");
    }
    app.go("#/failures").await;
    app.wait_for("#spike-banner:not([hidden])").await;
    app.wait_for("#view-failures svg.chart rect").await;
    save(&app, "failures").await;

    app.go("#/decode").await;
    app.fill("#decode-input", "AADSTS50076").await;
    app.click("#decode-run").await;
    app.wait_for("#decode-output .verdict").await;
    save(&app, "decode").await;

    app.go("#/tester").await;
    app.wait_for("#view-tester tr[data-name='adele-mail']")
        .await;
    save(&app, "tester").await;
    app.close().await;

    // The reconnect in progress: a "browser" that stays open for a while
    // without signing in, so the app waits with its countdown.
    let app = App::start(&[
        ("RECONNECT_PROFILE", "demo"),
        ("RECONNECT_BROWSER", "sh -c 'sleep 30' browser"),
    ])
    .await;
    let card = "li.card[data-name='carlos-crm']";
    app.wait_for(&format!("{card}[data-health='reconnect_needed']"))
        .await;
    app.click(&format!("{card} button.reconnect-button")).await;
    app.wait_for(&format!("{card} .reconnect.running .countdown"))
        .await;
    app.wait_for(&format!("{card} .reconnect.running button.copy-link"))
        .await;
    save(&app, "reconnect").await;
    app.click(&format!("{card} .reconnect.running button.cancel"))
        .await;
    app.close().await;
}
