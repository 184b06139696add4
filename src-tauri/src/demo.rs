//! The demo profile: a simulator of Microsoft's identity endpoints running
//! inside the app, and four accounts in the states people meet in real life
//! (healthy, idle-expired, revoked, MFA required). The demo starts fresh on
//! every launch: tokens minted by an earlier simulator mean nothing to a new
//! one, so its accounts (and their keychain entries) are removed and seeded
//! again. It lives in its own data dir and keychain namespace. The simulator
//! is strict, as Entra is, so the demo registers its app ([`CLIENT_ID`]) as
//! a desktop app: any work or school account, `http://localhost` (any port)
//! under "Mobile and desktop applications" for the browser and paste
//! sign-ins, public client flows for the device code flow.

use std::sync::OnceLock;

use reconnect_core::health::HealthState;
use reconnect_core::tokens::TokenSet;
use reconnect_oauth::TokenResponse;
use reconnect_sim::{
    AppRegistration, ControlClient, ControlError, GrantRequest, RunningSim, SimConfig, Simulator,
    UserStatePatch,
};
use reconnect_store::events::{EventKind, Outcome};
use reconnect_store::{Identity, NewAccount, NewEvent, Profile, TokenFacts};

/// The client id of the demo's (simulated) app registration.
pub const CLIENT_ID: &str = "7e1c0a52-3d2b-4c59-9f1e-5d0f4c2a9b11";
/// Scopes the demo accounts hold.
pub const SCOPES: &str = "openid profile offline_access User.Read";
/// How far the demo's clock is moved to make one token idle-expire.
const IDLE_GAP: i64 = 91 * 86_400;

/// How a seeded account starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    Healthy,
    IdleExpired,
    Revoked,
    MfaRequired,
}

