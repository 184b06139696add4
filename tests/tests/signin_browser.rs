//! A real browser: headless Chromium driven by chromedriver completes the
//! simulator's HTML sign-in form (password, MFA, consent) for
//! `reconnect signin`, first to connect and then to heal a new MFA policy,
//! with the claims challenge in the request. The CLI's browser command only
//! records the URL; this test hands it to Chromium.
//!
//! Needs `chromium` and `chromium-driver` (Debian); see scripts/ci/browser.sh.

mod signin_support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use reconnect_e2e::harness::{KillOnDrop, binary};
use reconnect_sim::UserStatePatch;
use reconnect_sim::failure::MFA_CLAIMS_CHALLENGE;
use signin_support::{BrowserScript, SigninWorld, stderr};

const ALICE: &str = "alice@contoso.test";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

struct Chrome {
    client: Client,
    _driver: KillOnDrop,
    _profile: tempfile::TempDir,
}

async fn chrome() -> Chrome {
    let port = free_port();
    let driver = std::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts (install chromium-driver)");
    let driver = KillOnDrop(driver);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = tempfile::tempdir().unwrap();
    let args = [
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        format!("--user-data-dir={}", profile.path().display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "chrome".into());
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": "/usr/bin/chromium", "args": args }),
    );
    // Both rustls back ends end up linked into this test binary; pick one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = ClientBuilder::rustls()
        .expect("tls")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a chromium session");
    Chrome {
        client,
        _driver: driver,
        _profile: profile,
    }
}

async fn wait_for_url(urls: &Path) -> url::Url {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(url) = SigninWorld::last_url(&urls.to_path_buf()) {
            return url;
        }
        assert!(
            Instant::now() < deadline,
            "reconnect never handed over the URL"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn exists(client: &Client, id: &str) -> bool {
    client.find(Locator::Id(id)).await.is_ok()
}

/// Completes the simulator's form like a person would; returns the steps seen
/// and the text of the page Reconnect shows at the end.
async fn complete_form(
    client: &Client,
    url: &url::Url,
    redirect_prefix: &str,
) -> (Vec<&'static str>, String) {
    client
        .goto(url.as_str())
        .await
        .expect("open the sign-in page");
    let mut steps = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            Instant::now() < deadline,
            "the form never finished; steps so far {steps:?}"
        );
        let here = client.current_url().await.unwrap();
        if here.as_str().starts_with(redirect_prefix) && exists(client, "title").await {
            let title = client
                .find(Locator::Id("title"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if title != "Still working" {
                let message = client
                    .find(Locator::Id("message"))
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                assert!(
                    here.query().is_none(),
                    "the code left the address bar: {here}"
                );
                return (steps, format!("{title}: {message}"));
            }
        }
        if exists(client, "username").await && exists(client, "next").await {
            let field = client.find(Locator::Id("username")).await.unwrap();
            field.clear().await.unwrap();
            field.send_keys(ALICE).await.unwrap();
            client
                .find(Locator::Id("next"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            steps.push("user");
        } else if exists(client, "password").await {
            client
                .find(Locator::Id("password"))
                .await
                .unwrap()
                .send_keys("correct horse")
                .await
                .unwrap();
            client
                .find(Locator::Id("sign-in"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            steps.push("password");
        } else if exists(client, "approve").await {
            client
                .find(Locator::Id("approve"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            steps.push("mfa");
        } else if exists(client, "accept").await {
            client
                .find(Locator::Id("accept"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            steps.push("consent");
        } else {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn signin_in_chromium(
    world: &SigninWorld,
    name: &str,
    browser: &str,
    urls: &PathBuf,
    chrome: &Chrome,
) -> (std::process::Output, Vec<&'static str>, String, url::Url) {
    let _ = std::fs::remove_file(urls);
    let mut cmd = tokio::process::Command::from(world.home.command(binary("reconnect")));
    cmd.args(["signin", name, "--browser", browser, "--timeout", "120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd.spawn().unwrap();
    let url = wait_for_url(urls).await;
    let redirect = url
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let (steps, page) = complete_form(&chrome.client, &url, &redirect).await;
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    (out, steps, page, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_completes_the_form_including_mfa_with_a_claims_challenge() {
    let world = SigninWorld::start(None).await;
    world.add_account("work", &[]).await;
    let (browser, urls) = world.browser(BrowserScript::RecordOnly);
    let chrome = chrome().await;

    // A first connect of a new account, through the whole form.
    world.add_account("first", &[]).await;
    let (out, steps, page, _) = signin_in_chromium(&world, "first", &browser, &urls, &chrome).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        steps.contains(&"password") && steps.contains(&"consent"),
        "{steps:?}"
    );
    assert!(page.contains("Signed in as alice@contoso.test"), "{page}");

    // "work" was connected before an MFA policy existed; the new policy
    // breaks its refresh token...
    world.import_grant_without_mfa("work", ALICE).await;
    let patch = UserStatePatch {
        mfa_required: Some(true),
        ..Default::default()
    };
    world.sim.state.set_user_state(ALICE, &patch).unwrap();
    let failed = world.reconnect(&["refresh", "work", "--force"]).await;
    assert_eq!(failed.status.code(), Some(2), "{}", stderr(&failed));
    assert!(stderr(&failed).contains("50076"), "{}", stderr(&failed));

    // ...and one sign-in in Chromium, with the MFA step, heals it.
    world.sim.state.clear_log();
    let (out, steps, page, url) =
        signin_in_chromium(&world, "work", &browser, &urls, &chrome).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(steps.contains(&"mfa"), "the MFA step was shown: {steps:?}");
    assert!(page.contains("Signed in as alice@contoso.test"), "{page}");
    let claims = url
        .query_pairs()
        .find(|(k, _)| k == "claims")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let claims: serde_json::Value = serde_json::from_str(&claims).unwrap();
    let challenge: serde_json::Value = serde_json::from_str(MFA_CLAIMS_CHALLENGE).unwrap();
    assert_eq!(
        claims["access_token"]["capolids"],
        challenge["access_token"]["capolids"]
    );
    assert_eq!(claims["access_token"]["xms_cc"]["values"][0], "cp1");
    let log = world.sim.state.log();
    let finished = log
        .iter()
        .rev()
        .find(|e| e.endpoint == "authorize" && e.status == 302)
        .expect("redirected");
    assert!(
        finished.claims_passed && finished.mfa == Some(true),
        "{log:?}"
    );

    let healed = world.reconnect(&["refresh", "work", "--force"]).await;
    assert_eq!(healed.status.code(), Some(0), "{}", stderr(&healed));
    chrome.client.close().await.ok();
}
