//! The sign-in's collaborators and the parts every way of signing in shares:
//! reading the account, finding the provider (endpoints, JWKS) and recording
//! a failed attempt. The ways themselves:
//!
//! - [`Signin::run`]: the browser on this machine and the loopback redirect
//!   ([`crate::redirect`]);
//! - [`crate::PasteSignin`]: the same redirect, with the address the browser
//!   ended on pasted back (or reached through an SSH tunnel);
//! - [`crate::DeviceSignin`]: a user code entered on any other device.
//!
//! All of them end in the one completion path ([`crate::complete`]): id_token
//! validation, the same-account guard, then storage under the account's lock.

use std::time::{Duration, Instant};

use reconnect_oauth::endpoints::{EndpointError, ProviderEndpoints};
use reconnect_oauth::{IdTokenValidator, ProviderMetadata, TokenClient};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::browser::Browser;
use crate::claims;
use crate::error::{Outcome, SigninError};
use crate::identity::KnownUser;
use crate::store::{AccountSettings, FailedAttempt, ProviderKind, SigninStore};

/// The default time to wait for the browser.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// What one sign-in should do.
#[derive(Debug, Clone)]
pub struct SigninOptions {
    /// Give up after this long without an answer.
    pub timeout: Duration,
    /// Ask the provider to show its account picker.
    pub select_account: bool,
    /// Cancels the sign-in (the app's button, Ctrl-C).
    pub cancel: CancellationToken,
    /// Listen for the redirect on this port instead of the account's range
    /// (`--port`; a fixed port makes an SSH tunnel possible).
    pub port: Option<u16>,
}

impl Default for SigninOptions {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            select_account: false,
            cancel: CancellationToken::new(),
            port: None,
        }
    }
}

/// Progress reported while signing in.
#[derive(Debug, Clone)]
pub enum Progress {
    /// Listening for the redirect.
    Listening {
        /// The redirect URI.
        redirect_uri: String,
    },
    /// The browser was asked to open this URL.
    BrowserOpened {
        /// The authorize URL (no secret in it: PKCE sends only the challenge).
        url: String,
        /// Which browser.
        browser: String,
        /// How long Reconnect waits.
        timeout: Duration,
        /// Whether a claims challenge is being passed.
        claims_challenge: bool,
    },
    /// The browser could not be opened (it failed to start, or its command
    /// ended with a failure). The sign-in keeps waiting: the user can open
    /// `url` in a browser themselves.
    BrowserFailed {
        /// The authorize URL to open by hand.
        url: String,
        /// What went wrong, in words.
        reason: String,
    },
    /// The answer came back; tokens are being fetched (or were issued, for
    /// a device code) and are being checked.
    Exchanging,
}

/// The collaborators of a sign-in, injectable for tests.
pub struct Signin<'a> {
    /// The token client.
    pub client: &'a TokenClient,
    /// How the URL reaches the user (unused by the device-code and paste
    /// ways; [`crate::browser::NoBrowser`] says so).
    pub browser: &'a dyn Browser,
    /// Where settings come from and results go.
    pub store: &'a dyn SigninStore,
    /// Progress sink.
    pub progress: &'a (dyn Fn(&Progress) + Send + Sync),
}

impl std::fmt::Debug for Signin<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signin")
            .field("browser", &self.browser.describe())
            .finish_non_exhaustive()
    }
}

/// A provider ready for a sign-in: its endpoints and id_token validator.
#[derive(Debug)]
pub(crate) struct Provider {
    pub(crate) endpoints: ProviderEndpoints,
    pub(crate) validator: IdTokenValidator,
}

