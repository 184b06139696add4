//! What the webview sees: plain, serializable views mapped from the engine's
//! read model (`AccountStatus`, `Overview`) and the stored account settings.
//! Nothing is decided here: health, attention, counts, forecasts and spikes
//! come from the engine and the core. No view holds a token, an
//! authorization code or a PKCE verifier; the types here have no field that
//! could carry one.

use reconnect_core::authority::{self, AuthorityKind, Cloud};
use reconnect_core::decode::Verdict;
use reconnect_core::forecast::{self, Forecast};
use reconnect_core::health::{Health, HealthState, Standing};
use reconnect_core::spike::{SpikeAlert, SpikeKey};
use reconnect_engine::{AccountStatus, Overview};
use reconnect_store::{Account, Identity, KeeperKind, Provider};
use serde::Serialize;

use crate::keeper::Keeping;

/// The dashboard's data.
#[derive(Debug, Clone, Serialize)]
pub struct AccountList {
    /// The backend's "now" (the demo's clock may run ahead of real time).
    pub now: i64,
    /// One entry per account.
    pub accounts: Vec<AccountView>,
    /// What the accounts add up to.
    pub summary: SummaryView,
    /// Active spike alerts across accounts.
    pub spikes: Vec<SpikeView>,
    /// Whether the profile's keychain can be reached right now.
    pub keychain: KeychainView,
    /// Who keeps the profile (runs its scheduled refreshes).
    pub keeper: KeeperView,
}

/// Who keeps the profile, as the dashboard's status line and the settings
/// view show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeeperView {
    /// Which program keeps it.
    pub by: KeptBy,
    /// Its process id, when another process keeps it.
    pub pid: Option<u32>,
    /// The status line, when it is not this app that keeps it.
    pub note: Option<String>,
}

/// Which program keeps the profile. The serde names are the contract with
/// `ui/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeptBy {
    /// Not known yet: the profile is opening.
    Undecided,
    /// This app.
    ThisApp,
    /// `reconnect keep`.
    ReconnectKeep,
    /// Another instance of the app (on the same data by other means).
    OtherApp,
    /// A process whose lock file says nothing more.
    Unknown,
    /// Nobody: the lock could not be used, so no scheduler runs.
    Nobody,
}

impl From<Keeping> for KeeperView {
    fn from(keeping: Keeping) -> Self {
        let (by, pid) = match keeping {
            Keeping::Undecided => (KeptBy::Undecided, None),
            Keeping::Ours => (KeptBy::ThisApp, None),
            Keeping::Failed => (KeptBy::Nobody, None),
            Keeping::Elsewhere(keeper) => (
                match keeper.kind {
                    Some(KeeperKind::Keep) => KeptBy::ReconnectKeep,
                    Some(KeeperKind::App) => KeptBy::OtherApp,
                    None => KeptBy::Unknown,
                },
                keeper.pid,
            ),
        };
        Self {
            by,
            pid,
            note: crate::keeper::note(keeping),
        }
    }
}

/// The dashboard's summary line and the tray's count, from the engine's
/// overview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SummaryView {
    /// All accounts.
    pub total: usize,
    /// Accounts a person must act on (the tray shows this count).
    pub needs_attention: usize,
    /// Accounts retrying on their own.
    pub retrying: usize,
    /// Accounts that work.
    pub healthy: usize,
}

impl From<&Overview> for SummaryView {
    fn from(o: &Overview) -> Self {
        Self {
            total: o.accounts.len(),
            needs_attention: o.needs_attention,
            retrying: o.retrying,
            healthy: o.healthy,
        }
    }
}

/// The keychain's reachability, as the dashboard's banner shows it.
#[derive(Debug, Clone, Serialize)]
pub struct KeychainView {
    /// `available`, `locked`, `denied` or `unavailable`.
    pub state: &'static str,
    /// What is wrong and what to do, when it is not available.
    pub message: Option<String>,
}

impl KeychainView {
    /// Builds the view from one probe of the keychain.
    pub fn from_probe(probe: Result<(), reconnect_store::KeychainError>) -> Self {
        match probe {
            Ok(()) => Self {
                state: "available",
                message: None,
            },
            Err(err) => {
                // The app's wording of the keychain error (not the CLI's).
                let detail = crate::commands::error::keychain(&err).message;
                Self {
                    state: err.availability(),
                    message: Some(format!(
                        "{} Until it is back, tokens cannot be read or refreshed; \
                         the health shown is the last known.",
                        detail.trim_end()
                    )),
                }
            }
        }
    }
}