/// The seeded accounts: name, simulator user, starting state.
const SEED: [(&str, &str, Start); 4] = [
    ("adele-mail", "adele@contoso.test", Start::Healthy),
    ("bianca-files", "bianca@contoso.test", Start::IdleExpired),
    ("carlos-crm", "carlos@contoso.test", Start::Revoked),
    ("diego-teams", "diego@contoso.test", Start::MfaRequired),
];

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The simulator failed.
    #[error("the demo simulator failed")]
    Sim(#[from] reconnect_sim::SimError),
    /// The demo profile's store or keychain failed.
    #[error("the demo profile could not be written")]
    Store(#[from] reconnect_store::StoreError),
    /// The demo's tokens could not be stored or its old accounts removed.
    #[error("the demo's tokens could not be stored")]
    Grant(#[from] reconnect_store::GrantError),
    /// A minted answer could not be read.
    #[error("the simulator's token answer could not be read")]
    Token(#[from] reconnect_oauth::TokenError),
}

/// The running demo simulator, and the client of its control API the
/// tester panel drives it through (over loopback, like `reconnect sim`).
#[derive(Debug)]
pub struct Demo {
    sim: RunningSim,
    control: OnceLock<ControlClient>,
    /// The id of the tenant the seeded users belong to.
    tenant: String,
}

impl Demo {
    /// Starts the simulator on loopback (on the current tokio runtime).
    pub async fn start() -> Result<Self, DemoError> {
        let config = SimConfig {
            users: SEED.iter().map(|(_, upn, _)| (*upn).to_owned()).collect(),
            apps: vec![AppRegistration::desktop(CLIENT_ID)],
            ..SimConfig::default()
        };
        let sim = Simulator::start(config).await?;
        // Every seeded user is in one organisation (contoso.test).
        let tenant = sim.state.tenant_of(SEED[0].1);
        Ok(Self {
            sim,
            control: OnceLock::new(),
            tenant,
        })
    }

    /// The client of the simulator's control API at its loopback URL (made
    /// on first use, then kept).
    pub fn control(&self) -> Result<&ControlClient, ControlError> {
        if let Some(client) = self.control.get() {
            return Ok(client);
        }
        let client = ControlClient::new(&self.sim.http_url)?;
        Ok(self.control.get_or_init(|| client))
    }

    /// The simulator's base URL (the demo accounts' authority).
    pub fn url(&self) -> &str {
        self.sim.url()
    }

    /// The simulator's state: clock, users, faults.
    pub fn sim(&self) -> &reconnect_sim::SimState {
        &self.sim.state
    }

    /// The simulator's virtual now.
    pub fn now(&self) -> i64 {
        self.sim.state.now()
    }

    /// The tenant the demo accounts use: their organisation's tenant id.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// Removes whatever an earlier launch left and seeds the four accounts.
    /// Broken accounts get their grant broken in the simulator; the first
    /// refresh (run by the engine) then discovers and decodes the failure.
    pub fn seed(&self, profile: &Profile) -> Result<(), DemoError> {
        for old in profile.store().accounts()? {
            profile.remove_account(&old.name)?;
        }
        // The idle account signs in first; the clock then moves past the
        // 90-day idle limit before the others sign in.
        for (name, upn, start) in SEED.iter().filter(|(_, _, s)| *s == Start::IdleExpired) {
            self.sign_in(profile, name, upn, *start)?;
        }
        self.sim.state.advance_clock(IDLE_GAP)?;
        for (name, upn, start) in SEED.iter().filter(|(_, _, s)| *s != Start::IdleExpired) {
            self.sign_in(profile, name, upn, *start)?;
        }
        for (_, upn, start) in SEED {
            match start {
                Start::Revoked => {
                    self.sim.state.revoke(upn)?;
                }
                Start::MfaRequired => {
                    let patch = UserStatePatch {
                        mfa_required: Some(true),
                        ..UserStatePatch::default()
                    };
                    self.sim.state.set_user_state(upn, &patch)?;
                }
                Start::Healthy | Start::IdleExpired => {}
            }
        }
        Ok(())
    }

    /// The account settings of a demo account.
    pub fn new_account(&self, name: &str) -> NewAccount {
        let mut account = NewAccount::microsoft(name, CLIENT_ID);
        account.authority = self.url().to_owned();
        account.tenant = Some(self.tenant().to_owned());
        account.scopes = reconnect_store::account::split_scopes(SCOPES);
        account
    }

    /// Signs `upn` in without a browser (the simulator mints the grant) and
    /// stores the tokens as an interactive sign-in would.
    fn sign_in(
        &self,
        profile: &Profile,
        name: &str,
        upn: &str,
        start: Start,
    ) -> Result<(), DemoError> {
        let account = profile.store().add_account(&self.new_account(name))?;
        let request = GrantRequest {
            upn: upn.to_owned(),
            client_id: CLIENT_ID.to_owned(),
            scope: SCOPES.to_owned(),
            spa: false,
            mfa: false,
        };
        let now = self.now();
        let body = self.sim.state.mint_grant(&request, self.url())?;
        let answer = TokenResponse::parse(body.to_string().as_bytes(), now)?;
        let user = self.sim.state.user(upn);
        let identity = Identity {
            upn: Some(upn.to_owned()),
            oid: user.as_ref().map(|u| u.oid.clone()),
            tid: Some(self.tenant().to_owned()),
            display_name: user.map(|u| u.name),
            ..Identity::default()
        };
        profile.store().set_identity(account.id, &identity)?;
        let tokens: TokenSet = answer.tokens;
        let facts = TokenFacts {
            access_expires_at: tokens.access_expires_at,
            refresh_issued_at: Some(now),
            refresh_last_used_at: Some(now),
            ..TokenFacts::default()
        };
        let mut event = NewEvent::new(now, Some(&account), EventKind::Signin, Outcome::Ok);
        event.message = Some(format!("demo sign-in ({start:?})"));
        let write = reconnect_store::TokenWrite {
            account: &account,
            tokens: &tokens,
            facts,
            basis: reconnect_store::Basis::NewGrant,
            after_vault: None,
        };
        profile.grants().write(write, |tx| {
            tx.set_health(account.id, HealthState::Healthy, None)?;
            tx.append_event(&event).map(|_| ())
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reconnect_sim::Platform;

    #[tokio::test]
    async fn the_strict_demo_simulator_knows_the_demo_app() {
        let demo = Demo::start().await.expect("demo simulator");
        let sim = demo.sim();
        assert!(sim.is_strict());
        let app = sim.app(CLIENT_ID).expect("the demo app is registered");
        // The browser and paste sign-ins return to http://localhost:PORT/.
        assert_eq!(
            app.redirect("http://localhost:53100/"),
            Some(Platform::MobileDesktop)
        );
        assert!(app.public_client_flows, "the device code flow needs it");
        assert_eq!(demo.tenant(), sim.tenant_of("adele@contoso.test"));
        assert_ne!(demo.tenant(), reconnect_sim::CONSUMERS_TENANT_ID);
        let request = GrantRequest {
            upn: "adele@contoso.test".to_owned(),
            client_id: CLIENT_ID.to_owned(),
            scope: SCOPES.to_owned(),
            spa: false,
            mfa: false,
        };
        let body = sim.mint_grant(&request, demo.url()).expect("a demo grant");
        assert!(body["refresh_token"].is_string(), "{body}");
    }
}
