//! A first connection asks who signed in, in the real window. An account
//! added through the form at a simulator (a custom authority URL) has no
//! user yet; its first sign-in (curl as the browser: the simulator approves
//! alice without a page) ends with the question. "That's not me / Remove"
//! leaves it never connected, with no keychain entry, as `reconnect status`
//! agrees; signing in again, the question outlives a reload of the window,
//! and keeping it makes it healthy; a later
//! reconnect of the same user does not ask. A question left open when its
//! account is removed goes with it. Needs Xvfb, tauri-driver,
//! WebKitWebDriver and a Secret Service (run through scripts/test.sh).

mod app_support;

use app_support::{App, eventually};
use reconnect_e2e::grants::CLIENT_ID;
use reconnect_e2e::harness::{assert_success, binary, curl_browser};
use reconnect_sim::{AppRegistration, RunningSim, SimConfig, Simulator};
use serde_json::Value;

const ALICE: &str = "alice@contoso.test";
const CARD: &str = "li.card[data-name='lab']";

/// A simulator that approves alice without a page and knows the test's app.
async fn simulator() -> RunningSim {
    Simulator::start(SimConfig {
        auto_approve: Some(ALICE.to_owned()),
        apps: vec![AppRegistration::desktop(CLIENT_ID)],
        ..SimConfig::default()
    })
    .await
    .expect("the simulator starts")
}

/// `reconnect status lab --json` on the app's data directory.
fn status(app: &App) -> Value {
    let out = app
        .home
        .command(binary("reconnect"))
        .args(["status", "lab", "--json"])
        .output()
        .expect("reconnect runs");
    assert_success(&out, "reconnect status lab --json");
    serde_json::from_slice(&out.stdout).expect("status JSON")
}

