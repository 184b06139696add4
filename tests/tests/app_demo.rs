//! The demo profile on the real window: the dashboard's cards with health,
//! forecast and decoded reasons; a broken account's admin detail; the tester
//! panel breaking and restoring an account. Needs Xvfb, tauri-driver,
//! WebKitWebDriver and a Secret Service (run through scripts/test.sh).

mod app_support;

use app_support::App;
use fantoccini::Locator;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn demo_dashboard_shows_health_forecast_and_decoded_reasons() {
    let app = App::demo().await;
    app.screenshot("app-dashboard").await;

    let cards = app.client.find_all(Locator::Css("li.card")).await.unwrap();
    assert_eq!(cards.len(), 4, "the demo seeds four accounts");
    assert!(
        app.wait_for("#demo-banner")
            .await
            .is_displayed()
            .await
            .unwrap(),
        "the demo is labelled"
    );

    let healthy = app.text("li.card[data-name='adele-mail']").await;
    assert!(healthy.contains("Healthy"), "{healthy}");
    assert!(healthy.contains("adele@contoso.test"), "{healthy}");
    assert!(
        healthy.contains("if unused"),
        "a healthy card forecasts idle expiry: {healthy}"
    );

    for (name, code) in [
        ("bianca-files", "AADSTS700082"),
        ("carlos-crm", "AADSTS50173"),
        ("diego-teams", "AADSTS50076"),
    ] {
        let card = app.text(&format!("li.card[data-name='{name}']")).await;
        assert!(card.contains("Reconnect needed"), "{name}: {card}");
        assert!(
            card.contains(code),
            "{name} shows its decoded code {code}: {card}"
        );
        assert!(
            card.contains("Reconnect"),
            "{name} offers the Reconnect button: {card}"
        );
    }
    let revoked = app
        .text("li.card[data-name='carlos-crm'] .reason-text")
        .await;
    assert!(!revoked.trim().is_empty(), "the reason is in plain words");

    // Nothing secret reaches the webview.
    let list = app.invoke("list_accounts", json!({})).await;
    let html: String = app.client.source().await.unwrap();
    for text in [list.to_string(), html] {
        assert!(!text.contains("eyJ"), "a JWT reached the webview");
        assert!(
            !text.contains("refresh_token"),
            "a refresh token field reached the webview"
        );
    }
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn broken_account_detail_shows_verdict_raw_fields_diagnostics_and_claims() {
    let app = App::demo().await;
    app.click("li.card[data-name='carlos-crm'] a.details-link")
        .await;
    app.wait_for("#view-detail .verdict").await;

    let verdict = app.text("#view-detail .verdict").await;
    assert!(verdict.contains("AADSTS50173"), "{verdict}");
    assert!(
        app.text("#view-detail .who-acts").await.contains("you"),
        "the user acts on a revoked grant"
    );
    let raw = app.text("#view-detail table.raw").await;
    for field in ["Error", "Codes", "Trace ID", "Correlation ID", "Timestamp"] {
        assert!(raw.contains(field), "raw field {field} is listed: {raw}");
    }
    let copies = app
        .client
        .find_all(Locator::Css("#view-detail table.raw button.copy"))
        .await
        .unwrap();
    assert!(copies.len() >= 5, "each raw field has a copy button");

    let diagnostics = app.text("#view-detail .diagnostics pre").await;
    assert!(diagnostics.contains("AADSTS50173"), "{diagnostics}");
    assert!(diagnostics.contains("Correlation id:"), "{diagnostics}");
    assert!(
        !diagnostics.contains("carlos@"),
        "the user name is shortened: {diagnostics}"
    );
    app.click("#view-detail button.copy-diagnostics").await;
    app.wait_for("#view-detail button.copy-diagnostics[data-copied='true']")
        .await;

    let timeline = app.text("#view-detail .timeline").await;
    assert!(
        timeline.contains("failed") && timeline.contains("AADSTS50173"),
        "{timeline}"
    );
    let claims = app.text("#view-detail .token-facts").await;
    assert!(
        claims.contains("tid") && claims.contains("amr"),
        "non-secret claims are shown: {claims}"
    );

    let detail = app
        .invoke("account_detail", json!({ "name": "carlos-crm" }))
        .await;
    assert!(detail["ok"]["verdict"]["primary_code"] == 50173, "{detail}");
    assert!(
        !detail.to_string().contains("eyJ"),
        "no token in the detail: {detail}"
    );
    app.screenshot("app-detail").await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn tester_panel_breaks_an_account_and_restores_it() {
    let app = App::demo().await;
    app.go("#/tester").await;
    let row = "#view-tester tr[data-name='adele-mail']";
    app.choose(&format!("{row} select.break-kind"), "mfa").await;
    app.click(&format!("{row} button.break")).await;

    app.go("#/").await;
    app.wait_for("li.card[data-name='adele-mail'][data-health='reconnect_needed']")
        .await;
    let card = app.text("li.card[data-name='adele-mail']").await;
    assert!(
        card.contains("AADSTS50076"),
        "the dashboard shows the new MFA requirement: {card}"
    );

    app.go("#/tester").await;
    app.click(&format!("{row} button.restore")).await;
    app.go("#/").await;
    app.wait_for("li.card[data-name='adele-mail'][data-health='healthy']")
        .await;

    // "Make the next refresh fail with code N" works without the simulator:
    // the engine takes the armed code as the token endpoint's answer. A
    // disabled user (50057) is for an admin, so nothing retries it.
    let armed = app
        .invoke(
            "tester_fail_next",
            json!({ "name": "adele-mail", "code": 50057 }),
        )
        .await;
    assert!(armed.get("ok").is_some(), "{armed}");
    app.go("#/tester").await;
    app.wait_for(&format!("{row} .badge.armed")).await;
    app.click(&format!("{row} button.refresh-now")).await;
    app.go("#/").await;
    app.wait_for("li.card[data-name='adele-mail'][data-health='needs_admin']")
        .await;
    let card = app.text("li.card[data-name='adele-mail']").await;
    assert!(card.contains("AADSTS50057"), "{card}");
    // The timeline records the attempt, marked as armed locally.
    app.go("#/account/adele-mail").await;
    app.wait_for("#view-detail .timeline li.event.bad").await;
    let timeline = app.text("#view-detail .timeline").await;
    assert!(
        timeline.contains("AADSTS50057") && timeline.contains("nothing was sent"),
        "{timeline}"
    );
    // The armed code is used up: the next refresh is real and works.
    let state = app.invoke("tester_state", json!({})).await;
    let adele = state["ok"]["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["name"] == "adele-mail"))
        .cloned()
        .unwrap_or_default();
    assert!(adele["fail_next"].is_null(), "{state}");
    app.go("#/tester").await;
    app.click(&format!("{row} button.refresh-now")).await;
    app.go("#/").await;
    app.wait_for("li.card[data-name='adele-mail'][data-health='healthy']")
        .await;

    // A code a reconnect fixes gets the engine's single retry first: the card
    // shows the decoded reason while it waits, and the retry a minute later
    // (the demo's clock is moved past it here) is a real request that works.
    let armed = app
        .invoke(
            "tester_fail_next",
            json!({ "name": "adele-mail", "code": 50173 }),
        )
        .await;
    assert!(armed.get("ok").is_some(), "{armed}");
    app.go("#/tester").await;
    app.wait_for(&format!("{row} .badge.armed")).await;
    app.click(&format!("{row} button.refresh-now")).await;
    app.go("#/").await;
    app.wait_for("li.card[data-name='adele-mail'][data-health='retrying']")
        .await;
    let card = app.text("li.card[data-name='adele-mail']").await;
    assert!(card.contains("AADSTS50173"), "{card}");
    let advanced = app
        .invoke("tester_advance_clock", json!({ "seconds": 61 }))
        .await;
    assert!(advanced["ok"].is_i64(), "{advanced}");
    app.wait_for("li.card[data-name='adele-mail'][data-health='healthy']")
        .await;

    // Outages and the clock are driven from the same panel.
    let advanced = app
        .invoke("tester_advance_clock", json!({ "seconds": 3600 }))
        .await;
    assert!(advanced["ok"].is_i64(), "{advanced}");
    let state = app.invoke("tester_state", json!({})).await;
    assert!(
        state["ok"]["clock_offset_seconds"].as_i64().unwrap() >= 91 * 86_400 + 3600,
        "{state}"
    );
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn restoring_an_idle_break_brings_back_the_ninety_day_forecast() {
    let app = App::demo().await;
    app.go("#/tester").await;
    let row = "#view-tester tr[data-name='adele-mail']";
    app.choose(&format!("{row} select.break-kind"), "idle")
        .await;
    app.click(&format!("{row} button.break")).await;
    app.go("#/").await;
    app.wait_for("li.card[data-name='adele-mail'][data-health='reconnect_needed']")
        .await;
    let card = app.text("li.card[data-name='adele-mail']").await;
    assert!(card.contains("AADSTS700082"), "{card}");

    // The break taught the engine a 1-second idle limit; restoring the
    // tenant's policy must not leave the card forecasting death in seconds.
    app.go("#/tester").await;
    app.click(&format!("{row} button.restore")).await;
    app.go("#/").await;
    app.wait_for("li.card[data-name='adele-mail'][data-health='healthy']")
        .await;
    let forecast = app.text("li.card[data-name='adele-mail'] .forecast").await;
    assert!(
        forecast.contains("days if unused"),
        "the forecast is back to the default idle limit: {forecast}"
    );
    app.close().await;
}
