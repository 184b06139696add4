//! The device-code and paste ways against the real simulator on loopback,
//! with an in-memory store: an approved code connects (its id_token has no
//! nonce), the same-account guard holds, the last failure's claims challenge
//! is passed on the devicecode request, nothing is asked of a provider that
//! cannot be found, and a pasted redirect completes the
//! code flow. Polls follow the simulator's 5 s interval.

use std::sync::Mutex;
use std::time::Duration;

use reconnect_oauth::{TokenClient, TokenClientConfig};
use reconnect_signin::store::StoreFailure;
use reconnect_signin::{
    AccountSettings, CancellationToken, Connected, DeviceError, DeviceSignin, FailedAttempt,
    KnownUser, LoopbackConfig, NoBrowser, PasteSignin, Progress, ProviderKind, Signin, SigninError,
    SigninOptions, SigninStore,
};
use reconnect_sim::{AppRegistration, RunningSim, SimConfig, Simulator};

const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const ALICE: &str = "alice@contoso.test";
const BOB: &str = "bob@contoso.test";

struct MemoryStore {
    settings: AccountSettings,
    connected: Mutex<Vec<KnownUser>>,
    failed: Mutex<Vec<FailedAttempt>>,
}

impl SigninStore for MemoryStore {
    fn settings(&self, _account: &str) -> Result<AccountSettings, StoreFailure> {
        Ok(self.settings.clone())
    }
    fn connected(&self, _account: &str, c: &Connected) -> Result<(), StoreFailure> {
        self.connected.lock().unwrap().push(c.user.clone());
        Ok(())
    }
    fn attempt_failed(&self, _account: &str, a: &FailedAttempt) -> Result<(), StoreFailure> {
        self.failed.lock().unwrap().push(a.clone());
        Ok(())
    }
}

fn store(settings: AccountSettings) -> MemoryStore {
    MemoryStore {
        settings,
        connected: Mutex::new(Vec::new()),
        failed: Mutex::new(Vec::new()),
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

/// Starts a device sign-in, approves its code as `upn`, and completes it.
async fn device_signin(
    sim: &RunningSim,
    store: &MemoryStore,
    upn: &str,
) -> Result<KnownUser, SigninError> {
    let client = TokenClient::new(TokenClientConfig::default()).unwrap();
    let progress = |_: &Progress| {};
    let signin = Signin {
        client: &client,
        browser: &NoBrowser,
        store,
        progress: &progress,
    };
    let cancel = CancellationToken::new();
    let device = DeviceSignin::start(&signin, "work", &cancel).await?;
    let code = device.code().clone();
    assert!(code.verification_uri.starts_with(&sim.http_url), "{code:?}");
    sim.state
        .approve_device_code(&code.user_code, upn, None)
        .expect("approved");
    tokio::time::timeout(Duration::from_secs(30), device.complete(&cancel))
        .await
        .expect("ends in time")
}

#[tokio::test]
async fn an_approved_code_connects_through_the_shared_checks() {
    let sim = sim(None).await;
    let mut settings = microsoft(&sim);
    settings.claims_challenge =
        Some(r#"{"access_token":{"capolids":{"essential":true,"values":["p1"]}}}"#.into());
    let store = store(settings);
    let user = device_signin(&sim, &store, ALICE).await.expect("connects");
    assert_eq!(user.upn.as_deref(), Some(ALICE));
    assert_eq!(store.connected.lock().unwrap().len(), 1);
    let log = sim.state.log();
    assert!(
        log.iter()
            .any(|e| e.endpoint == "devicecode" && e.claims_passed),
        "the challenge went with the code request: {log:?}"
    );
}

#[tokio::test]
async fn someone_else_approving_changes_nothing() {
    let sim = sim(None).await;
    let mut settings = microsoft(&sim);
    settings.owner = KnownUser {
        upn: Some(BOB.into()),
        ..KnownUser::default()
    };
    let store = store(settings);
    let err = device_signin(&sim, &store, ALICE).await.unwrap_err();
    assert!(matches!(err, SigninError::WrongAccount { .. }), "{err}");
    assert!(store.connected.lock().unwrap().is_empty());
    assert_eq!(
        store.failed.lock().unwrap().len(),
        1,
        "the attempt is recorded"
    );
}

#[tokio::test]
async fn nothing_is_asked_for_when_the_provider_cannot_be_found() {
    let sim = sim(None).await;
    let mut settings = microsoft(&sim);
    // An OpenID issuer with no discovery document behind it.
    settings.provider = ProviderKind::Oidc;
    settings.authority = format!("{}/nowhere", sim.http_url);
    let store = store(settings);
    let client = TokenClient::new(TokenClientConfig::default()).unwrap();
    let progress = |_: &Progress| {};
    let signin = Signin {
        client: &client,
        browser: &NoBrowser,
        store: &store,
        progress: &progress,
    };
    let err = DeviceSignin::start(&signin, "work", &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SigninError::Provider(_) | SigninError::Device(DeviceError::Unsupported)
        ),
        "{err}"
    );
    assert!(sim.state.log().iter().all(|e| e.endpoint != "devicecode"));
}

#[tokio::test]
async fn a_pasted_redirect_completes_the_code_flow() {
    let sim = sim(Some(ALICE)).await;
    let store = store(microsoft(&sim));
    let client = TokenClient::new(TokenClientConfig::default()).unwrap();
    let progress = |_: &Progress| {};
    let signin = Signin {
        client: &client,
        browser: &NoBrowser,
        store: &store,
        progress: &progress,
    };
    let options = SigninOptions::default();
    let pending = PasteSignin::start(&signin, "work", &options)
        .await
        .expect("starts");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let answer = http
        .get(pending.authorize_url().as_str())
        .send()
        .await
        .unwrap();
    let address = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(address.starts_with(pending.redirect_uri()), "{address}");
    let user = pending
        .complete(async move { Some(address) })
        .await
        .expect("connects");
    assert_eq!(user.upn.as_deref(), Some(ALICE));
    assert_eq!(store.connected.lock().unwrap().len(), 1);
}
