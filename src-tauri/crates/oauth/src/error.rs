//! Errors of the token client, kept raw enough that the decoder in
//! `reconnect-core` can give its verdict: the HTTP status, `Retry-After`,
//! content type and (size-capped) body of a refused request, or the kind of
//! transport failure. Success bodies hold secrets and never end up here.

use std::fmt;

use reconnect_core::decode::{self, TransportFailure, Verdict};
use reconnect_core::tokens::UnixTime;

/// How a request failed before any HTTP answer was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// The host name did not resolve.
    Dns,
    /// The TCP connection was refused or could not be made.
    Connect,
    /// The TLS handshake failed (e.g. an untrusted certificate).
    Tls,
    /// The request or the response took longer than the configured timeout.
    Timeout,
    /// The connection broke while the answer was being read.
    Body,
    /// Anything else reqwest reports.
    Other,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Dns => "name resolution failed",
            Self::Connect => "connection failed",
            Self::Tls => "TLS handshake failed",
            Self::Timeout => "timed out",
            Self::Body => "connection broke while reading the answer",
            Self::Other => "request failed",
        })
    }
}

impl TransportKind {
    /// The decoder's name for this failure.
    pub fn failure(self) -> TransportFailure {
        match self {
            Self::Dns => TransportFailure::Dns,
            Self::Connect => TransportFailure::Connect,
            Self::Tls => TransportFailure::Tls,
            Self::Timeout => TransportFailure::Timeout,
            Self::Body => TransportFailure::Truncated,
            Self::Other => TransportFailure::Other,
        }
    }

    /// Classifies a reqwest error by what it says about itself and its causes.
    pub fn of(err: &reqwest::Error) -> Self {
        if err.is_timeout() {
            return Self::Timeout;
        }
        let mut chain = String::new();
        let mut cur: Option<&dyn std::error::Error> = Some(err);
        while let Some(e) = cur {
            chain.push_str(&e.to_string().to_ascii_lowercase());
            chain.push(' ');
            cur = e.source();
        }
        if chain.contains("dns error") || chain.contains("failed to lookup address") {
            Self::Dns
        } else if chain.contains("certificate")
            || chain.contains("tls")
            || chain.contains("handshake")
        {
            Self::Tls
        } else if chain.contains("timed out") {
            Self::Timeout
        } else if err.is_connect() {
            Self::Connect
        } else if err.is_body() || err.is_decode() {
            Self::Body
        } else {
            Self::Other
        }
    }
}

/// A non-success HTTP answer from a token endpoint, as received.
#[derive(Clone, PartialEq, Eq)]
pub struct EndpointFailure {
    /// HTTP status (a 3xx is reported here too: redirects are never followed).
    pub status: u16,
    /// The `Retry-After` header, verbatim.
    pub retry_after: Option<String>,
    /// The `Content-Type` header, verbatim.
    pub content_type: Option<String>,
    /// The body, cut at the client's size cap.
    pub body: Vec<u8>,
    /// Whether the body was longer than the cap and got cut.
    pub truncated: bool,
}

impl EndpointFailure {
    /// The body as text (lossy), for display and decoding.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `error` field of a JSON error body, if there is one.
    pub fn oauth_error(&self) -> Option<String> {
        let value: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        value.get("error")?.as_str().map(str::to_owned)
    }
}

impl fmt::Debug for EndpointFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointFailure")
            .field("status", &self.status)
            .field("retry_after", &self.retry_after)
            .field("content_type", &self.content_type)
            .field("body", &self.body_text())
            .field("truncated", &self.truncated)
            .finish()
    }
}

/// Why a token request (refresh or code exchange) did not produce tokens.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The endpoint answered, but not with success (an OAuth error, 5xx, 429,
    /// an HTML page, a redirect…).
    #[error("the token endpoint answered HTTP {}", .0.status)]
    Endpoint(EndpointFailure),
    /// No answer: DNS, connect, TLS, timeout or a broken connection.
    #[error("could not reach the token endpoint: {kind}")]
    Transport {
        /// What kind of failure it was.
        kind: TransportKind,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// A 2xx answer that cannot be used (not JSON, no access token, too big).
    /// The body is not kept: it may hold tokens.
    #[error("the token endpoint's success answer is unusable: {reason}")]
    InvalidSuccess {
        /// What was wrong with it.
        reason: String,
    },
}

impl TokenError {
    /// The decoder's verdict on this failure. `now` only matters for a
    /// `Retry-After` given as an HTTP date.
    pub fn verdict(&self, now: UnixTime) -> Verdict {
        match self {
            Self::Endpoint(f) if f.truncated => decode::decode_transport(
                TransportFailure::BodyTooLarge,
                Some(&format!(
                    "HTTP {} with a body over the client's size cap",
                    f.status
                )),
            ),
            Self::Endpoint(f) => decode::decode_token_response(
                &decode::TokenResponse {
                    status: f.status,
                    retry_after: f.retry_after.as_deref(),
                    content_type: f.content_type.as_deref(),
                    body: &f.body,
                },
                now,
            ),
            Self::Transport { kind, source } => {
                decode::decode_transport(kind.failure(), Some(&source.to_string()))
            }
            Self::InvalidSuccess { reason } => {
                decode::decode_transport(TransportFailure::Other, Some(reason))
            }
        }
    }

    /// The endpoint's answer, when there was one.
    pub fn endpoint_failure(&self) -> Option<&EndpointFailure> {
        match self {
            Self::Endpoint(f) => Some(f),
            _ => None,
        }
    }
}

/// Why fetching a JSON document (discovery, JWKS) failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Could not build the HTTP client (e.g. a bad CA PEM).
    #[error("could not set up the HTTP client: {0}")]
    Setup(#[source] reqwest::Error),
    /// No answer.
    #[error("could not reach {url}: {kind}")]
    Transport {
        /// The URL requested.
        url: String,
        /// What kind of failure.
        kind: TransportKind,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// A non-2xx status.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The status code.
        status: u16,
    },
    /// Larger than the size cap.
    #[error("{url} sent more than {limit} bytes")]
    TooLarge {
        /// The URL requested.
        url: String,
        /// The cap in bytes.
        limit: usize,
    },
    /// Not the JSON document expected.
    #[error("{url} did not send the expected JSON document")]
    Json {
        /// The URL requested.
        url: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(status: u16, body: &str, truncated: bool) -> TokenError {
        TokenError::Endpoint(EndpointFailure {
            status,
            retry_after: Some("7".into()),
            content_type: Some("application/json".into()),
            body: body.as_bytes().to_vec(),
            truncated,
        })
    }

    #[test]
    fn an_idle_refresh_token_needs_a_reconnect() {
        let body = r#"{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity.","error_codes":[700082]}"#;
        let v = failure(400, body, false).verdict(0);
        assert_eq!(v.primary_code, Some(700082));
        assert!(v.needs_reconnect());
    }

    #[test]
    fn throttling_and_cut_bodies_are_transient() {
        let v = failure(429, "", false).verdict(0);
        assert!(v.is_transient());
        assert_eq!(v.retry_after_seconds, Some(7));
        let cut = failure(400, r#"{"error":"invalid_grant""#, true).verdict(0);
        assert!(cut.is_transient() && !cut.needs_reconnect());
        let odd = TokenError::InvalidSuccess {
            reason: "no access_token".into(),
        }
        .verdict(0);
        assert!(odd.is_transient());
    }
}
