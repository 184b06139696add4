//! A test rig: the real simulator on loopback, a real SQLite database in a
//! temp dir, the size-limited in-memory vault (fast; the keychain itself is
//! exercised by the CLI process tests), and an engine whose clock IS the
//! simulator's virtual clock — so advancing the simulator ages the tokens for
//! both sides at once.

#![allow(dead_code)]

use std::sync::Arc;

use reconnect_core::tokens::UnixTime;
use reconnect_engine::{Clock, Engine, EngineConfig};
use reconnect_oauth::TokenResponse;
use reconnect_sim::{
    AppRegistration, GrantRequest, Platform, RedirectUri, RunningSim, SimConfig, SimState,
    Simulator,
};
use reconnect_store::{
    AccountId, Home, MemoryKeychain, MemoryVault, NewAccount, Store, TokenFacts, Vault,
};

/// The client id every test account uses.
pub const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
/// A web app (a confidential client): its redirect URI is registered under
/// "Web", so its grants are redeemed with its secret.
pub const WEB_CLIENT: &str = "22222222-3333-4444-5555-666666666666";
/// [`WEB_CLIENT`]'s redirect URI.
const WEB_REDIRECT: &str = "https://app.test/signin";
/// [`WEB_CLIENT`]'s secret.
const WEB_SECRET: &str = "web-app-secret";
/// The scopes every test account asks for.
pub const SCOPES: &str = "openid profile offline_access User.Read";

/// The simulator's virtual clock as the engine's clock.
#[derive(Debug, Clone)]
pub struct SimClock(pub SimState);

impl Clock for SimClock {
    fn now(&self) -> UnixTime {
        self.0.now()
    }
}

/// Everything one test needs.
pub struct Rig {
    pub sim: RunningSim,
    pub dir: tempfile::TempDir,
    pub keychain: MemoryKeychain,
    pub vault: Arc<MemoryVault>,
    pub engine: Engine,
}

impl Rig {
    pub async fn new() -> Self {
        Self::with_config(EngineConfig::default()).await
    }

    pub async fn with_config(config: EngineConfig) -> Self {
        let sim = Simulator::start(SimConfig {
            users: vec![
                "alice@contoso.test".into(),
                "bob@contoso.test".into(),
                "carol@contoso.test".into(),
                "dave@contoso.test".into(),
            ],
            apps: vec![AppRegistration::desktop(CLIENT)],
            ..SimConfig::default()
        })
        .await
        .expect("simulator starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let keychain = MemoryKeychain::new();
        let vault = Arc::new(MemoryVault::new(keychain.clone()));
        let engine = Engine::builder(Home::at(dir.path()).expect("home"))
            .vault(vault.clone())
            .clock(Arc::new(SimClock(sim.state.clone())))
            .config(config)
            .jitter(Arc::new(|| 0.5))
            .build()
            .expect("engine opens");
        Self {
            sim,
            dir,
            keychain,
            vault,
            engine,
        }
    }

    pub fn store(&self) -> &Store {
        self.engine.store()
    }

    pub fn now(&self) -> UnixTime {
        self.sim.state.now()
    }

    pub fn advance(&self, seconds: i64) {
        self.sim.state.advance_clock(seconds).expect("clock moves");
    }

    /// Adds account `name` for `upn` and stores a freshly minted token set,
    /// as a sign-in would. Returns its id.
    pub fn connect(&self, name: &str, upn: &str) -> AccountId {
        self.connect_with(name, upn, false)
    }

    pub fn connect_with(&self, name: &str, upn: &str, spa: bool) -> AccountId {
        let body = self
            .sim
            .state
            .mint_grant(
                &GrantRequest {
                    upn: upn.into(),
                    client_id: CLIENT.into(),
                    scope: SCOPES.into(),
                    spa,
                    mfa: false,
                },
                &self.sim.http_url,
            )
            .expect("grant minted");
        self.store_grant(name, CLIENT, &body, spa)
    }

    /// Adds account `name` of [`WEB_CLIENT`] holding the grant of a sign-in
    /// of `upn` through the web app's redirect URI, redeemed with its secret
    /// (as the web app's server would). Reconnect, a public client, has no
    /// secret to refresh it with.
    pub async fn connect_web(&self, name: &str, upn: &str) -> AccountId {
        let mut app = AppRegistration::desktop(WEB_CLIENT);
        app.redirect_uris = vec![RedirectUri {
            uri: WEB_REDIRECT.into(),
            platform: Platform::Web,
        }];
        app.client_secret = Some(WEB_SECRET.into());
        self.sim
            .state
            .register_app(app)
            .expect("web app registered");
        self.sim.state.set_auto_approve(Some(upn));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        let base = format!("{}/common/oauth2/v2.0", self.sim.http_url);
        let answer = http
            .get(format!("{base}/authorize"))
            .query(&[
                ("client_id", WEB_CLIENT),
                ("response_type", "code"),
                ("redirect_uri", WEB_REDIRECT),
                ("scope", SCOPES),
                ("state", "s"),
            ])
            .send()
            .await
            .expect("authorize answers");
        let location = answer
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or_else(|| panic!("authorize did not redirect: {}", answer.status()));
        let location = url::Url::parse(location).expect("a redirect URL");
        let code = location
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no code in {location}"));
        self.sim.state.set_auto_approve(None);
        let answer = http
            .post(format!("{base}/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", WEB_CLIENT),
                ("client_secret", WEB_SECRET),
                ("code", &code),
                ("redirect_uri", WEB_REDIRECT),
                ("scope", SCOPES),
            ])
            .send()
            .await
            .expect("token answers");
        let status = answer.status();
        let body: serde_json::Value = answer.json().await.expect("a JSON answer");
        assert!(status.is_success(), "code redemption: {status} {body}");
        self.store_grant(name, WEB_CLIENT, &body, false)
    }

