//! "Sign in on another device" from the real window: when the browser
//! cannot be opened the reconnect offers the device-code way first; the
//! card shows the page (as text and as a QR code) and the user code; the
//! test plays the other device through the demo simulator's control API
//! (approve for the account's user, decline, or a tenant policy that blocks
//! the flow), and the card ends the way the sign-in did. Needs Xvfb,
//! tauri-driver, WebKitWebDriver and a Secret Service (run through
//! scripts/test.sh).

mod app_support;

use app_support::App;
use reconnect_sim::{ControlClient, TenantPolicy};
use serde_json::json;

/// What the card shows while waiting for the other device.
struct Shown {
    user_code: String,
    url: String,
}

impl Shown {
    /// The control API of the simulator the shown page belongs to.
    fn simulator(&self) -> ControlClient {
        let base = self
            .url
            .strip_suffix("/devicelogin")
            .unwrap_or_else(|| panic!("the simulator's device page: {}", self.url));
        ControlClient::new(base).expect("the simulator's control API")
    }
}

/// Waits for the code panel on `card` and reads the code and the page.
async fn shown_code(app: &App, card: &str) -> Shown {
    let panel = format!("{card} .reconnect.running .device-code");
    app.wait_for(&format!("{panel} .device-qr svg[role='img'] path"))
        .await;
    app.wait_for(&format!("{card} .reconnect.running .countdown"))
        .await;
    app.wait_for(&format!("{panel} button.copy-code")).await;
    let user_code = app.text(&format!("{panel} .user-code")).await;
    let url = app.text(&format!("{panel} .device-url")).await;
    assert!(
        user_code.len() >= 8 && user_code.chars().all(|c| c.is_ascii_alphanumeric()),
        "a code to type: {user_code:?}"
    );
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/devicelogin"),
        "the demo simulator's device page: {url}"
    );
    let progress = app.text(&format!("{card} .reconnect.running")).await;
    assert!(
        progress.contains("on the other device") && progress.contains("valid for 15 minutes"),
        "{progress}"
    );
    Shown { user_code, url }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn a_browser_that_cannot_open_leads_to_another_device_and_the_card_ends_healthy() {
    // A browser command that exits 1 at once.
    let app = App::start(&[
        ("RECONNECT_PROFILE", "demo"),
        ("RECONNECT_BROWSER", "false"),
    ])
    .await;
    let card = "li.card[data-name='carlos-crm']";
    app.wait_for(&format!("{card}[data-health='reconnect_needed']"))
        .await;
    app.click(&format!("{card} button.reconnect-button")).await;
    app.wait_for(&format!("{card} .reconnect.running .reconnect-problem"))
        .await;
    // The other device is now the way offered first.
    let offer = format!("{card} .reconnect.running button.device-button.primary");
    app.wait_for(&offer).await;
    let running = app.text(&format!("{card} .reconnect.running")).await;
    assert!(
        running.contains("Sign in on another device") && running.contains("with a code"),
        "{running}"
    );
    app.click(&offer).await;

    let shown = shown_code(&app, card).await;
    let show = "document.querySelector(arguments[0]).scrollIntoView({ block: 'center' });";
    let panel = format!("{card} .device-code");
    app.client
        .execute(show, vec![json!(panel)])
        .await
        .expect("the code panel scrolls into view");
    app.screenshot("app-device-code").await;
    let approved = shown
        .simulator()
        .approve_device_code(&shown.user_code, "carlos@contoso.test")
        .await
        .expect("the simulator approves the shown code");
    assert_eq!(approved.user_code, shown.user_code);

    app.wait_for(&format!("{card}[data-health='healthy']"))
        .await;
    let text = app.text(card).await;
    assert!(
        !text.contains("AADSTS50173"),
        "the old failure is gone: {text}"
    );
    let detail = app
        .invoke("account_detail", json!({ "name": "carlos-crm" }))
        .await;
    let newest = &detail["ok"]["timeline"][0];
    assert!(
        newest["kind"] == "signin" && newest["ok"] == true,
        "the sign-in is the newest attempt: {detail}"
    );
    // Only the user code and the page reached the webview.
    let html: String = app.client.source().await.expect("page source");
    assert!(!html.contains("device_code"), "no device code in the page");
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn a_declined_or_blocked_code_ends_with_the_decoded_reason() {
    let app = App::demo().await;

    // Declined on the other device: a cancellation, nothing changed.
    let card = "li.card[data-name='carlos-crm']";
    app.click(&format!("{card} button.device-button")).await;
    let shown = shown_code(&app, card).await;
    let sim = shown.simulator();
    sim.decline_device_code(&shown.user_code)
        .await
        .expect("the simulator declines the shown code");
    let result = app.text(&format!("{card} .reconnect-result")).await;
    assert!(
        result.contains("declined on the other device") && result.contains("Nothing was changed"),
        "{result}"
    );
    app.wait_for(&format!("{card}[data-health='reconnect_needed']"))
        .await;

    // The tenant's policy blocks the flow: an administrator must act.
    let blocked = TenantPolicy {
        block_device_code: true,
    };
    sim.set_tenant_policy(
        &reconnect_sim::tenant::home_tenant("diego@contoso.test"),
        &blocked,
    )
    .await
    .expect("the policy is set");
    let other = "li.card[data-name='diego-teams']";
    app.click(&format!("{other} button.device-button")).await;
    let shown = shown_code(&app, other).await;
    assert!(
        sim.approve_device_code(&shown.user_code, "diego@contoso.test")
            .await
            .is_err(),
        "the policy refuses the approval"
    );
    let result = format!("{other} .reconnect-result.bad[data-outcome='needs_admin']");
    let text = app.text(&result).await;
    assert!(
        text.contains("Conditional Access") && text.contains("AADSTS53003"),
        "{text}"
    );
    app.close().await;
}
