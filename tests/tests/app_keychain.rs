//! The keychain going away under the running app: the dashboard says so
//! (locked, or cannot be reached) on a banner, keeps showing each card's
//! last known health instead of marking anything broken, and drops the
//! banner once the keychain is back. The app runs on a D-Bus bus of the
//! test's own, whose gnome-keyring the test locks, kills and restarts.
//! Needs Xvfb, tauri-driver, WebKitWebDriver, `dbus-daemon`, `gdbus` and
//! gnome-keyring (run through scripts/test.sh).

mod app_support;

use app_support::App;
use reconnect_e2e::keyring::Keyring;
use serde_json::{Value, json};

/// The health of every card, by account name.
async fn healths(app: &App) -> Vec<(String, String)> {
    let list = app.invoke("list_accounts", json!({})).await;
    let mut out: Vec<(String, String)> = list["ok"]["accounts"]
        .as_array()
        .unwrap_or_else(|| panic!("list_accounts answered {list}"))
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap_or_default().to_owned(),
                a["health"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Goes to another view and back, as a user would, so the dashboard loads
/// again (it also reloads on its own every 30 s).
async fn revisit_dashboard(app: &App) {
    app.go("#/decode").await;
    app.wait_for("#view-decode:not([hidden])").await;
    app.go("#/").await;
}

async fn keychain_state(app: &App) -> Value {
    app.invoke("list_accounts", json!({})).await["ok"]["keychain"].clone()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver, dbus-daemon and gnome-keyring: run through scripts/test.sh"]
async fn a_locked_or_vanished_keychain_is_shown_and_clears_once_it_is_back() {
    let mut keyring = Keyring::start();
    let bus = keyring.address().to_owned();
    let app = App::start(&[
        ("RECONNECT_PROFILE", "demo"),
        ("DBUS_SESSION_BUS_ADDRESS", bus.as_str()),
    ])
    .await;
    for name in ["bianca-files", "carlos-crm", "diego-teams"] {
        app.wait_for(&format!(
            "li.card[data-name='{name}'][data-health='reconnect_needed']"
        ))
        .await;
    }
    app.wait_for("li.card[data-name='adele-mail'][data-health='healthy']")
        .await;
    let before = healths(&app).await;
    assert_eq!(keychain_state(&app).await["state"], "available");
    assert!(
        !app.wait_for("#keychain-banner")
            .await
            .is_displayed()
            .await
            .unwrap(),
        "no banner while the keychain works"
    );

    // Locked: the banner says so and what to do; nothing is marked broken.
    keyring.lock();
    revisit_dashboard(&app).await;
    let shown = app.wait_for("#keychain-banner[data-state='locked']").await;
    assert!(shown.is_displayed().await.unwrap(), "the banner is visible");
    let banner = app.text("#keychain-banner").await;
    assert!(
        banner.contains("locked") && banner.contains("Unlock"),
        "the banner says the keychain is locked and how to unlock it: {banner}"
    );
    assert!(
        banner.contains("last known"),
        "the banner says the health is the last known: {banner}"
    );
    assert_eq!(healths(&app).await, before, "no card changed its health");
    // Let the page paint the banner before the picture is taken.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    app.screenshot("app-keychain-locked").await;

    // Gone: gnome-keyring killed outright.
    keyring.kill();
    revisit_dashboard(&app).await;
    app.wait_for("#keychain-banner[data-state='unavailable']")
        .await;
    let banner = app.text("#keychain-banner").await;
    assert!(
        banner.contains("cannot be reached"),
        "the banner says the keychain cannot be reached: {banner}"
    );
    assert_eq!(healths(&app).await, before, "no card changed its health");

    // Back, unlocked: the banner goes and the tokens are usable again.
    keyring.up();
    revisit_dashboard(&app).await;
    app.wait_for("#keychain-banner[data-state='available'][hidden]")
        .await;
    let refreshed = app
        .invoke("refresh_now", json!({ "name": "adele-mail" }))
        .await;
    assert!(
        refreshed.get("err").is_none(),
        "a refresh works once the keychain is back: {refreshed}"
    );
    app.wait_for("li.card[data-name='adele-mail'][data-health='healthy']")
        .await;
    app.close().await;
}
