//! From the fields of an OAuth error to a [`Verdict`]: pick the specific code,
//! look it up, let the suberror, the OAuth `error` and the HTTP status refine
//! it (see the `rules` module), and weave the description's details into the
//! messages and next steps.

use super::class::{Category, ReconnectFixes, WhoActs};
use super::date::{describe_seconds, format_utc};
use super::description::{self, Details};
use super::gateway;
use super::rules::{Base, apply_suberror, infer};
use super::steps;
use super::table;
use super::verdict::{Source, Verdict};

/// Codes Entra puts first in `error_codes` as a generic wrapper around a more
/// specific one (e.g. `[70002, 54005]`).
pub const WRAPPER_CODES: [u32; 2] = [70002, 50000];

/// The fields of an OAuth error, from a token-endpoint body or an authorize
/// redirect, before interpretation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OAuthError {
    /// `error`.
    pub error: Option<String>,
    /// `error_description`.
    pub error_description: Option<String>,
    /// `error_codes`.
    pub error_codes: Vec<u32>,
    /// `suberror`.
    pub suberror: Option<String>,
    /// `error_subcode` (authorize redirects).
    pub error_subcode: Option<String>,
    /// `timestamp`.
    pub timestamp: Option<String>,
    /// `trace_id`.
    pub trace_id: Option<String>,
    /// `correlation_id`.
    pub correlation_id: Option<String>,
    /// `error_uri`.
    pub error_uri: Option<String>,
    /// `claims`: the claims challenge, a JSON document as a string.
    pub claims: Option<String>,
    /// `password_change_url`.
    pub password_change_url: Option<String>,
}

/// The context an OAuth error arrived in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context {
    /// HTTP status, when it came from the token endpoint.
    pub http_status: Option<u16>,
    /// Seconds the server asked us to wait.
    pub retry_after_seconds: Option<u64>,
    /// Where it came from.
    pub source: Source,
}

/// Chooses the specific code: the first non-wrapper code the server listed,
/// else the first code the description names.
pub fn primary_code(error_codes: &[u32], described: &[u32]) -> Option<u32> {
    let from = if error_codes.is_empty() {
        described
    } else {
        error_codes
    };
    from.iter()
        .copied()
        .find(|c| !WRAPPER_CODES.contains(c))
        .or_else(|| from.first().copied())
}

/// Turns the fields of an OAuth error into a verdict.
pub fn classify(err: OAuthError, ctx: Context) -> Verdict {
    let described = err
        .error_description
        .as_deref()
        .map(description::parse)
        .unwrap_or_default();
    let mut codes = err.error_codes.clone();
    for code in &described.codes {
        if !codes.contains(code) {
            codes.push(*code);
        }
    }
    let primary = primary_code(&err.error_codes, &described.codes);
    let info = primary.and_then(table::lookup);
    let known = info.is_some();
    let mut b = info
        .map(Base::from)
        .unwrap_or_else(|| infer(err.error.as_deref(), err.error_subcode.as_deref()));
    if !known && let Some(code) = primary {
        b.title = format!("{} (AADSTS{code})", b.title);
    }
    let b2c = err
        .error_description
        .as_deref()
        .and_then(description::b2c_code);
    if let (None, Some(code)) = (primary, b2c) {
        b.title = format!("Azure AD B2C error {code}");
        b.admin = format!(
            "Azure AD B2C answered AADB2C{code}, a code Reconnect has no entry for; the verdict \
             follows the OAuth error ({}). B2C's own reference and the user flow's logs hold the \
             reason.",
            err.error.as_deref().unwrap_or("none")
        );
    }
    if let Some(sub) = err.suberror.as_deref() {
        apply_suberror(&mut b, sub, known);
    }
    if err.error_subcode.as_deref() == Some("cancel") && !known {
        b = infer(Some("access_denied"), Some("cancel"));
    }
    match ctx.http_status {
        Some(429) => {
            b.category = Category::Throttled;
            b.who = WhoActs::Nobody;
            b.fixes = ReconnectFixes::No;
            b.transient = true;
            b.title = "Too many requests".to_owned();
            b.user = "Microsoft's sign-in service asked Reconnect to slow down. It will try again later.".to_owned();
            b.admin = "HTTP 429: the token endpoint is throttling this client; the error code in the body is not the cause to act on.".to_owned();
        }
        Some(s) if s >= 500 => {
            // A server failure is never the grant's fault, whatever code its
            // body names: Entra reports a dead grant as HTTP 400. Keep the
            // code for the admin, but wait and retry instead of asking anyone
            // to reconnect.
            if !known || !b.transient {
                if known {
                    b.admin = format!(
                        "HTTP {s}: the token endpoint failed while naming this code, so the \
                         code is not treated as the grant's verdict. Reconnect will retry; if the \
                         same code keeps coming with a 4xx status, act on it then. ({})",
                        b.admin
                    );
                }
                b.category = Category::Service;
                b.who = WhoActs::Nobody;
                b.fixes = ReconnectFixes::No;
            }
            b.transient = true;
        }
        _ => {}
    }
    let long_backoff = gateway::refine(&mut b, ctx, primary, known);
    let server_message = Some(described.message.clone()).filter(|m| !m.is_empty());
    let mut verdict = Verdict {
        primary_code: primary,
        codes,
        error: err.error,
        suberror: err.suberror,
        title: b.title,
        category: b.category,
        who_acts: b.who,
        reconnect_fixes: b.fixes,
        transient: b.transient,
        retry_after_seconds: ctx.retry_after_seconds,
        user_message: b.user,
        admin_message: b.admin,
        next_steps: Vec::new(),
        trace_id: err.trace_id.or(described.trace_id),
        correlation_id: err.correlation_id.or(described.correlation_id),
        timestamp: err.timestamp.or(described.timestamp),
        claims_challenge: err.claims.filter(|c| !c.trim().is_empty()),
        doc_url: primary.map(doc_url),
        known,
        details: described.details,
        server_message,
        error_subcode: err.error_subcode,
        error_uri: err.error_uri,
        password_change_url: err.password_change_url,
        long_backoff,
        authority_host: None,
        http_status: ctx.http_status,
        source: ctx.source,
    };
    add_details(&mut verdict);
    verdict.next_steps = steps::next_steps(&verdict);
    verdict
}

