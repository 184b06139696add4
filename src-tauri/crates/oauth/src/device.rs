//! The device authorization grant (RFC 8628) as Microsoft Entra implements
//! it: the device authorization request (`/devicecode` on Entra, the
//! discovery document's `device_authorization_endpoint` elsewhere) that
//! issues a user code, and the polling token request with the device code.
//!
//! The polling answers the flow must tell apart are typed here: keep waiting
//! ([`DevicePoll::Pending`], [`DevicePoll::SlowDown`]) or stop
//! ([`DeviceEnding`]); every other refusal stays a [`TokenError`] for the
//! decoder. The device code is a credential for the next minutes (whoever
//! holds it can collect the tokens once the user approves), so it is a type
//! with a redacted `Debug`, like the core's secrets.

use std::time::Duration;

use reconnect_core::decode::{self, TransportFailure, Verdict};
use reconnect_core::tokens::UnixTime;
use serde::Deserialize;
use url::Url;

use crate::client::{Posted, TokenClient};
use crate::endpoints::is_secure_or_loopback;
use crate::error::{EndpointFailure, TokenError, TransportKind};
use crate::response::TokenResponse;

/// The `grant_type` of the polling token request.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The wait between polls when the provider names none (RFC 8628 §3.2).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// How much a `slow_down` answer adds to the wait (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// The longest wait between polls Reconnect accepts from a provider.
pub const MAX_INTERVAL: Duration = Duration::from_secs(60);

/// The longest life of a user code Reconnect waits for.
pub const MAX_LIFETIME: Duration = Duration::from_secs(3_600);

/// The longest user code or message shown to the user.
const MAX_TEXT: usize = 2_048;

/// The device code: redeemable for tokens once the user approves.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceCode(String);

impl DeviceCode {
    /// Wraps a device code.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The code, for the token request only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceCode([redacted; {} bytes])", self.0.len())
    }
}

/// A device authorization answer: what to show the user, and how to poll.
#[derive(Debug, Clone)]
pub struct DeviceAuthorization {
    /// The code the flow polls with (never shown).
    pub device_code: DeviceCode,
    /// The short code the user types at `verification_uri`.
    pub user_code: String,
    /// Where the user signs in.
    pub verification_uri: Url,
    /// The same page with the code filled in, when the provider offers it
    /// (Entra does not).
    pub verification_uri_complete: Option<Url>,
    /// How long the codes stay valid (capped at [`MAX_LIFETIME`]).
    pub expires_in: Duration,
    /// The wait between polls (at least 1 s, at most [`MAX_INTERVAL`]).
    pub interval: Duration,
    /// The provider's own instructions, when sent.
    pub message: Option<String>,
}

#[derive(Deserialize)]
struct RawAuthorization {
    device_code: Option<String>,
    user_code: Option<String>,
    verification_uri: Option<String>,
    /// The name Entra's v1 endpoint and some providers use.
    verification_url: Option<String>,
    verification_uri_complete: Option<String>,
    expires_in: Option<serde_json::Value>,
    interval: Option<serde_json::Value>,
    message: Option<String>,
}

fn seconds(value: Option<&serde_json::Value>) -> Option<u64> {
    value.and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
    })
}

fn shown_url(text: &str) -> Option<Url> {
    let url = Url::parse(text.trim()).ok()?;
    is_secure_or_loopback(&url).then_some(url)
}

fn plain_text(text: String) -> Option<String> {
    let ok = !text.trim().is_empty() && text.len() <= MAX_TEXT;
    ok.then(|| text.chars().filter(|c| !c.is_control()).collect())
}