/// The Secret Service items under the app's data directory's service name
/// (`secret-tool` prints one `[/…]` line, the item's path, per item; the
/// rest of its output, secrets included, is dropped unread).
fn keychain_items(app: &App) -> usize {
    let home = reconnect_store::Home::at(app.home.reconnect_home()).expect("home");
    let out = std::process::Command::new("secret-tool")
        .args(["search", "--all", "--unlock", "service"])
        .arg(home.keychain_service())
        .output()
        .expect("secret-tool (libsecret-tools) is installed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("[/") && l.ends_with(']'))
        .count()
}

/// Adds `lab` through the form: work or school, at the simulator.
async fn add_at(app: &App, sim: &RunningSim) {
    app.click("#add-account").await;
    app.wait_for("#add-dialog[open] #acct-name").await;
    app.fill("#acct-name", "lab").await;
    app.choose("#acct-cloud", "custom").await;
    app.fill("#acct-authority", &sim.http_url).await;
    app.fill("#acct-tenant", "common").await;
    app.fill("#acct-client", CLIENT_ID).await;
    app.click("#add-submit").await;
    app.wait_for("#view-detail:not([hidden]) h2[data-account='lab']")
        .await;
    app.go("#/").await;
    app.wait_for(&format!("{CARD}[data-health='never_connected']"))
        .await;
}

/// Presses Reconnect on the card and waits for the first connection's
/// question; returns who it says signed in.
async fn sign_in_and_get_asked(app: &App) -> String {
    app.click(&format!("{CARD} button.reconnect-button")).await;
    app.text(&format!("{CARD} .reconnect.confirming .signed-in-user"))
        .await
}

/// The account's successful sign-ins, from its timeline.
async fn signins(app: &App) -> usize {
    let detail = app
        .invoke("account_detail", serde_json::json!({ "name": "lab" }))
        .await;
    detail["ok"]["timeline"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter(|e| e["kind"] == "signin" && e["ok"] == true)
                .count()
        })
        .unwrap_or_default()
}

async fn wait_signins(app: &App, n: usize) {
    let what = format!("sign-in {n} ending");
    eventually(&what, async || (signins(app).await >= n).then_some(())).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn a_first_connection_is_confirmed_or_removed_and_asked_only_once() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let browser = curl_browser(dir.path());
    let app = App::start(&[("RECONNECT_BROWSER", &browser.display().to_string())]).await;
    add_at(&app, &sim).await;
    assert_eq!(keychain_items(&app), 0, "a new account holds no tokens");

    // First sign-in: who signed in is shown; the tokens wait in the keychain.
    let who = sign_in_and_get_asked(&app).await;
    assert_eq!(who, ALICE);
    let question = app.text(&format!("{CARD} .reconnect.confirming")).await;
    assert!(
        question.contains("Keep this connection") && question.contains("not me"),
        "{question}"
    );
    assert!(keychain_items(&app) > 0, "the sign-in stored its tokens");

    // "That's not me": never connected again, no tokens anywhere.
    app.click(&format!(
        "{CARD} .reconnect.confirming button.remove-connection"
    ))
    .await;
    app.wait_for(&format!("{CARD}[data-health='never_connected']"))
        .await;
    let result = app.text(&format!("{CARD} .reconnect-result")).await;
    assert!(result.contains("removed"), "{result}");
    let now = status(&app);
    assert_eq!(now["health"]["state"], "never_connected", "{now:#}");
    assert_eq!(keychain_items(&app), 0, "the declined tokens are gone");
    assert!(
        app.client
            .find_all(fantoccini::Locator::Css(".reconnect.confirming"))
            .await
            .unwrap()
            .is_empty()
    );

    // Again; the window loads anew while the question waits and asks it
    // again; keep it: healthy.
    let who = sign_in_and_get_asked(&app).await;
    assert_eq!(who, ALICE);
    app.client.refresh().await.expect("the window reloads");
    app.wait_for("body[data-ready='true']").await;
    let asked_again = app
        .text(&format!("{CARD} .reconnect.confirming .signed-in-user"))
        .await;
    assert_eq!(asked_again, ALICE, "the reloaded window asks the question");
    app.click(&format!(
        "{CARD} .reconnect.confirming button.keep-connection"
    ))
    .await;
    app.wait_for(&format!("{CARD}[data-health='healthy']"))
        .await;
    app.wait_gone(".reconnect.confirming").await;
    let now = status(&app);
    assert_eq!(now["health"]["state"], "healthy", "{now:#}");
    assert!(keychain_items(&app) > 0, "the kept tokens are stored");

    // A later reconnect of the same user does not ask.
    wait_signins(&app, 2).await;
    app.go("#/account/lab").await;
    app.click("#view-detail button.reconnect-button").await;
    wait_signins(&app, 3).await;
    app.wait_for("#view-detail button.reconnect-button").await;
    assert!(
        app.client
            .find_all(fantoccini::Locator::Css(".reconnect.confirming"))
            .await
            .unwrap()
            .is_empty(),
        "a known user is not asked about"
    );
    let now = status(&app);
    assert_eq!(now["health"]["state"], "healthy", "{now:#}");
    app.close().await;
}

/// Whether any first connection's question shows.
async fn asking(app: &App) -> bool {
    !app.client
        .find_all(fantoccini::Locator::Css(".reconnect.confirming"))
        .await
        .unwrap()
        .is_empty()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn a_question_left_open_goes_with_its_removed_account() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let browser = curl_browser(dir.path());
    let app = App::start(&[("RECONNECT_BROWSER", &browser.display().to_string())]).await;
    add_at(&app, &sim).await;
    assert_eq!(sign_in_and_get_asked(&app).await, ALICE);

    // Removed while it asks: the question goes with the account.
    let removed = app
        .invoke("remove_account", serde_json::json!({ "name": "lab" }))
        .await;
    assert!(removed.get("ok").is_some(), "{removed}");
    app.wait_gone(CARD).await;

    // Added again under the same name: nobody signed in to it, nothing asks,
    // not even in a window loaded again, and an answer has nothing to take.
    add_at(&app, &sim).await;
    assert!(!asking(&app).await, "the new account is asked about");
    let card = app.text(CARD).await;
    assert!(
        !card.contains("removed"),
        "the old sign-in's end shows: {card}"
    );
    app.client.refresh().await.expect("the window reloads");
    app.wait_for(&format!("{CARD}[data-health='never_connected']"))
        .await;
    assert!(!asking(&app).await, "the reloaded window asks");
    let answer = app
        .invoke(
            "first_connection_answer",
            serde_json::json!({ "name": "lab", "answer": "keep" }),
        )
        .await;
    assert_eq!(answer["err"]["code"], "not_running", "{answer}");
    assert_eq!(keychain_items(&app), 0, "no tokens for the new account");
    app.close().await;
}
