//! The HTTP client for token endpoints and provider documents.
//!
//! It never follows redirects (a token endpoint that redirects is refused, not
//! obeyed: no SSRF), reads at most a configured number of bytes, times out,
//! and can trust one extra root CA (the simulator's `--tls` CA).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reconnect_core::secret::{AuthorizationCode, PkceVerifier, RefreshToken};
use reconnect_core::tokens::UnixTime;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{EndpointFailure, FetchError, TokenError, TransportKind};
use crate::response::TokenResponse;

/// The Origin a single-page app's refresh token is redeemed from.
/// Entra redeems such a token only in a cross-origin request (AADSTS9002327
/// otherwise); the header makes the request one, as a browser's would be.
pub const SPA_ORIGIN: &str = "http://localhost";

/// How one refresh is sent: the merged `claims` parameter, if any; the
/// `client-request-id`; and, for a single-page app's refresh token, the
/// `Origin` that makes it a cross-origin redemption ([`SPA_ORIGIN`]).
#[derive(Debug, Clone, Copy)]
pub struct Redemption<'a> {
    /// The `claims` parameter.
    pub claims: Option<&'a str>,
    /// The `client-request-id` header.
    pub request_id: &'a str,
    /// The `Origin` header, for single-page apps' refresh tokens.
    pub origin: Option<&'a str>,
}

/// A fresh `client-request-id` (a random UUID), one per token request.
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// What redeems one authorization code: the code, the PKCE verifier of
/// the request that got it, and the redirect URI it was sent to.
#[derive(Debug, Clone, Copy)]
pub struct CodeRedemption<'a> {
    /// The code from the redirect.
    pub code: &'a AuthorizationCode,
    /// The PKCE verifier of the authorize request.
    pub verifier: &'a PkceVerifier,
    /// The redirect URI, exactly as sent with the authorize request.
    pub redirect_uri: &'a str,
}

/// Where "now" comes from (Unix seconds). Injected so tests control time.
pub type Clock = Arc<dyn Fn() -> UnixTime + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    })
}

/// Settings of a [`TokenClient`].
#[derive(Debug, Clone)]
pub struct TokenClientConfig {
    /// Whole-request timeout.
    pub timeout: Duration,
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// The most bytes read from any answer.
    pub max_response_bytes: usize,
    /// An extra root CA (PEM) to trust, e.g. the simulator's.
    pub extra_root_ca_pem: Option<Vec<u8>>,
}

impl Default for TokenClientConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_response_bytes: 1024 * 1024,
            extra_root_ca_pem: None,
        }
    }
}

/// A token-endpoint client. Cheap to clone (shares its connection pools).
#[derive(Clone)]
pub struct TokenClient {
    http: Arc<Http>,
    max_bytes: usize,
    clock: Clock,
}

/// The HTTP clients, each built on its first use: loading the operating
/// system's trust store costs milliseconds that a command answered from the
/// keychain never needs, and plain `http://` (a loopback simulator) never
/// needs it at all.
struct Http {
    config: TokenClientConfig,
    tls: OnceLock<reqwest::Client>,
    plain: OnceLock<reqwest::Client>,
}

impl Http {
    /// The client for `url`'s scheme.
    fn client(&self, url: &Url) -> Result<&reqwest::Client, reqwest::Error> {
        let tls = url.scheme() != "http";
        let cell = if tls { &self.tls } else { &self.plain };
        if let Some(client) = cell.get() {
            return Ok(client);
        }
        let built = build_client(&self.config, tls)?;
        Ok(cell.get_or_init(|| built))
    }
}

/// A client that follows no redirects, with the configured timeouts; with
/// `tls`, trusting the OS trust store, the bundled roots and any extra CA.
fn build_client(config: &TokenClientConfig, tls: bool) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.timeout)
        .connect_timeout(config.connect_timeout)
        .user_agent(concat!("reconnect/", env!("CARGO_PKG_VERSION")));
    if !tls {
        builder = builder.tls_built_in_root_certs(false);
    } else if let Some(pem) = &config.extra_root_ca_pem {
        builder = builder.add_root_certificate(reqwest::Certificate::from_pem(pem)?);
    }
    builder.build()
}

impl std::fmt::Debug for TokenClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenClient")
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

/// How a form POST failed, before the caller gives it its own error type.
#[derive(Debug)]
pub(crate) enum Posted {
    /// A non-2xx answer, as received.
    Refused(EndpointFailure),
    /// No answer.
    Transport {
        kind: TransportKind,
        source: reqwest::Error,
    },
    /// A 2xx answer over the size cap (not kept: it may hold secrets).
    TooLarge,
}

/// A body read under the size cap.
struct Capped {
    status: u16,
    retry_after: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
    truncated: bool,
}

impl TokenClient {
    /// Builds a client with the system clock.
    pub fn new(config: TokenClientConfig) -> Result<Self, FetchError> {
        // A bad extra CA is refused now, not at the first request.
        if let Some(pem) = &config.extra_root_ca_pem {
            reqwest::Certificate::from_pem(pem).map_err(FetchError::Setup)?;
        }
        Ok(Self {
            max_bytes: config.max_response_bytes,
            http: Arc::new(Http {
                config,
                tls: OnceLock::new(),
                plain: OnceLock::new(),
            }),
            clock: system_clock(),
        })
    }

    /// Replaces the clock used to turn `expires_in` into an expiry time.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// "Now" according to this client's clock.
    pub fn now(&self) -> UnixTime {
        (self.clock)()
    }