impl Signin<'_> {
    /// Runs the browser sign-in for `account`. On success the tokens are
    /// stored and the account is healthy; on failure nothing of the
    /// connection changes and the attempt is recorded.
    pub async fn run(
        &self,
        account: &str,
        options: &SigninOptions,
    ) -> Result<KnownUser, SigninError> {
        let started = Instant::now();
        let settings = self.store.settings(account).map_err(SigninError::Store)?;
        let result = self.browser_attempt(&settings, options, started).await;
        self.recorded(account, started, result)
    }

    /// Records `result`'s failure (history only) and hands it back.
    pub(crate) fn recorded<T>(
        &self,
        account: &str,
        started: Instant,
        result: Result<T, SigninError>,
    ) -> Result<T, SigninError> {
        if let Err(err) = &result {
            let attempt = self.failed_attempt(err, started);
            if let Err(e) = self.store.attempt_failed(account, &attempt) {
                tracing::warn!("could not record the failed sign-in: {e}");
            }
        }
        result
    }

    fn failed_attempt(&self, err: &SigninError, started: Instant) -> FailedAttempt {
        let verdict = err.verdict();
        FailedAttempt {
            at: self.client.now(),
            duration_ms: elapsed_ms(started),
            cancelled: err.outcome() == Outcome::Cancelled,
            code: verdict
                .and_then(|v| v.primary_code)
                .map(|c| format!("AADSTS{c}")),
            error: verdict.and_then(|v| v.error.clone()),
            suberror: verdict.and_then(|v| v.suberror.clone()),
            trace_id: verdict.and_then(|v| v.trace_id.clone()),
            correlation_id: verdict.and_then(|v| v.correlation_id.clone()),
            message: err.chain(),
        }
    }

    /// Finds the provider's endpoints and keys, or gives up on cancel.
    pub(crate) async fn provider(
        &self,
        settings: &AccountSettings,
        cancel: &CancellationToken,
    ) -> Result<Provider, SigninError> {
        tokio::select! {
            p = self.find_provider(settings) => p,
            () = cancel.cancelled() => Err(SigninError::Cancelled),
        }
    }

    async fn find_provider(&self, settings: &AccountSettings) -> Result<Provider, SigninError> {
        let base = Url::parse(&settings.authority).map_err(|_| {
            SigninError::Provider(EndpointError::BadBase(settings.authority.clone()))
        })?;
        let (endpoints, meta) = match settings.provider {
            ProviderKind::Microsoft => {
                let tenant = settings.tenant.as_deref().unwrap_or("organizations");
                let endpoints =
                    ProviderEndpoints::microsoft(&base, tenant).map_err(SigninError::Provider)?;
                let meta = ProviderMetadata::fetch(self.client, &endpoints.discovery, None)
                    .await
                    .map_err(SigninError::Provider)?;
                (endpoints, meta)
            }
            ProviderKind::Oidc => {
                let meta = ProviderMetadata::discover(self.client, &base)
                    .await
                    .map_err(SigninError::Provider)?;
                let discovery =
                    ProviderEndpoints::oidc_discovery_url(&base).map_err(SigninError::Provider)?;
                (meta.endpoints(discovery), meta)
            }
        };
        let validator = IdTokenValidator::fetch(self.client, meta)
            .await
            .map_err(SigninError::Keys)?;
        // Entra apps with a custom signing key sign with a key published only
        // at `jwks_uri?appid=`; other providers have no such key set.
        let validator = match settings.provider {
            ProviderKind::Microsoft => validator.with_app_keys(),
            ProviderKind::Oidc => validator,
        };
        Ok(Provider {
            endpoints,
            validator,
        })
    }
}

/// The `claims` parameter for `settings`: the last failure's challenge with
/// the client capabilities Reconnect declares to Microsoft. A stored
/// challenge that cannot be read is left out (and logged), not sent.
pub(crate) fn claims_for(settings: &AccountSettings) -> Option<String> {
    let capabilities: &[&str] = if settings.provider == ProviderKind::Microsoft {
        claims::CLIENT_CAPABILITIES
    } else {
        &[]
    };
    match claims::merge(settings.claims_challenge.as_deref(), capabilities) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("ignoring the stored claims challenge: {e}");
            claims::merge(None, capabilities).unwrap_or(None)
        }
    }
}

pub(crate) fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}
