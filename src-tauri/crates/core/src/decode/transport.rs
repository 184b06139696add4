//! Failures that are not OAuth errors: the request never got an answer
//! (DNS, connect, TLS, timeout), or the answer was not an OAuth error object
//! (5xx, 429, HTML from a proxy, an empty, cut-off, invalid or oversized body).
//! All of them are transient unless they clearly are not, and none of them
//! ever means "reconnect needed".

use super::body::BodyProblem;
use super::class::{Category, ReconnectFixes, WhoActs};
use super::description::Details;
use super::steps;
use super::verdict::{Source, Verdict};

/// What went wrong below HTTP. The HTTP client maps its errors into this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransportFailure {
    /// The host name did not resolve.
    #[error("the sign-in host name could not be resolved")]
    Dns,
    /// The TCP connection was refused, reset or unreachable.
    #[error("the connection to the sign-in service failed")]
    Connect,
    /// The TLS handshake or certificate check failed.
    #[error("the secure (TLS) connection to the sign-in service failed")]
    Tls,
    /// No answer within the time allowed.
    #[error("the sign-in service did not answer in time")]
    Timeout,
    /// The answer's body exceeded the client's size limit.
    #[error("the answer was larger than allowed")]
    BodyTooLarge,
    /// The connection closed before the whole body arrived.
    #[error("the answer was cut off")]
    Truncated,
    /// Any other failure of the HTTP client.
    #[error("the request to the sign-in service failed")]
    Other,
}

fn transient(category: Category, title: &str, user: &str, admin: String) -> Verdict {
    Verdict {
        primary_code: None,
        codes: Vec::new(),
        error: None,
        suberror: None,
        title: title.to_owned(),
        category,
        who_acts: WhoActs::Nobody,
        reconnect_fixes: ReconnectFixes::No,
        transient: true,
        retry_after_seconds: None,
        user_message: user.to_owned(),
        admin_message: admin,
        next_steps: Vec::new(),
        trace_id: None,
        correlation_id: None,
        timestamp: None,
        claims_challenge: None,
        doc_url: None,
        known: false,
        details: Details::default(),
        server_message: None,
        error_subcode: None,
        error_uri: None,
        password_change_url: None,
        long_backoff: false,
        authority_host: None,
        http_status: None,
        source: Source::Transport,
    }
}

const OFFLINE: &str = "Reconnect could not reach Microsoft's sign-in service. It will try again when the network is back.";

/// The verdict for a transport failure. `detail` is the client's own error
/// text (it must not contain secrets; URLs of the token endpoint are fine).
pub fn decode_transport(failure: TransportFailure, detail: Option<&str>) -> Verdict {
    let (category, title, user, admin) = match failure {
        TransportFailure::Dns => (
            Category::Network,
            "Host name not resolved",
            OFFLINE,
            "DNS resolution of the sign-in host failed. Check DNS, VPN and proxy settings on this machine.",
        ),
        TransportFailure::Connect => (
            Category::Network,
            "Connection failed",
            OFFLINE,
            "The TCP connection to the sign-in host failed (refused, reset or unreachable). Check the network, firewall and proxy.",
        ),
        TransportFailure::Tls => (
            Category::Network,
            "Secure connection failed",
            OFFLINE,
            "The TLS handshake or certificate check failed. A TLS-inspecting proxy or a wrong system clock are common causes.",
        ),
        TransportFailure::Timeout => (
            Category::Network,
            "Request timed out",
            "Microsoft's sign-in service did not answer in time. Reconnect will try again shortly.",
            "No answer arrived within the client's timeout. Usually a slow network or a temporary service problem.",
        ),
        TransportFailure::BodyTooLarge => (
            Category::Service,
            "Answer too large",
            "The sign-in service sent an unexpected answer. Reconnect will try again shortly.",
            "The response body exceeded the client's size limit, so it was not read. A proxy page or a misrouted request is likely.",
        ),
        TransportFailure::Truncated => (
            Category::Network,
            "Answer cut off",
            "The connection dropped while Reconnect was reading the answer. It will try again shortly.",
            "The connection closed before the whole response body arrived.",
        ),
        TransportFailure::Other => (
            Category::Network,
            "Request failed",
            OFFLINE,
            "The HTTP request failed before an answer arrived.",
        ),
    };
    let mut admin = admin.to_owned();
    if let Some(d) = detail.map(str::trim).filter(|d| !d.is_empty()) {
        admin.push_str(&format!(" Client said: \"{d}\""));
    }
    let mut v = transient(category, title, user, admin);
    v.next_steps = steps::next_steps(&v);
    v
}

/// The verdict for an HTTP answer whose body is not an OAuth error.
pub fn unreadable_response(
    status: u16,
    problem: BodyProblem,
    retry_after_seconds: Option<u64>,
) -> Verdict {
    let what = problem.to_string();
    let (category, title, user, admin) = match status {
        429 => (
            Category::Throttled,
            "Too many requests",
            "Microsoft's sign-in service asked Reconnect to slow down. It will try again later.",
            format!("HTTP 429: the token endpoint is throttling this client; {what}."),
        ),
        500..=599 => (
            Category::Service,
            "Sign-in service error",
            "Microsoft's sign-in service had a temporary problem. Reconnect will try again shortly.",
            format!(
                "HTTP {status} from the token endpoint; {what}. Usually temporary on Microsoft's side or in a proxy in between."
            ),
        ),
        _ if problem == BodyProblem::Html => (
            Category::Service,
            "Unexpected web page",
            "Something between this computer and Microsoft answered instead of the sign-in service. Reconnect will try again shortly.",
            format!(
                "HTTP {status} with an HTML page instead of an OAuth error: a proxy, captive portal or firewall likely answered."
            ),
        ),
        _ => (
            Category::Service,
            "Unreadable answer",
            "The sign-in service sent an answer Reconnect could not read. It will try again shortly.",
            format!(
                "HTTP {status}; {what}. Treated as temporary: nothing in it says the grant is invalid."
            ),
        ),
    };
    let mut v = transient(category, title, user, admin);
    v.source = Source::TokenEndpoint;
    v.http_status = Some(status);
    v.retry_after_seconds = retry_after_seconds;
    v.next_steps = steps::next_steps(&v);
    v
}
