//! A full reconnect from the real window: the Reconnect button starts the
//! sign-in, the progress shows a countdown, "copy link" and cancel, the
//! simulator's sign-in page is completed in headless Chromium (driven over
//! chromedriver), and the card ends healthy. Needs Xvfb, tauri-driver,
//! WebKitWebDriver, chromium + chromedriver and a Secret Service (run
//! through scripts/test.sh).

mod app_support;

use std::time::{Duration, Instant};

use app_support::App;
use reconnect_e2e::browser::{Chromium, Person, walk_sim_sign_in};

/// A "browser" for RECONNECT_BROWSER that only writes down the URL, so the
/// test can hand it to headless Chromium.
fn url_catcher(dir: &std::path::Path) -> (String, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("browser.sh");
    let url_file = dir.join("url");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", url_file.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script.display().to_string(), url_file)
}

async fn wait_file(path: &std::path::Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.is_empty()
        {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "the app never handed a sign-in URL to the browser"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Walks the simulator's sign-in page in Chromium until it redirects away.
async fn sign_in_in_chromium(url: &str, upn: &str) {
    let url = url::Url::parse(url).expect("the sign-in URL parses");
    let chromium = Chromium::launch()
        .await
        .expect("a headless Chromium session");
    let who = Person {
        user: upn,
        password: "demo-password",
    };
    let walk = walk_sim_sign_in(&chromium.client, &url, who)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let landed = walk.landed;
    assert!(
        !landed.as_str().contains("/oauth2/v2.0/authorize"),
        "the sign-in page did not finish: {landed}"
    );
    chromium.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver, chromium, chromedriver and a Secret Service: run through scripts/test.sh"]
async fn reconnect_button_signs_in_through_the_simulator_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let (browser, url_file) = url_catcher(dir.path());
    let app = App::start(&[
        ("RECONNECT_PROFILE", "demo"),
        ("RECONNECT_BROWSER", &browser),
    ])
    .await;
    let card = "li.card[data-name='carlos-crm']";
    app.wait_for(&format!("{card}[data-health='reconnect_needed']"))
        .await;

    app.click(&format!("{card} button.reconnect-button")).await;
    // Progress: waiting for the browser, with a countdown, copy link and cancel.
    app.wait_for(&format!("{card} .reconnect.running .countdown"))
        .await;
    app.wait_for(&format!("{card} .reconnect.running button.copy-link"))
        .await;
    app.wait_for(&format!("{card} .reconnect.running button.cancel"))
        .await;
    let progress = app.text(&format!("{card} .reconnect.running")).await;
    assert!(
        progress.contains("Waiting for you to sign in"),
        "{progress}"
    );
    app.screenshot("app-reconnect-progress").await;

    let url = wait_file(&url_file).await;
    assert!(url.contains("code_challenge="), "PKCE is used: {url}");
    assert!(
        !url.contains("code_verifier"),
        "the verifier never leaves the app"
    );
    assert!(
        url.contains("login_hint=carlos"),
        "the sign-in is for the same user: {url}"
    );
    sign_in_in_chromium(&url, "carlos@contoso.test").await;

    app.wait_for(&format!("{card}[data-health='healthy']"))
        .await;
    let text = app.text(card).await;
    assert!(
        !text.contains("AADSTS50173"),
        "the old failure is gone: {text}"
    );
    let detail = app
        .invoke(
            "account_detail",
            serde_json::json!({ "name": "carlos-crm" }),
        )
        .await;
    let newest = &detail["ok"]["timeline"][0];
    assert!(
        newest["kind"] == "signin" && newest["ok"] == true,
        "the sign-in is the newest attempt: {detail}"
    );

    // Cancel ends a running sign-in and gives the button back.
    let other = "li.card[data-name='diego-teams']";
    app.click(&format!("{other} button.reconnect-button")).await;
    app.click(&format!("{other} .reconnect.running button.cancel"))
        .await;
    let result = app.text(&format!("{other} .reconnect-result")).await;
    assert!(result.contains("cancelled"), "{result}");
    app.wait_for(&format!("{other} button.reconnect-button"))
        .await;
    app.wait_for(&format!("{other}[data-health='reconnect_needed']"))
        .await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn a_browser_that_cannot_open_is_explained_on_the_card_and_the_link_stays() {
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
    let problem = app
        .text(&format!("{card} .reconnect.running .reconnect-problem"))
        .await;
    assert!(
        problem.contains("could not be opened")
            && problem.contains("`false` exited")
            && problem.contains("Copy the link"),
        "{problem}"
    );
    // Still waiting, with the link to copy and the countdown.
    app.wait_for(&format!("{card} .reconnect.running button.copy-link"))
        .await;
    app.wait_for(&format!("{card} .reconnect.running .countdown"))
        .await;
    app.click(&format!("{card} .reconnect.running button.cancel"))
        .await;
    let result = app.text(&format!("{card} .reconnect-result")).await;
    assert!(result.contains("cancelled"), "{result}");
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver, chromium, chromedriver and a Secret Service: run through scripts/test.sh"]
async fn a_generic_openid_account_is_added_by_issuer_and_signs_in() {
    let dir = tempfile::tempdir().unwrap();
    let (browser, url_file) = url_catcher(dir.path());
    let app = App::start(&[
        ("RECONNECT_PROFILE", "demo"),
        ("RECONNECT_BROWSER", &browser),
    ])
    .await;
    app.wait_for("li.card[data-name='diego-teams']").await;

    // The demo offers its simulator's issuer as the default.
    app.click("#add-account").await;
    app.click("#add-dialog input[name='kind'][value='oidc']")
        .await;
    let issuer = app.wait_for("#acct-issuer").await;
    let value = issuer.prop("value").await.unwrap().unwrap_or_default();
    assert!(
        value.starts_with("http://127.0.0.1:") && value.ends_with("/v2.0"),
        "{value}"
    );
    app.fill("#acct-name", "lab-oidc").await;
    app.click("#add-submit").await;
    app.wait_for("#view-detail h2[data-account='lab-oidc']")
        .await;
    app.go("#/").await;
    let card = "li.card[data-name='lab-oidc']";
    assert!(
        app.text(card).await.contains("127.0.0.1"),
        "the provider is the issuer's host"
    );

    app.click(&format!("{card} button.reconnect-button")).await;
    let url = wait_file(&url_file).await;
    assert!(url.contains("code_challenge="), "{url}");
    sign_in_in_chromium(&url, "adele@contoso.test").await;
    app.wait_for(&format!("{card}[data-health='healthy']"))
        .await;
    let text = app.text(card).await;
    assert!(
        text.contains("adele"),
        "the signed-in user is shown: {text}"
    );
    app.close().await;
}
