//! Errors of the token client, kept raw enough that the decoder in
//! `reconnect-core` can give its verdict: the HTTP status, `Retry-After`,
//! content type and (size-capped) body of a refused request, or the kind of
//! transport failure. Success bodies hold secrets and never end up here.

use std::fmt;

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
