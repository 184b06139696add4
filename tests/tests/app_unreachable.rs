//! Lasting network trouble on the real window: in the demo profile the
//! simulator drops every connection, the demo's clock moves on past an hour
//! of failed attempts, and the card says "Can't reach the sign-in service",
//! with the cause and who acts (you or your IT), never "Reconnect needed";
//! once the outage ends, the next attempt clears it. Needs Xvfb,
//! tauri-driver, WebKitWebDriver and a Secret Service (run through
//! scripts/test.sh).

mod app_support;

use app_support::App;
use fantoccini::Locator;
use serde_json::{Value, json};

const CARD: &str = "li.card[data-name='adele-mail']";

/// The dashboard's view of adele-mail, as the backend gives it.
async fn adele(app: &App) -> Value {
    let list = app.invoke("list_accounts", json!({})).await;
    list["ok"]["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["name"] == "adele-mail"))
        .cloned()
        .unwrap_or_else(|| panic!("adele-mail is listed: {list}"))
}

/// Moves the demo's clock on (the scheduler runs once right after).
async fn advance(app: &App, seconds: i64) {
    let advanced = app
        .invoke("tester_advance_clock", json!({ "seconds": seconds }))
        .await;
    assert!(advanced["ok"].is_i64(), "{advanced}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn the_card_names_a_sign_in_service_out_of_reach_and_who_acts() {
    let app = App::demo().await;
    app.go("#/tester").await;
    app.choose("#outage-kind", "drop").await;
    app.click("#outage-start").await;
    app.wait_for("#view-tester .outage-on").await;
    app.click("#view-tester tr[data-name='adele-mail'] button.refresh-now")
        .await;
    app.go("#/").await;
    app.wait_for(&format!("{CARD}[data-health='retrying']"))
        .await;

    // Over an hour of dropped connections, a retry every so often.
    let mut health = adele(&app).await["health"].clone();
    for _ in 0..8 {
        if health == "unreachable" {
            break;
        }
        assert_eq!(health, "retrying", "{}", adele(&app).await);
        advance(&app, 1300).await;
        health = adele(&app).await["health"].clone();
    }
    let view = adele(&app).await;
    assert_eq!(view["health"], "unreachable", "{view}");
    assert_eq!(view["standing"], "needs_attention", "{view}");
    assert_eq!(view["suggest_reconnect"], false, "{view}");
    let cause = view["reason"]["title"]
        .as_str()
        .expect("a cause")
        .to_owned();

    app.wait_for(&format!("{CARD}[data-health='unreachable']"))
        .await;
    let card = app.text(CARD).await;
    assert!(card.contains("Can't reach the sign-in service"), "{card}");
    assert!(card.contains(&cause), "the cause in words: {card}");
    assert!(card.contains("who acts: you or your IT"), "{card}");
    assert!(!card.contains("Reconnect needed"), "{card}");
    let buttons = app
        .client
        .find_all(Locator::Css(&format!("{CARD} .reconnect-button")))
        .await
        .unwrap();
    assert!(
        buttons.is_empty(),
        "a sign-in does not fix a network: {card}"
    );
    let summary = app.wait_for("#summary[data-needs-attention='4']").await;
    let summary = summary.text().await.unwrap();
    assert!(summary.contains("4 need attention"), "{summary}");
    app.screenshot("app-unreachable").await;

    // The outage ends: the next attempt (the long wait later) clears it.
    let ended = app.invoke("tester_outage", json!({ "kind": null })).await;
    assert!(ended.get("ok").is_some(), "{ended}");
    advance(&app, 3600).await;
    app.wait_for(&format!("{CARD}[data-health='healthy']"))
        .await;
    let card = app.text(CARD).await;
    assert!(!card.contains("Can't reach"), "{card}");
    app.close().await;
}
