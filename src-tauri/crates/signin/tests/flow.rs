//! The whole sign-in against the real simulator on loopback, with scripted
//! browsers and an in-memory store: success, the same-account guard, error
//! callbacks, a wrong state, timeout, cancel, a browser that cannot open, the
//! claims challenge and an OpenID provider found by discovery.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use reconnect_oauth::{TokenClient, TokenClientConfig};
use reconnect_signin::store::StoreFailure;
use reconnect_signin::{
    AccountSettings, Browser, Connected, FailedAttempt, KnownUser, Launched, LoopbackConfig,
    Outcome, Progress, ProviderKind, Signin, SigninError, SigninOptions, SigninStore,
};
use reconnect_sim::{AppRegistration, RunningSim, SimConfig, Simulator};
use url::Url;

const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const ALICE: &str = "alice@contoso.test";

/// Alice's home tenant (contoso's), the `tid` in her tokens.
fn tenant() -> String {
    reconnect_sim::tenant::home_tenant(ALICE)
}

/// An in-memory store that records what the flow did.
struct MemoryStore {
    settings: AccountSettings,
    connected: Mutex<Vec<(KnownUser, bool)>>,
    failed: Mutex<Vec<FailedAttempt>>,
}

impl MemoryStore {
    fn new(settings: AccountSettings) -> Self {
        Self {
            settings,
            connected: Mutex::new(Vec::new()),
            failed: Mutex::new(Vec::new()),
        }
    }
}

impl SigninStore for MemoryStore {
    fn settings(&self, _account: &str) -> Result<AccountSettings, StoreFailure> {
        Ok(self.settings.clone())
    }
    fn connected(&self, _account: &str, c: &Connected) -> Result<(), StoreFailure> {
        let has_refresh = c.response.tokens.refresh_token.is_some();
        self.connected
            .lock()
            .unwrap()
            .push((c.user.clone(), has_refresh));
        Ok(())
    }
    fn attempt_failed(&self, _account: &str, a: &FailedAttempt) -> Result<(), StoreFailure> {
        self.failed.lock().unwrap().push(a.clone());
        Ok(())
    }
}

/// How a scripted browser behaves.
#[derive(Clone)]
enum Script {
    /// Follow every redirect, like a browser with auto-approve.
    Follow,
    /// Send a forged callback with a wrong state first, then follow.
    WrongStateFirst,
    /// Send an error callback with the right state.
    Error(&'static str, Option<&'static str>),
    /// Never visit anything (a closed browser).
    Nothing,
}

struct ScriptedBrowser {
    script: Script,
    seen: Mutex<Vec<Url>>,
}

impl ScriptedBrowser {
    fn new(script: Script) -> Self {
        Self {
            script,
            seen: Mutex::new(Vec::new()),
        }
    }
    fn query(&self) -> HashMap<String, String> {
        let seen = self.seen.lock().unwrap();
        seen.first()
            .map(|u| u.query_pairs().into_owned().collect())
            .unwrap_or_default()
    }
}

impl Browser for ScriptedBrowser {
    fn open(&self, url: &Url) -> Result<Launched, reconnect_signin::browser::BrowserError> {
        self.seen.lock().unwrap().push(url.clone());
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        let redirect = q.get("redirect_uri").cloned().unwrap_or_default();
        let state = q.get("state").cloned().unwrap_or_default();
        let url = url.clone();
        let script = self.script.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            match script {
                Script::Nothing => {}
                Script::Follow => {
                    let _ = http
                        .get(url)
                        .send()
                        .await
                        .and_then(|r| r.error_for_status());
                }
                Script::WrongStateFirst => {
                    let forged = format!("{redirect}?code=forged&state=not-{state}");
                    let status = http.get(forged).send().await.map(|r| r.status().as_u16());
                    assert_eq!(status.ok(), Some(400), "a wrong state is refused");
                    let _ = http.get(url).send().await;
                }
                Script::Error(error, subcode) => {
                    let mut target = Url::parse(&redirect).unwrap();
                    target
                        .query_pairs_mut()
                        .append_pair("error", error)
                        .append_pair("state", &state);
                    if let Some(sub) = subcode {
                        target.query_pairs_mut().append_pair("error_subcode", sub);
                    }
                    let _ = http.get(target).send().await;
                }
            }
        });
        Ok(Launched::Detached)
    }
    fn describe(&self) -> String {
        "a scripted browser".into()
    }
}