/// Microsoft's lookup page for a code.
pub fn doc_url(code: u32) -> String {
    format!("https://login.microsoftonline.com/error?code={code}")
}

fn when(text: &Option<String>, at: Option<i64>) -> Option<String> {
    at.map(format_utc).or_else(|| text.clone())
}

/// Weaves what the description revealed into the messages.
fn add_details(v: &mut Verdict) {
    let d: &Details = &v.details;
    let issued = when(&d.issued_at_text, d.issued_at);
    let mut user = Vec::new();
    let mut admin = Vec::new();
    if let Some(idle) = d.idle_seconds {
        user.push(format!(
            "It had not been used for {}.",
            describe_seconds(idle)
        ));
        admin.push(format!(
            "Idle for {} before this refresh{}.",
            describe_seconds(idle),
            issued
                .as_ref()
                .map(|i| format!("; the token was issued {i}"))
                .unwrap_or_default()
        ));
    } else if let Some(life) = d.lifetime_seconds {
        user.push(format!(
            "Your organization lets a sign-in last {}.",
            describe_seconds(life)
        ));
        admin.push(format!(
            "The sign-in frequency policy allows {life} seconds ({}){}.",
            describe_seconds(life),
            issued
                .as_ref()
                .map(|i| format!("; the token was issued {i}"))
                .unwrap_or_default()
        ));
    } else if let Some(life) = d.spa_lifetime_seconds {
        user.push(format!(
            "Sign-ins through this app's current setup last only {}.",
            describe_seconds(life)
        ));
        admin.push(format!(
            "Fixed single-page-app lifetime: {}{}.",
            describe_seconds(life),
            issued
                .as_ref()
                .map(|i| format!("; issued {i}"))
                .unwrap_or_default()
        ));
    } else if let Some(from) = when(&d.tokens_valid_from_text, d.tokens_valid_from) {
        user.push(format!(
            "Sign-ins made before {from} are no longer accepted."
        ));
        admin.push(format!("TokensValidFrom is {from}{}: tokens issued earlier are rejected (password change or reset, or sessions revoked).",
            issued.as_ref().map(|i| format!("; this grant was issued {i}")).unwrap_or_default()));
    } else if let Some(i) = &issued {
        admin.push(format!("The token was issued {i}."));
    }
    if let Some(msg) = &v.server_message
        && !msg.is_empty()
    {
        admin.push(format!("Server said: \"{msg}\""));
    }
    if let Some(cid) = &v.correlation_id {
        admin.push(format!("In the Entra admin center, open Monitoring & health > Sign-in logs and filter by correlation ID {cid}{}.",
            v.timestamp.as_ref().map(|t| format!(" around {t}")).unwrap_or_default()));
    }
    for part in user {
        v.user_message = format!("{} {part}", v.user_message);
    }
    for part in admin {
        v.admin_message = format!("{} {part}", v.admin_message);
    }
}
