//! The keychain going away under the running app: the dashboard says so
//! (locked, or cannot be reached) on a banner, keeps showing each card's
//! last known health instead of marking anything broken, and drops the
//! banner once the keychain is back. The app runs on a D-Bus bus of the
//! test's own, whose gnome-keyring the test locks, kills and restarts.
//! Needs Xvfb, tauri-driver, WebKitWebDriver, `dbus-daemon`, `gdbus` and
//! gnome-keyring (run through scripts/test.sh).

mod app_support;

use std::process::{Command, Stdio};

use app_support::{App, PATIENCE};
use reconnect_e2e::grants::{self, CLIENT_ID as CLIENT};
use reconnect_e2e::harness::{Paused, TempHome, assert_success, binary};
use reconnect_e2e::keyring::Keyring;
use reconnect_sim::{RunningSim, SimConfig, Simulator};
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

/// A data directory with one account, `idp`: an OpenID provider (the
/// simulator's issuer) whose refresh tokens rotate, connected by import,
/// used by `reconnect` processes on the keyring's bus.
struct CliProfile {
    home: TempHome,
    bus: String,
    sim: RunningSim,
}

impl CliProfile {
    async fn connect(keyring: &Keyring) -> Self {
        let sim = Simulator::start(SimConfig {
            apps: vec![grants::app()],
            ..SimConfig::default()
        })
        .await
        .expect("simulator");
        let profile = Self {
            home: TempHome::new(),
            bus: keyring.address().to_owned(),
            sim,
        };
        let issuer = format!(
            "{}/{}/v2.0",
            profile.sim.http_url,
            profile.sim.state.tenant_of("alice@contoso.test")
        );
        let out = profile
            .command(&[
                "add",
                "idp",
                "--provider",
                "oidc",
                "--authority",
                &issuer,
                "--client-id",
                CLIENT,
            ])
            .output()
            .expect("add");
        assert_success(&out, "add");
        let mut command = profile.home.command(binary("reconnect"));
        command.env("DBUS_SESSION_BUS_ADDRESS", &profile.bus);
        grants::import(command, &profile.sim, "idp", "alice@contoso.test");
        profile
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.home.command(binary("reconnect"));
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }
}

/// Whether the card of `name` reports unsaved credentials.
async fn unsaved(app: &App, name: &str) -> bool {
    let list = app.invoke("list_accounts", json!({})).await;
    list["ok"]["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["name"] == name)
        .and_then(|a| a["unsaved_credentials"].as_bool())
        .unwrap_or_else(|| panic!("no card for {name}: {list}"))
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver, dbus-daemon and gnome-keyring: run through scripts/test.sh"]
async fn unsaved_credentials_show_on_the_card_until_a_save_succeeds() {
    let mut keyring = Keyring::start();
    let profile = CliProfile::connect(&keyring).await;
    // `reconnect token` refreshes (the provider rotates the refresh token)
    // and the keychain locks before the new set is written.
    let paused = Paused::spawn(
        profile
            .command(&["token", "idp"])
            .env("RECONNECT_TEST_CLOCK_OFFSET", "7200")
            .env("RECONNECT_TEST_PAUSE_AT", "response")
            .env("RECONNECT_TEST_PAUSE_MS", "3000"),
        "response",
    );
    keyring.lock();
    let out = paused.wait();
    assert!(
        !out.status.success() && out.stdout.is_empty(),
        "no token is handed out"
    );

    // The app opens on that profile with the keychain still locked.
    let dir = profile.home.reconnect_home();
    let app = App::start(&[
        ("RECONNECT_PROFILE", "default"),
        ("RECONNECT_HOME", dir.to_str().expect("utf-8 path")),
        ("DBUS_SESSION_BUS_ADDRESS", profile.bus.as_str()),
    ])
    .await;
    let line = app
        .text("li.card[data-name='idp'][data-attention='true'] .unsaved")
        .await;
    assert!(line.contains("Unsaved credentials"), "{line}");

    // The keychain is back: the app's scheduler stores a new set and the
    // card clears.
    keyring.kill();
    keyring.up();
    let deadline = std::time::Instant::now() + PATIENCE;
    while unsaved(&app, "idp").await {
        assert!(
            std::time::Instant::now() < deadline,
            "the unsaved credentials were never saved"
        );
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    revisit_dashboard(&app).await;
    app.wait_for("li.card[data-name='idp'][data-attention='false']")
        .await;
    app.wait_gone("li.card[data-name='idp'] .unsaved").await;
    app.close().await;
}