async fn sim(auto: Option<&str>) -> RunningSim {
    let config = SimConfig {
        auto_approve: auto.map(str::to_owned),
        apps: vec![AppRegistration::desktop(CLIENT)],
        ..SimConfig::default()
    };
    Simulator::start(config).await.expect("simulator starts")
}

fn microsoft(sim: &RunningSim) -> AccountSettings {
    AccountSettings {
        name: "work".into(),
        provider: ProviderKind::Microsoft,
        authority: sim.http_url.clone(),
        tenant: Some("organizations".into()),
        client_id: CLIENT.into(),
        scope: "openid profile offline_access User.Read".into(),
        loopback: LoopbackConfig::default(),
        owner: KnownUser::default(),
        domain_hint: None,
        claims_challenge: None,
    }
}

fn options(timeout: Duration) -> SigninOptions {
    SigninOptions {
        timeout,
        ..SigninOptions::default()
    }
}

/// The app runs sign-ins on spawned tasks, so the flow's future must be `Send`.
fn must_be_send<F: std::future::Future + Send>(future: F) -> F {
    future
}

async fn run(
    store: &MemoryStore,
    browser: &dyn Browser,
    options: &SigninOptions,
) -> Result<KnownUser, SigninError> {
    let client = TokenClient::new(TokenClientConfig::default()).unwrap();
    let progress = |_: &Progress| {};
    let signin = Signin {
        client: &client,
        browser,
        store,
        progress: &progress,
    };
    must_be_send(signin.run("work", options)).await
}

#[tokio::test]
async fn auto_approved_sign_in_connects_and_records_who_signed_in() {
    let sim = sim(Some(ALICE)).await;
    let store = MemoryStore::new(microsoft(&sim));
    let browser = ScriptedBrowser::new(Script::Follow);
    let user = run(&store, &browser, &options(Duration::from_secs(30)))
        .await
        .expect("connects");
    assert_eq!(user.upn.as_deref(), Some(ALICE));
    assert_eq!(user.tid, Some(tenant()));
    let alice = sim.state.user(ALICE).unwrap();
    assert_eq!(user.oid.as_deref(), Some(alice.oid.as_str()));
    assert_eq!(store.connected.lock().unwrap().len(), 1);
    assert!(
        store.connected.lock().unwrap()[0].1,
        "a refresh token was stored"
    );

    let q = browser.query();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["response_type"], "code");
    assert!(q["redirect_uri"].starts_with("http://localhost:"));
    let claims: serde_json::Value = serde_json::from_str(&q["claims"]).unwrap();
    assert_eq!(claims["access_token"]["xms_cc"]["values"][0], "cp1");
    let log = sim.state.log();
    assert!(
        log.iter()
            .any(|e| e.grant_type.as_deref() == Some("authorization_code") && e.status == 200),
        "{log:?}"
    );
}

