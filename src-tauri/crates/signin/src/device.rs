//! Signing in on another device with a code (RFC 8628, as Entra implements
//! it): [`DeviceSignin::start`] asks the provider for a user code and hands
//! back what to show ([`UserCode`]); [`DeviceSignin::complete`] polls the
//! token endpoint at the interval given (longer after each `slow_down`)
//! until the user approves, declines, or the code expires, then finishes
//! through the shared completion path (id_token, same account, storage).
//!
//! ```no_run
//! # async fn demo(signin: &reconnect_signin::Signin<'_>) -> Result<(), reconnect_signin::SigninError> {
//! use reconnect_signin::{CancellationToken, DeviceSignin};
//! let cancel = CancellationToken::new();
//! let device = DeviceSignin::start(signin, "work", &cancel).await?;
//! println!("open {} and enter {}", device.code().verification_uri, device.code().user_code);
//! let user = device.complete(&cancel).await?;
//! # let _ = user; Ok(()) }
//! ```

use std::time::{Duration, Instant};

use reconnect_core::decode::Verdict;
use reconnect_oauth::{DeviceAuthorization, DeviceEnding, DevicePoll, TokenError, TokenResponse};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::error::{Outcome, SigninError, describe, outcome_of};
use crate::flow::{Progress, Provider, Signin, claims_for};
use crate::identity::KnownUser;
use crate::request::with_openid;
use crate::store::AccountSettings;

/// The AADSTS code of a Conditional Access block.
const BLOCKED_BY_POLICY: u32 = 53003;

/// Transient polling failures in a row that are waited out.
const TRANSIENT_RETRIES: u32 = 3;

/// What the user needs to sign in on another device, with RFC 8628's names
/// (this is also `reconnect signin --device-code --json`'s output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserCode {
    /// The page to open on any device.
    pub verification_uri: String,
    /// The code to enter there.
    pub user_code: String,
    /// Seconds the code stays valid.
    pub expires_in: u64,
    /// Seconds between polls (as first given).
    pub interval: u64,
    /// The page with the code filled in, when the provider offers one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_uri_complete: Option<String>,
    /// The provider's own instructions, when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl UserCode {
    fn of(a: &DeviceAuthorization) -> Self {
        Self {
            verification_uri: a.verification_uri.to_string(),
            user_code: a.user_code.clone(),
            expires_in: a.expires_in.as_secs(),
            interval: a.interval.as_secs(),
            verification_uri_complete: a.verification_uri_complete.as_ref().map(|u| u.to_string()),
            message: a.message.clone(),
        }
    }
}

/// Why the device-code way ended without tokens.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The provider has no device authorization endpoint.
    #[error("this provider does not offer signing in with a code on another device")]
    Unsupported,
    /// No user code was issued.
    #[error("could not get a sign-in code: {}", describe(.verdict))]
    Start {
        /// The decoder's verdict.
        verdict: Box<Verdict>,
        /// The request's error.
        #[source]
        source: reconnect_oauth::DeviceStartError,
    },
    /// A Conditional Access policy blocks this way of signing in.
    #[error(
        "the organization's Conditional Access policy blocks signing in with a code on another \
         device ({})",
        describe(.0)
    )]
    Blocked(Box<Verdict>),
    /// The user declined on the other device.
    #[error("the sign-in was declined on the other device; nothing was changed")]
    Declined,
    /// The code expired before the user approved.
    #[error(
        "the sign-in code expired before it was approved (it was valid for {} s); nothing was changed",
        .0.as_secs()
    )]
    Expired(Duration),
    /// The provider no longer knows the device code.
    #[error("the provider does not recognise this sign-in's device code; nothing was changed")]
    BadCode,
}

impl DeviceError {
    pub(crate) fn outcome(&self) -> Outcome {
        match self {
            Self::Declined | Self::Expired(_) => Outcome::Cancelled,
            Self::Blocked(_) => Outcome::NeedsAdmin,
            Self::Start { verdict, .. } => outcome_of(verdict),
            Self::Unsupported | Self::BadCode => Outcome::Other,
        }
    }

    pub(crate) fn verdict(&self) -> Option<&Verdict> {
        match self {
            Self::Start { verdict, .. } | Self::Blocked(verdict) => Some(verdict),
            _ => None,
        }
    }
}

/// A device-code sign-in whose code was issued and is waiting for the user.
#[derive(Debug)]
pub struct DeviceSignin<'a> {
    signin: &'a Signin<'a>,
    settings: AccountSettings,
    provider: Provider,
    authorization: DeviceAuthorization,
    code: UserCode,
    started: Instant,
}