impl DeviceAuthorization {
    /// Parses a 2xx answer of the device authorization endpoint.
    pub fn parse(body: &[u8]) -> Result<Self, DeviceStartError> {
        let unusable = |reason: &str| DeviceStartError::Unusable {
            reason: reason.to_owned(),
        };
        let raw: RawAuthorization = serde_json::from_slice(body)
            .map_err(|_| unusable("the answer is not the JSON object expected"))?;
        let device_code = raw
            .device_code
            .filter(|c| !c.is_empty())
            .ok_or_else(|| unusable("the answer has no device_code"))?;
        let user_code = raw
            .user_code
            .and_then(plain_text)
            .ok_or_else(|| unusable("the answer has no usable user_code"))?;
        let verification_uri = raw
            .verification_uri
            .or(raw.verification_url)
            .as_deref()
            .and_then(shown_url)
            .ok_or_else(|| unusable("the answer has no https verification_uri"))?;
        let expires_in = seconds(raw.expires_in.as_ref())
            .filter(|s| *s > 0)
            .ok_or_else(|| unusable("the answer has no expires_in"))?;
        let interval = seconds(raw.interval.as_ref())
            .filter(|s| *s > 0)
            .map_or(DEFAULT_INTERVAL, Duration::from_secs);
        Ok(Self {
            device_code: DeviceCode::new(device_code),
            user_code,
            verification_uri,
            verification_uri_complete: raw.verification_uri_complete.as_deref().and_then(shown_url),
            expires_in: Duration::from_secs(expires_in).min(MAX_LIFETIME),
            interval: interval.min(MAX_INTERVAL),
            message: raw.message.and_then(plain_text),
        })
    }
}

/// Why no user code was issued.
#[derive(Debug, thiserror::Error)]
pub enum DeviceStartError {
    /// The endpoint answered, but not with success.
    #[error("the device authorization endpoint answered HTTP {}", .0.status)]
    Endpoint(EndpointFailure),
    /// No answer.
    #[error("could not reach the device authorization endpoint: {kind}")]
    Transport {
        /// What kind of failure.
        kind: TransportKind,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// A 2xx answer that cannot be used.
    #[error("the device authorization answer is unusable: {reason}")]
    Unusable {
        /// What was wrong with it.
        reason: String,
    },
}

impl DeviceStartError {
    /// The decoder's verdict on this failure.
    pub fn verdict(&self, now: UnixTime) -> Verdict {
        match self {
            Self::Endpoint(f) => TokenError::Endpoint(f.clone()).verdict(now),
            Self::Transport { kind, source } => {
                decode::decode_transport(kind.failure(), Some(&source.to_string()))
            }
            Self::Unusable { reason } => {
                decode::decode_transport(TransportFailure::Other, Some(reason))
            }
        }
    }
}

/// A poll that did not end the flow.
#[derive(Debug)]
pub enum DevicePoll {
    /// The user approved: the tokens.
    Issued(Box<TokenResponse>),
    /// Not yet approved (`authorization_pending`).
    Pending,
    /// Poll less often (`slow_down`): add [`SLOW_DOWN_STEP`] to the wait.
    SlowDown,
}

/// A polling answer that ends the flow without tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceEnding {
    /// The user declined (`authorization_declined`; RFC 8628's `access_denied`).
    Declined,
    /// The codes expired before the user approved (`expired_token`).
    Expired,
    /// The provider does not know the device code (`bad_verification_code`).
    BadCode,
}

impl DeviceEnding {
    /// The ending a refused poll means, if it is one of the three.
    pub fn of(err: &TokenError) -> Option<Self> {
        let error = err.endpoint_failure()?.oauth_error()?;
        match error.as_str() {
            "authorization_declined" | "access_denied" => Some(Self::Declined),
            "expired_token" => Some(Self::Expired),
            "bad_verification_code" => Some(Self::BadCode),
            _ => None,
        }
    }
}

fn waiting(failure: &EndpointFailure) -> Option<DevicePoll> {
    if failure.status != 400 {
        return None;
    }
    match failure.oauth_error()?.as_str() {
        "authorization_pending" => Some(DevicePoll::Pending),
        "slow_down" => Some(DevicePoll::SlowDown),
        _ => None,
    }
}

impl TokenClient {
    /// Asks for a user code (RFC 8628 §3.1). `claims` is the merged claims
    /// parameter (a challenge of the last failure, client capabilities).
    pub async fn request_device_code(
        &self,
        endpoint: &Url,
        client_id: &str,
        scope: &str,
        claims: Option<&str>,
    ) -> Result<DeviceAuthorization, DeviceStartError> {
        let mut form = vec![("client_id", client_id), ("scope", scope)];
        if let Some(claims) = claims {
            form.push(("claims", claims));
        }
        let body = self
            .post_form(endpoint, &form, &crate::client::new_request_id(), None)
            .await
            .map_err(|e| match e {
                Posted::Refused(failure) => DeviceStartError::Endpoint(failure),
                Posted::Transport { kind, source } => DeviceStartError::Transport { kind, source },
                Posted::TooLarge => DeviceStartError::Unusable {
                    reason: format!(
                        "the answer is larger than {} bytes",
                        self.max_response_bytes()
                    ),
                },
            })?;
        DeviceAuthorization::parse(&body)
    }