#[tokio::test]
async fn another_user_does_not_overwrite_the_connection() {
    let sim = sim(Some(ALICE)).await;
    let bob = sim.state.user("bob@contoso.test").unwrap();
    let mut settings = microsoft(&sim);
    // Known by object id only (no name to hint with), so the simulator signs alice in.
    settings.owner = KnownUser {
        oid: Some(bob.oid.clone()),
        tid: Some(tenant()),
        ..KnownUser::default()
    };
    let store = MemoryStore::new(settings);
    let err = run(
        &store,
        &ScriptedBrowser::new(Script::Follow),
        &options(Duration::from_secs(30)),
    )
    .await
    .unwrap_err();
    match &err {
        SigninError::WrongAccount { signed_in, owner } => {
            assert_eq!(signed_in, ALICE);
            assert!(owner.contains(&bob.oid), "{owner}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.outcome(), Outcome::ReconnectNeeded);
    assert!(store.connected.lock().unwrap().is_empty(), "nothing stored");
    assert_eq!(
        store.failed.lock().unwrap().len(),
        1,
        "the attempt is in the history"
    );
}

#[tokio::test]
async fn the_user_pressing_cancel_ends_as_cancelled_with_the_decoded_reason() {
    let sim = sim(None).await;
    let store = MemoryStore::new(microsoft(&sim));
    let browser = ScriptedBrowser::new(Script::Error("access_denied", Some("cancel")));
    let err = run(&store, &browser, &options(Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert!(matches!(err, SigninError::Refused(_)), "{err:?}");
    assert_eq!(err.outcome(), Outcome::Cancelled);
    assert_eq!(
        err.verdict().and_then(|v| v.error.as_deref()),
        Some("access_denied")
    );
    let failed = store.failed.lock().unwrap();
    assert!(failed[0].cancelled);
}

#[tokio::test]
async fn an_interaction_required_callback_still_needs_a_reconnect() {
    let sim = sim(None).await;
    let store = MemoryStore::new(microsoft(&sim));
    let browser = ScriptedBrowser::new(Script::Error("interaction_required", None));
    let err = run(&store, &browser, &options(Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert_eq!(err.outcome(), Outcome::ReconnectNeeded, "{err}");
    assert!(store.connected.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_forged_callback_with_a_wrong_state_is_ignored() {
    let sim = sim(Some(ALICE)).await;
    let store = MemoryStore::new(microsoft(&sim));
    let user = run(
        &store,
        &ScriptedBrowser::new(Script::WrongStateFirst),
        &options(Duration::from_secs(30)),
    )
    .await
    .expect("the real callback still connects");
    assert_eq!(user.upn.as_deref(), Some(ALICE));
}

#[tokio::test]
async fn a_closed_browser_times_out_and_the_listener_is_gone() {
    let sim = sim(Some(ALICE)).await;
    let store = MemoryStore::new(microsoft(&sim));
    let browser = ScriptedBrowser::new(Script::Nothing);
    let err = run(&store, &browser, &options(Duration::from_millis(500)))
        .await
        .unwrap_err();
    assert!(matches!(err, SigninError::TimedOut(_)), "{err:?}");
    assert_eq!(err.outcome(), Outcome::Cancelled);
    assert!(err.to_string().contains("closed"), "{err}");
    let redirect = browser.query()["redirect_uri"].clone();
    let port = Url::parse(&redirect).unwrap().port().unwrap();
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "listener torn down"
    );
    assert!(store.failed.lock().unwrap()[0].cancelled);
}

#[tokio::test]
async fn cancel_stops_the_wait() {
    let sim = sim(Some(ALICE)).await;
    let store = MemoryStore::new(microsoft(&sim));
    let opts = options(Duration::from_secs(60));
    let cancel = opts.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    });
    let started = std::time::Instant::now();
    let err = run(&store, &ScriptedBrowser::new(Script::Nothing), &opts)
        .await
        .unwrap_err();
    assert!(matches!(err, SigninError::Cancelled), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn a_browser_that_cannot_open_is_reported_and_the_copied_link_still_works() {
    let sim = sim(Some(ALICE)).await;
    // Chosen the way `--browser` / RECONNECT_BROWSER choose it: a command
    // that exits 1 at once, and one whose program does not exist.
    for (command, expected) in [
        ("false", "`false` exited with exit status: 1"),
        (
            "/nonexistent/reconnect-browser",
            "could not start the browser `/nonexistent/reconnect-browser`",
        ),
    ] {
        let store = MemoryStore::new(microsoft(&sim));
        let browser = reconnect_signin::browser::choose(Some(command)).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let progress = move |p: &Progress| {
            if let Progress::BrowserFailed { url, reason } = p {
                let _ = tx.send((url.clone(), reason.clone()));
            }
        };
        // The user reads the message and opens the copied link by hand.
        let user = tokio::spawn(async move {
            let (url, reason) = rx.recv().await.expect("the failure is reported");
            let opened = reqwest::get(&url).await.and_then(|r| r.error_for_status());
            assert!(opened.is_ok(), "{opened:?}");
            reason
        });
        let client = TokenClient::new(TokenClientConfig::default()).unwrap();
        let signin = Signin {
            client: &client,
            browser: browser.as_ref(),
            store: &store,
            progress: &progress,
        };
        let connected = signin
            .run("work", &options(Duration::from_secs(30)))
            .await
            .unwrap_or_else(|e| panic!("{command}: the copied link connects: {e}"));
        assert_eq!(connected.upn.as_deref(), Some(ALICE));
        let reason = user.await.unwrap();
        assert!(reason.contains(expected), "{command}: {reason}");
        assert_eq!(store.connected.lock().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn the_claims_challenge_of_the_last_failure_is_passed_with_cp1() {
    let sim = sim(Some(ALICE)).await;
    let mut settings = microsoft(&sim);
    settings.claims_challenge =
        Some(r#"{"access_token":{"capolids":{"essential":true,"values":["p1"]}}}"#.into());
    let store = MemoryStore::new(settings);
    let browser = ScriptedBrowser::new(Script::Follow);
    run(&store, &browser, &options(Duration::from_secs(30)))
        .await
        .expect("connects");
    let claims: serde_json::Value = serde_json::from_str(&browser.query()["claims"]).unwrap();
    assert_eq!(claims["access_token"]["capolids"]["values"][0], "p1");
    assert_eq!(claims["access_token"]["xms_cc"]["values"][0], "cp1");
    let log = sim.state.log();
    assert!(
        log.iter()
            .any(|e| e.endpoint == "authorize" && e.claims_passed),
        "{log:?}"
    );
}

#[tokio::test]
async fn an_openid_provider_is_found_from_its_issuer_alone() {
    let sim = sim(Some(ALICE)).await;
    let settings = AccountSettings {
        provider: ProviderKind::Oidc,
        authority: format!("{}/{}/v2.0", sim.http_url, tenant()),
        tenant: None,
        scope: "openid profile offline_access".into(),
        ..microsoft(&sim)
    };
    let store = MemoryStore::new(settings);
    let browser = ScriptedBrowser::new(Script::Follow);
    let user = run(&store, &browser, &options(Duration::from_secs(30)))
        .await
        .expect("connects");
    assert_eq!(
        user.issuer.as_deref(),
        Some(format!("{}/{}/v2.0", sim.http_url, tenant()).as_str())
    );
    assert!(user.subject.is_some());
    assert!(
        !browser.query().contains_key("claims"),
        "no Entra capability sent to a generic provider"
    );
}

#[tokio::test]
async fn a_wrong_issuer_is_refused_before_the_browser_opens() {
    let sim = sim(Some(ALICE)).await;
    let settings = AccountSettings {
        provider: ProviderKind::Oidc,
        authority: format!("{}/{}/v2.0/", sim.http_url, tenant()).replace("/v2.0/", "/v2.0/extra"),
        ..microsoft(&sim)
    };
    let store = MemoryStore::new(settings);
    let browser = ScriptedBrowser::new(Script::Follow);
    let err = run(&store, &browser, &options(Duration::from_secs(5)))
        .await
        .unwrap_err();
    assert!(matches!(err, SigninError::Provider(_)), "{err:?}");
    assert!(browser.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_token_endpoint_outage_during_the_exchange_is_transient_and_stores_nothing() {
    let sim = sim(Some(ALICE)).await;
    let outage: reconnect_sim::FaultRequest =
        serde_json::from_value(serde_json::json!({"outage": "503", "count": 1})).unwrap();
    sim.state.add_fault(outage).unwrap();
    let store = MemoryStore::new(microsoft(&sim));
    let err = run(
        &store,
        &ScriptedBrowser::new(Script::Follow),
        &options(Duration::from_secs(30)),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SigninError::Exchange { .. }), "{err:?}");
    assert_eq!(err.outcome(), Outcome::Transient, "{err}");
    assert!(store.connected.lock().unwrap().is_empty());
    assert!(!store.failed.lock().unwrap()[0].cancelled);
}

#[tokio::test]
async fn a_disabled_account_at_the_exchange_comes_back_decoded_for_the_admin() {
    let sim = sim(Some(ALICE)).await;
    let fault: reconnect_sim::FaultRequest =
        serde_json::from_value(serde_json::json!({"code": 50057, "count": 1})).unwrap();
    sim.state.add_fault(fault).unwrap();
    let store = MemoryStore::new(microsoft(&sim));
    let err = run(
        &store,
        &ScriptedBrowser::new(Script::Follow),
        &options(Duration::from_secs(30)),
    )
    .await
    .unwrap_err();
    let verdict = err.verdict().expect("decoded");
    assert_eq!(verdict.primary_code, Some(50057), "{verdict:?}");
    assert_eq!(err.outcome(), Outcome::NeedsAdmin, "{err}");
    let failed = store.failed.lock().unwrap();
    assert_eq!(failed[0].code.as_deref(), Some("AADSTS50057"));
}