impl<'a> DeviceSignin<'a> {
    /// Reads the account, finds the provider and asks for a user code
    /// (passing the last failure's claims challenge). A failure is recorded
    /// in the account's history.
    pub async fn start(
        signin: &'a Signin<'a>,
        account: &str,
        cancel: &CancellationToken,
    ) -> Result<Self, SigninError> {
        let started = Instant::now();
        let settings = signin.store.settings(account).map_err(SigninError::Store)?;
        let begun = tokio::select! {
            b = Self::begin(signin, settings, started, cancel) => b,
            () = cancel.cancelled() => Err(SigninError::Cancelled),
        };
        signin.recorded(account, started, begun)
    }

    async fn begin(
        signin: &'a Signin<'a>,
        settings: AccountSettings,
        started: Instant,
        cancel: &CancellationToken,
    ) -> Result<Self, SigninError> {
        let provider = signin.provider(&settings, cancel).await?;
        let endpoint = provider
            .endpoints
            .device_authorization
            .clone()
            .ok_or(DeviceError::Unsupported)?;
        let claims = claims_for(&settings);
        let scope = with_openid(&settings.scope);
        let authorization = signin
            .client
            .request_device_code(&endpoint, &settings.client_id, &scope, claims.as_deref())
            .await
            .map_err(|source| {
                let verdict = Box::new(source.verdict(signin.client.now()));
                if verdict.primary_code == Some(BLOCKED_BY_POLICY) {
                    DeviceError::Blocked(verdict)
                } else {
                    DeviceError::Start { verdict, source }
                }
            })?;
        Ok(Self {
            signin,
            code: UserCode::of(&authorization),
            settings,
            provider,
            authorization,
            started,
        })
    }

    /// What to show the user.
    pub fn code(&self) -> &UserCode {
        &self.code
    }

    /// Whether a claims challenge from the last failure is being passed.
    pub fn claims_challenge(&self) -> bool {
        self.settings.claims_challenge.is_some()
    }

    /// Polls until the user approves, then checks and stores the result.
    /// Ends on a decline, an expired or unknown code, a refusal, or
    /// `cancel`; every failure is recorded in the account's history.
    pub async fn complete(self, cancel: &CancellationToken) -> Result<KnownUser, SigninError> {
        let signin = self.signin;
        let result = async {
            let response = self.poll(cancel).await?;
            (signin.progress)(&Progress::Exchanging);
            let completing =
                signin.complete(&self.settings, &self.provider, response, None, self.started);
            tokio::select! {
                done = completing => done,
                () = cancel.cancelled() => Err(SigninError::Cancelled),
            }
        }
        .await;
        signin.recorded(&self.settings.name, self.started, result)
    }

    async fn poll(&self, cancel: &CancellationToken) -> Result<TokenResponse, SigninError> {
        let client = self.signin.client;
        let lifetime = self.authorization.expires_in;
        let deadline = tokio::time::Instant::now() + lifetime;
        let mut interval = self.authorization.interval;
        let mut transient = 0;
        loop {
            let next = (tokio::time::Instant::now() + interval).min(deadline);
            tokio::select! {
                () = tokio::time::sleep_until(next) => {}
                () = cancel.cancelled() => return Err(SigninError::Cancelled),
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(DeviceError::Expired(lifetime).into());
            }
            let polled = tokio::select! {
                p = client.poll_device_code(
                    &self.provider.endpoints.token,
                    &self.settings.client_id,
                    &self.authorization.device_code,
                ) => p,
                () = cancel.cancelled() => return Err(SigninError::Cancelled),
            };
            match polled {
                Ok(DevicePoll::Issued(response)) => return Ok(*response),
                Ok(DevicePoll::Pending) => transient = 0,
                Ok(DevicePoll::SlowDown) => {
                    interval += reconnect_oauth::device::SLOW_DOWN_STEP;
                    tracing::info!("asked to slow down; polling every {} s", interval.as_secs());
                }
                Err(err) => {
                    let verdict = self.refusal(err, transient < TRANSIENT_RETRIES, lifetime)?;
                    transient += 1;
                    tracing::info!("polling failed for now ({}); trying again", verdict.title);
                }
            }
        }
    }

    /// Turns a refused poll into the error that ends the flow, or (when
    /// `retry` allows and the failure is transient) its verdict to go on.
    fn refusal(
        &self,
        err: TokenError,
        retry: bool,
        lifetime: Duration,
    ) -> Result<Verdict, SigninError> {
        match DeviceEnding::of(&err) {
            Some(DeviceEnding::Declined) => return Err(DeviceError::Declined.into()),
            Some(DeviceEnding::Expired) => return Err(DeviceError::Expired(lifetime).into()),
            Some(DeviceEnding::BadCode) => return Err(DeviceError::BadCode.into()),
            None => {}
        }
        let verdict = err.verdict(self.signin.client.now());
        if verdict.primary_code == Some(BLOCKED_BY_POLICY) {
            return Err(DeviceError::Blocked(Box::new(verdict)).into());
        }
        if retry && verdict.is_transient() {
            return Ok(verdict);
        }
        Err(SigninError::Exchange {
            verdict: Box::new(verdict),
            source: err,
        })
    }
}