/// One account card.
#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    /// The account's unique label.
    pub name: String,
    /// The signed-in user, once known.
    pub user: Option<String>,
    /// The tenant (Microsoft) or issuer host (OpenID Connect).
    pub tenant: Option<String>,
    /// `microsoft` or `oidc`.
    pub provider: &'static str,
    /// The provider in words.
    pub provider_label: String,
    /// The health state.
    pub health: HealthState,
    /// Needs attention, retrying or healthy (the core's [`Standing`]).
    pub standing: Standing,
    /// Whether a person must act (`standing` is `needs_attention`).
    pub needs_attention: bool,
    /// Whether new tokens are held that the keychain refused.
    pub unsaved_credentials: bool,
    /// When a refresh last worked.
    pub last_refresh_ok_at: Option<i64>,
    /// When the connection dies if left alone.
    pub forecast: Option<ForecastView>,
    /// Why it is broken, when it is.
    pub reason: Option<ReasonView>,
    /// Since when and over how many attempts the sign-in service has been
    /// out of reach, when the health is `unreachable`.
    pub unreachable: Option<UnreachableView>,
    /// Whether the Reconnect button applies (on the detail page, always).
    pub can_reconnect: bool,
    /// Whether the dashboard card offers it: the state asks a person to act.
    pub suggest_reconnect: bool,
}

/// The expiry forecast of one account.
#[derive(Debug, Clone, Serialize)]
pub struct ForecastView {
    /// When it dies.
    pub dies_at: i64,
    /// `idle`, `spa_lifetime` or `sign_in_frequency`.
    pub cause: Option<forecast::Cause>,
    /// Whether a keep-alive refresh pushes it back.
    pub preventable: bool,
}

/// Network trouble that has lasted (the engine's run of it).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct UnreachableView {
    /// When the first failure to reach the sign-in service happened.
    pub since: i64,
    /// How many attempts in a row failed so.
    pub attempts: u32,
}

/// The decoded reason of the last failure, in short.
#[derive(Debug, Clone, Serialize)]
pub struct ReasonView {
    /// The primary AADSTS code.
    pub code: Option<u64>,
    /// The OAuth error.
    pub error: Option<String>,
    /// A short title.
    pub title: String,
    /// Plain words for the user.
    pub user_message: String,
    /// `user`, `admin`, `developer` or `nobody`.
    pub who_acts: String,
}

/// One spike alert.
#[derive(Debug, Clone, Serialize)]
pub struct SpikeView {
    /// The shared code (`AADSTS50173`) or category.
    pub label: String,
    /// The accounts involved.
    pub accounts: Vec<String>,
    /// First failure in the window.
    pub first_at: i64,
    /// Latest failure in the window.
    pub last_at: i64,
    /// The likely cause in plain words.
    pub likely_cause: String,
}

/// The short reason of a failure.
pub fn reason(v: &Verdict) -> ReasonView {
    ReasonView {
        code: v.primary_code.map(u64::from),
        error: v.error.clone(),
        title: v.title.clone(),
        user_message: v.user_message.clone(),
        who_acts: v.who_acts.as_str().to_owned(),
    }
}

/// The provider in words: the Microsoft service (and cloud, when it is not
/// the global one) as the core tells them apart, or the OpenID issuer's host.
pub fn provider_label(account: &Account, simulated: bool) -> String {
    if account.provider == Provider::Oidc {
        return url_host(&account.authority).unwrap_or_else(|| "OpenID Connect".into());
    }
    let tenant = account.tenant.as_deref().unwrap_or_default();
    match authority::kind(&account.authority, tenant) {
        AuthorityKind::B2c => "Azure AD B2C".into(),
        AuthorityKind::Ciam => "Microsoft Entra External ID".into(),
        AuthorityKind::Entra if simulated => "Microsoft Entra ID (simulator)".into(),
        AuthorityKind::Entra => match Cloud::of_authority(&account.authority) {
            Some(Cloud::Global) => "Microsoft Entra ID".into(),
            Some(cloud) => format!("Microsoft Entra ID, {}", cloud.label()),
            None => match url_host(&account.authority) {
                Some(host) => format!("Microsoft Entra ID at {host}"),
                None => "Microsoft Entra ID".into(),
            },
        },
    }
}

/// One Microsoft cloud as the add-account form offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CloudView {
    /// The core's name for it (what the form sends back).
    pub cloud: Cloud,
    /// What the picker shows.
    pub label: &'static str,
    /// Its Entra ID authority.
    pub authority: &'static str,
}

impl From<Cloud> for CloudView {
    fn from(cloud: Cloud) -> Self {
        Self {
            cloud,
            label: cloud.label(),
            authority: cloud.authority(),
        }
    }
}

/// What the add-account form offers beyond its defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddChoices {
    /// Microsoft's clouds, in the core's order.
    pub clouds: Vec<CloudView>,
    /// Whether Entra ID sign-ins go to the demo's simulator (whatever the
    /// cloud).
    pub simulated: bool,
}

/// Who signed in, as a first connection's question shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SignedInView {
    /// Sign-in name (UPN), else a description of the user.
    pub user: String,
    /// Display name, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Tenant id, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

impl SignedInView {
    /// From the identity stored by the sign-in; `described` names the user
    /// when the identity has no sign-in name.
    pub fn new(identity: &Identity, described: &str) -> Self {
        Self {
            user: identity.upn.clone().unwrap_or_else(|| described.to_owned()),
            display_name: identity.display_name.clone(),
            tenant: identity.tid.clone(),
        }
    }
}

fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| host.to_owned())
}

/// The card's part of a forecast (the engine's, with the lifetimes it
/// learned from the account's own failures). Nothing known: no forecast.
pub fn forecast_view(f: &Forecast) -> Option<ForecastView> {
    Some(ForecastView {
        dies_at: f.dies_at?,
        cause: f.cause,
        preventable: f.cause.is_some_and(forecast::Cause::preventable),
    })
}

/// One spike alert in words.
pub fn spike_view(alert: SpikeAlert) -> SpikeView {
    SpikeView {
        label: match &alert.key {
            SpikeKey::Code(c) => format!("AADSTS{c}"),
            SpikeKey::Category(c) => c.as_str().replace('-', " "),
        },
        accounts: alert.accounts,
        first_at: alert.first_at,
        last_at: alert.last_at,
        likely_cause: alert.likely_cause,
    }
}

/// Builds a card from the account's settings and the engine's status.
pub fn account_view(account: &Account, status: &AccountStatus, simulated: bool) -> AccountView {
    let tenant = match account.provider {
        Provider::Microsoft => account
            .identity
            .tid
            .clone()
            .filter(|_| {
                matches!(
                    account.tenant.as_deref(),
                    Some("organizations" | "common") | None
                )
            })
            .or_else(|| account.tenant.clone()),
        Provider::Oidc => url_host(&account.authority),
    };
    let state = status.health.state();
    AccountView {
        name: account.name.clone(),
        user: account
            .identity
            .upn
            .clone()
            .or_else(|| account.identity.display_name.clone()),
        tenant,
        provider: account.provider.as_str(),
        provider_label: provider_label(account, simulated),
        last_refresh_ok_at: status.last_refresh.or(status.refresh_issued_at),
        forecast: forecast_view(&status.forecast),
        reason: status.last_failure.as_ref().map(reason),
        unreachable: match status.health {
            Health::Unreachable { streak, .. } => streak.network.map(|run| UnreachableView {
                since: run.since,
                attempts: run.attempts,
            }),
            _ => None,
        },
        can_reconnect: true,
        // A sign-in does not get past a network in the way.
        suggest_reconnect: state.needs_attention() && state != HealthState::Unreachable,
        health: state,
        standing: status.standing,
        needs_attention: status.needs_attention,
        unsaved_credentials: status.unsaved_credentials,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reconnect_core::forecast::{ForecastConfig, Lifetimes, RefreshTokenFacts};
    use reconnect_store::TokenFacts;

    #[test]
    fn the_reason_is_the_verdicts_short_form() {
        let r = reason(&reconnect_core::decode::decode_code(50173));
        assert_eq!(r.code, Some(50173));
        assert_eq!(r.who_acts, "user");
        assert!(!r.user_message.is_empty());
    }

    fn forecast_with(lifetimes: &Lifetimes, facts: &TokenFacts, now: i64) -> Option<ForecastView> {
        let input = RefreshTokenFacts {
            first_issued_at: facts.refresh_issued_at,
            last_used_at: facts.refresh_last_used_at,
            spa: facts.spa,
        };
        forecast_view(&forecast::forecast(
            &input,
            lifetimes,
            &ForecastConfig::default(),
            now,
        ))
    }

    #[test]
    fn the_card_forecast_follows_a_learned_idle_limit() {
        let facts = TokenFacts {
            refresh_issued_at: Some(1_000),
            refresh_last_used_at: Some(2_000),
            ..TokenFacts::default()
        };
        let f = forecast_with(&Lifetimes::default(), &facts, 3_000).expect("a forecast");
        assert_eq!(f.dies_at, 2_000 + 90 * 86_400);
        assert!(f.preventable);
        let learned = Lifetimes::default().with_learned(Some(4 * 86_400), None);
        let f = forecast_with(&learned, &facts, 3_000).expect("a forecast");
        assert_eq!(f.dies_at, 2_000 + 4 * 86_400);
        // Nothing known about the token: no forecast on the card.
        assert!(forecast_with(&learned, &TokenFacts::default(), 3_000).is_none());
    }

    #[test]
    fn hosts_are_read_from_issuer_urls() {
        assert_eq!(
            url_host("https://id.example.com/realms/x").as_deref(),
            Some("id.example.com")
        );
        assert_eq!(url_host("not a url"), None);
    }

    #[test]
    fn the_keychain_banner_says_what_is_wrong_without_repeating_its_heading() {
        let ok = KeychainView::from_probe(Ok(()));
        assert_eq!((ok.state, ok.message), ("available", None));
        let locked =
            KeychainView::from_probe(Err(reconnect_store::KeychainError::Locked { cause: None }));
        assert_eq!(locked.state, "locked");
        let message = locked.message.expect("a locked keychain is explained");
        assert!(
            message.starts_with("Your keychain is locked. Unlock it"),
            "{message}"
        );
        assert!(
            message.ends_with("the health shown is the last known."),
            "{message}"
        );
    }
}
