//! The decoder: turns any sign-in or refresh failure into one [`Verdict`]
//! shared by the refresh engine, the UI and the CLI. Pure: no IO, no clock.
//!
//! # Entry points
//!
//! | input | function |
//! |---|---|
//! | a token-endpoint HTTP response (status, `Retry-After`, content type, body bytes) | [`decode_token_response`] |
//! | free text: a JSON body, a bare description, `AADSTS700082`, `700082`, or a redirect query | [`decode_text`] |
//! | the authorize redirect's error form | [`decode_authorize_error`], or [`decode_redirect_query`] for the raw query |
//! | a transport failure (DNS, connect, TLS, timeout, body too large or cut off) | [`decode_transport`] |
//! | a code alone | [`table::lookup`] for the table row, [`decode_code`] for a verdict |
//!
//! Code, `suberror` and `error` decide together (see [`mod@classify`] and the
//! private `rules` module). The code table is data (`data/aadsts.tsv`),
//! looked up with [`table::lookup`].
//! Anything that is not an OAuth error (5xx, 429, HTML, empty, cut-off or
//! invalid bodies, transport failures) is transient and never says
//! "reconnect needed". No input makes the decoder panic.
//!
//! ```
//! use reconnect_core::decode::{decode_token_response, TokenResponse};
//! let body = br#"{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity.","error_codes":[700082]}"#;
//! let v = decode_token_response(&TokenResponse { status: 400, retry_after: None, content_type: None, body }, 0);
//! assert!(v.needs_reconnect());
//! assert_eq!(v.who_acts.as_str(), "user");
//! ```

pub mod body;
pub mod class;
pub mod classify;
pub mod date;
pub mod description;
mod gateway;
pub mod redirect;
mod rules;
mod steps;
pub mod table;
pub mod transport;
pub mod verdict;
pub mod wire;

pub use class::{Category, ReconnectFixes, WhoActs};
pub use classify::{OAuthError, doc_url};
pub use redirect::AuthorizeError;
pub use table::{CodeInfo, lookup};
pub use transport::{TransportFailure, decode_transport};
pub use verdict::{Source, Verdict};

use crate::tokens::UnixTime;
use classify::{Context, classify};

/// A token-endpoint HTTP response, as the HTTP client received it.
#[derive(Debug, Clone, Copy)]
pub struct TokenResponse<'a> {
    /// HTTP status code.
    pub status: u16,
    /// The `Retry-After` header value, if any (seconds or an HTTP date).
    pub retry_after: Option<&'a str>,
    /// The `Content-Type` header value, if any.
    pub content_type: Option<&'a str>,
    /// The body; more than [`body::MAX_BODY_BYTES`] is not parsed.
    pub body: &'a [u8],
}

/// Decodes a token-endpoint response at `now` (used for HTTP-date `Retry-After`).
pub fn decode_token_response(response: &TokenResponse<'_>, now: UnixTime) -> Verdict {
    let retry_after = response
        .retry_after
        .and_then(|v| date::parse_retry_after(v, now));
    match body::read(response.body, response.content_type) {
        Ok(err) => classify(
            err,
            Context {
                http_status: Some(response.status),
                retry_after_seconds: retry_after,
                source: Source::TokenEndpoint,
            },
        ),
        Err(problem) => transport::unreadable_response(response.status, problem, retry_after),
    }
}

/// Decodes the authorize redirect's error form.
pub fn decode_authorize_error(form: &AuthorizeError<'_>) -> Verdict {
    classify(
        form.to_oauth(),
        Context {
            source: Source::Authorize,
            ..Context::default()
        },
    )
}

/// Decodes a redirect URI or its query string; `None` when it carries no
/// `error` parameter (a successful redirect).
pub fn decode_redirect_query(query: &str) -> Option<Verdict> {
    let err = redirect::from_pairs(&redirect::parse_form(query))?;
    Some(classify(
        err,
        Context {
            source: Source::Authorize,
            ..Context::default()
        },
    ))
}

/// Decodes a code alone, as if the server had sent only `error_codes: [code]`.
pub fn decode_code(code: u32) -> Verdict {
    let err = OAuthError {
        error_codes: vec![code],
        ..OAuthError::default()
    };
    classify(err, Context::default())
}

/// Why free text could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Nothing but whitespace.
    #[error("nothing to decode: the input is empty")]
    Empty,
}

/// OAuth `error` values recognised at the start of free text such as
/// `invalid_grant: AADSTS70008: …` (how many tools print errors).
const OAUTH_ERRORS: [&str; 14] = [
    "invalid_grant",
    "interaction_required",
    "invalid_client",
    "invalid_request",
    "invalid_scope",
    "unauthorized_client",
    "unsupported_grant_type",
    "access_denied",
    "consent_required",
    "login_required",
    "temporarily_unavailable",
    "server_error",
    "invalid_resource",
    "expired_token",
];

/// Decodes whatever someone pasted: a JSON error body (alone, or inside a log
/// line or after HTTP headers), a bare `error_description`, `AADSTS700082`,
/// `700082`, or an authorize redirect (URL or query string).
pub fn decode_text(text: &str) -> Result<Verdict, DecodeError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(DecodeError::Empty);
    }
    let digits = t
        .strip_prefix("AADSTS")
        .or_else(|| t.strip_prefix("aadsts"))
        .unwrap_or(t);
    if !digits.is_empty() && digits.len() <= 9 && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(digits
            .parse()
            .map(decode_code)
            .unwrap_or_else(|_| from_description(t)));
    }
    if t.starts_with('{') {
        return Ok(match body::read(t.as_bytes(), None) {
            Ok(err) => classify(err, Context::default()),
            Err(_) if !description::codes_in(t).is_empty() => from_description(t),
            Err(problem) => text_problem(problem),
        });
    }
    if t.starts_with('<') {
        return Ok(text_problem(body::BodyProblem::Html));
    }
    // A JSON body embedded in a log line or after pasted HTTP headers.
    if let Some(start) = t.find('{')
        && let Some(end) = t.rfind('}')
        && start < end
        && let Ok(err) = body::read(&t.as_bytes()[start..=end], None)
    {
        return Ok(classify(err, Context::default()));
    }
    let looks_like_query = !t.contains(char::is_whitespace)
        && (t.starts_with("error=")
            || t.contains("?error=")
            || t.contains("&error=")
            || t.contains("#error="));
    if looks_like_query && let Some(v) = decode_redirect_query(t) {
        return Ok(v);
    }
    Ok(from_description(t))
}

fn text_problem(problem: body::BodyProblem) -> Verdict {
    let mut v = transport::unreadable_response(0, problem, None);
    v.http_status = None;
    v.source = Source::Text;
    v.admin_message = format!(
        "The text is not an OAuth error: {problem}. Nothing in it says the grant is invalid."
    );
    v
}

fn from_description(text: &str) -> Verdict {
    let (error, rest) = match text.split_once(':') {
        Some((head, rest)) if OAUTH_ERRORS.contains(&head.trim()) => {
            (Some(head.trim().to_owned()), rest.trim())
        }
        _ => match text.split_whitespace().next() {
            Some(first) if OAUTH_ERRORS.contains(&first) => {
                (Some(first.to_owned()), text[first.len()..].trim())
            }
            _ => (None, text),
        },
    };
    let err = OAuthError {
        error,
        error_description: Some(rest.to_owned()).filter(|r| !r.is_empty()),
        ..OAuthError::default()
    };
    classify(err, Context::default())
}