    /// Polls the token endpoint once with the device code (RFC 8628 §3.4).
    /// Refusals other than "keep waiting" come back as a [`TokenError`];
    /// [`DeviceEnding::of`] tells the three that end the flow.
    pub async fn poll_device_code(
        &self,
        endpoint: &Url,
        client_id: &str,
        device_code: &DeviceCode,
    ) -> Result<DevicePoll, TokenError> {
        let now = self.now();
        let form = [
            ("grant_type", DEVICE_CODE_GRANT),
            ("client_id", client_id),
            ("device_code", device_code.expose()),
            ("client_info", "1"),
        ];
        match self
            .post_form(endpoint, &form, &crate::client::new_request_id(), None)
            .await
        {
            Ok(body) => TokenResponse::parse(&body, now).map(|r| DevicePoll::Issued(Box::new(r))),
            Err(Posted::Refused(failure)) => match waiting(&failure) {
                Some(wait) => Ok(wait),
                None => Err(TokenError::Endpoint(failure)),
            },
            Err(Posted::Transport { kind, source }) => Err(TokenError::Transport { kind, source }),
            Err(Posted::TooLarge) => Err(TokenError::InvalidSuccess {
                reason: format!(
                    "the answer is larger than {} bytes",
                    self.max_response_bytes()
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entra_answer_is_read_with_defaults_and_caps() {
        let body = br#"{"user_code":"ABCD-EFGH","device_code":"dc-secret",
            "verification_uri":"https://microsoft.com/devicelogin","expires_in":"900",
            "interval":5,"message":"To sign in, open the page."}"#;
        let a = DeviceAuthorization::parse(body).unwrap();
        assert_eq!(a.user_code, "ABCD-EFGH");
        assert_eq!(a.expires_in, Duration::from_secs(900));
        assert_eq!(a.interval, DEFAULT_INTERVAL);
        assert_eq!(a.verification_uri_complete, None);
        assert!(!format!("{a:?}").contains("dc-secret"));

        let long = br#"{"user_code":"X","device_code":"d","verification_url":"https://x.test/d",
            "expires_in":86400,"interval":600}"#;
        let a = DeviceAuthorization::parse(long).unwrap();
        assert_eq!(a.expires_in, MAX_LIFETIME);
        assert_eq!(a.interval, MAX_INTERVAL);
        assert_eq!(a.message, None);
    }

    #[test]
    fn unusable_answers_are_refused() {
        for body in [
            &br#"{"user_code":"X","verification_uri":"https://x.test","expires_in":9}"#[..],
            br#"{"device_code":"d","user_code":"X","verification_uri":"http://x.test","expires_in":9}"#,
            br#"{"device_code":"d","user_code":"X","verification_uri":"https://x.test"}"#,
            b"<html>",
        ] {
            assert!(matches!(
                DeviceAuthorization::parse(body),
                Err(DeviceStartError::Unusable { .. })
            ));
        }
    }

    fn refused(error: &str) -> EndpointFailure {
        EndpointFailure {
            status: 400,
            retry_after: None,
            content_type: Some("application/json".into()),
            body: format!(r#"{{"error":"{error}"}}"#).into_bytes(),
            truncated: false,
        }
    }

    #[test]
    fn polling_answers_are_told_apart() {
        assert!(matches!(
            waiting(&refused("authorization_pending")),
            Some(DevicePoll::Pending)
        ));
        assert!(matches!(
            waiting(&refused("slow_down")),
            Some(DevicePoll::SlowDown)
        ));
        assert!(waiting(&refused("expired_token")).is_none());
        let ending = |e: &str| DeviceEnding::of(&TokenError::Endpoint(refused(e)));
        assert_eq!(
            ending("authorization_declined"),
            Some(DeviceEnding::Declined)
        );
        assert_eq!(ending("access_denied"), Some(DeviceEnding::Declined));
        assert_eq!(ending("expired_token"), Some(DeviceEnding::Expired));
        assert_eq!(ending("bad_verification_code"), Some(DeviceEnding::BadCode));
        assert_eq!(ending("invalid_grant"), None);
    }
}
