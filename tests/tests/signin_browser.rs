//! A real browser: headless Chromium driven by chromedriver completes the
//! simulator's HTML sign-in form (password, MFA, consent) for
//! `reconnect signin`, first to connect and then to heal a new MFA policy,
//! with the claims challenge in the request. The CLI's browser command only
//! records the URL; this test hands it to Chromium.
//!
//! Needs `chromium` and `chromium-driver` (Debian); see scripts/ci/browser.sh.

mod signin_support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::Client;
use reconnect_e2e::browser::{Chromium, Page, Person, walk_sim_sign_in};
use reconnect_e2e::harness::binary;
use reconnect_sim::UserStatePatch;
use reconnect_sim::failure::MFA_CLAIMS_CHALLENGE;
use signin_support::{BrowserScript, SigninWorld, stderr};

const ALICE: &str = "alice@contoso.test";

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

/// Reconnect's loopback page once it shows how the sign-in ended (not
/// "Still working"): its title, message and address, from one document.
const RESULT: &str = r#"
const text = (id) => {
  const el = document.getElementById(id);
  return el ? el.textContent.replace(/\s+/g, ' ').trim() : null;
};
const title = document.readyState === 'complete' ? text('title') : null;
if (title === null || title === 'Still working') return null;
return { title, message: text('message') ?? '', href: location.href };
"#;

/// Completes the simulator's form like a person would; returns the steps seen
/// and the text of the page Reconnect shows at the end.
async fn complete_form(
    client: &Client,
    url: &url::Url,
    redirect_prefix: &str,
) -> (Vec<&'static str>, String) {
    let who = Person {
        user: ALICE,
        password: "correct horse",
    };
    let walk = walk_sim_sign_in(client, url, who)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        walk.landed.as_str().starts_with(redirect_prefix),
        "the form ended somewhere else than Reconnect's loopback: {}",
        walk.landed
    );
    let page = Page::new(client).with_patience(Duration::from_secs(60));
    let shown = page
        .read(
            "#title",
            "to show how the sign-in ended",
            RESULT,
            Vec::new(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let field = |key: &str| shown[key].as_str().unwrap_or_default().to_owned();
    let here = url::Url::parse(&field("href")).expect("the page's address");
    assert!(
        here.query().is_none(),
        "the code left the address bar: {here}"
    );
    (
        walk.steps,
        format!("{}: {}", field("title"), field("message")),
    )
}

async fn signin_in_chromium(
    world: &SigninWorld,
    name: &str,
    browser: &str,
    urls: &PathBuf,
    chrome: &Chromium,
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
    let chrome = Chromium::launch().await.expect("headless Chromium starts");

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
    chrome.close().await;
}