    /// Adds account `name` of `client` at the simulator and stores the
    /// token answer `body` as a sign-in would.
    fn store_grant(
        &self,
        name: &str,
        client: &str,
        body: &serde_json::Value,
        spa: bool,
    ) -> AccountId {
        let mut new = NewAccount::microsoft(name, client);
        new.authority = self.sim.http_url.clone();
        new.tenant = Some("common".into());
        let account = self.store().add_account(&new).expect("account added");
        let now = self.now();
        let response =
            TokenResponse::parse(body.to_string().as_bytes(), now).expect("grant parses");
        self.vault
            .put(account.id, &response.tokens)
            .expect("vault write");
        self.store()
            .write(|tx| {
                tx.rewrite_token_facts(
                    account.id,
                    &TokenFacts {
                        access_expires_at: response.tokens.access_expires_at,
                        refresh_issued_at: Some(now),
                        refresh_last_used_at: Some(now),
                        rotation_count: 0,
                        spa,
                        stored_at: now,
                        write_seq: 0,
                    },
                )
            })
            .expect("facts written");
        account.id
    }

    /// Makes the stored access token expired (keeps the refresh token), in
    /// the vault and in the token facts, as any writer of tokens does.
    pub fn expire_access_token(&self, id: AccountId) {
        let mut tokens = self.vault.get(id).expect("read").expect("tokens stored");
        tokens.access_expires_at = Some(self.now() - 1);
        self.vault.put(id, &tokens).expect("write");
        let mut facts = self
            .store()
            .token_facts(id)
            .expect("facts")
            .expect("facts stored");
        facts.access_expires_at = tokens.access_expires_at;
        self.store()
            .write(|tx| tx.rewrite_token_facts(id, &facts))
            .expect("facts written");
    }

    /// Refresh-token grants the simulator has seen.
    pub fn refreshes(&self) -> usize {
        self.sim
            .state
            .log()
            .iter()
            .filter(|e| e.grant_type.as_deref() == Some("refresh_token"))
            .count()
    }

    /// The codes of the refresh answers, in order (None = success).
    pub fn refresh_codes(&self) -> Vec<Option<u32>> {
        self.sim
            .state
            .log()
            .iter()
            .filter(|e| e.grant_type.as_deref() == Some("refresh_token"))
            .map(|e| e.code)
            .collect()
    }

    pub fn fault(&self, json: serde_json::Value) {
        let request = serde_json::from_value(json).expect("fault request");
        self.sim.state.add_fault(request).expect("fault added");
    }

    pub fn user_state(&self, upn: &str, json: serde_json::Value) {
        let patch = serde_json::from_value(json).expect("patch");
        self.sim
            .state
            .set_user_state(upn, &patch)
            .expect("state set");
    }
}