    /// Trades a refresh token for a new token set. `claims` is the merged
    /// claims parameter (JSON text: a challenge, the client capabilities) to
    /// pass along, if any.
    pub async fn refresh(
        &self,
        endpoint: &Url,
        client_id: &str,
        refresh_token: &RefreshToken,
        scope: &str,
        claims: Option<&str>,
    ) -> Result<TokenResponse, TokenError> {
        let id = new_request_id();
        let how = Redemption {
            claims,
            request_id: &id,
            origin: None,
        };
        self.refresh_with(endpoint, client_id, refresh_token, scope, &how)
            .await
    }

    /// [`TokenClient::refresh`] as the caller says ([`Redemption`]): with
    /// its `client-request-id`, so the caller can keep it with the attempt,
    /// and cross-origin for a single-page app's refresh token.
    pub async fn refresh_with(
        &self,
        endpoint: &Url,
        client_id: &str,
        refresh_token: &RefreshToken,
        scope: &str,
        how: &Redemption<'_>,
    ) -> Result<TokenResponse, TokenError> {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", refresh_token.expose()),
            ("scope", scope),
            ("client_info", "1"),
        ];
        if let Some(claims) = how.claims {
            form.push(("claims", claims));
        }
        self.token_request(endpoint, &form, how.request_id, how.origin)
            .await
    }

    /// Trades an authorization code (with its PKCE verifier) for tokens.
    /// `claims` is the merged claims parameter (a challenge, the client
    /// capabilities), if any.
    pub async fn exchange_code(
        &self,
        endpoint: &Url,
        client_id: &str,
        redemption: &CodeRedemption<'_>,
        scope: &str,
        claims: Option<&str>,
    ) -> Result<TokenResponse, TokenError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", redemption.code.expose()),
            ("code_verifier", redemption.verifier.expose()),
            ("redirect_uri", redemption.redirect_uri),
            ("scope", scope),
            ("client_info", "1"),
        ];
        if let Some(claims) = claims {
            form.push(("claims", claims));
        }
        self.token_request(endpoint, &form, &new_request_id(), None)
            .await
    }

    async fn token_request(
        &self,
        endpoint: &Url,
        form: &[(&str, &str)],
        request_id: &str,
        origin: Option<&str>,
    ) -> Result<TokenResponse, TokenError> {
        let now = self.now();
        let body = self
            .post_form(endpoint, form, request_id, origin)
            .await
            .map_err(|e| match e {
                Posted::Refused(failure) => TokenError::Endpoint(failure),
                Posted::Transport { kind, source } => TokenError::Transport { kind, source },
                Posted::TooLarge => TokenError::InvalidSuccess {
                    reason: format!("the answer is larger than {} bytes", self.max_bytes),
                },
            })?;
        TokenResponse::parse(&body, now)
    }

    /// POSTs a form and returns a 2xx answer's body, read under the size
    /// cap; anything else is a [`Posted`] failure. `request_id` goes out as
    /// `client-request-id`, which Entra records in its sign-in logs and
    /// echoes as the error's `correlation_id`.
    pub(crate) async fn post_form(
        &self,
        endpoint: &Url,
        form: &[(&str, &str)],
        request_id: &str,
        origin: Option<&str>,
    ) -> Result<Vec<u8>, Posted> {
        let transport = |source: reqwest::Error| Posted::Transport {
            kind: TransportKind::of(&source),
            source,
        };
        let request = self
            .http
            .client(endpoint)
            .map_err(transport)?
            .post(endpoint.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .header("client-request-id", request_id)
            .header("return-client-request-id", "true")
            .form(form);
        let request = match origin {
            Some(origin) => request.header(reqwest::header::ORIGIN, origin),
            None => request,
        };
        let answer = self
            .send_capped(request)
            .await
            .map_err(|source| Posted::Transport {
                kind: TransportKind::of(&source),
                source,
            })?;
        if !(200..300).contains(&answer.status) {
            return Err(Posted::Refused(EndpointFailure {
                status: answer.status,
                retry_after: answer.retry_after,
                content_type: answer.content_type,
                body: answer.body,
                truncated: answer.truncated,
            }));
        }
        if answer.truncated {
            return Err(Posted::TooLarge);
        }
        Ok(answer.body)
    }

    /// The most bytes read from any answer.
    pub fn max_response_bytes(&self) -> usize {
        self.max_bytes
    }

    /// GETs a JSON document (discovery, JWKS) under the same rules.
    pub async fn get_json<T: DeserializeOwned>(&self, url: &Url) -> Result<T, FetchError> {
        let transport = |source: reqwest::Error| FetchError::Transport {
            url: url.to_string(),
            kind: TransportKind::of(&source),
            source,
        };
        let request = self
            .http
            .client(url)
            .map_err(transport)?
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        let answer = self
            .send_capped(request)
            .await
            .map_err(|source| FetchError::Transport {
                url: url.to_string(),
                kind: TransportKind::of(&source),
                source,
            })?;
        if !(200..300).contains(&answer.status) {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: answer.status,
            });
        }
        if answer.truncated {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                limit: self.max_bytes,
            });
        }
        serde_json::from_slice(&answer.body).map_err(|source| FetchError::Json {
            url: url.to_string(),
            source,
        })
    }

    async fn send_capped(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Capped, reqwest::Error> {
        let mut response = request.send().await?;
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header(reqwest::header::RETRY_AFTER);
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let status = response.status().as_u16();
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response.chunk().await? {
            let room = self.max_bytes.saturating_sub(body.len());
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Capped {
            status,
            retry_after,
            content_type,
            body,
            truncated,
        })
    }
}
