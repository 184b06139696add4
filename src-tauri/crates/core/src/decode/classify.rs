//! From the fields of an OAuth error to a [`Verdict`]: pick the specific code,
//! look it up, let the suberror and the OAuth `error` refine it (code,
//! suberror and error decide together), infer a verdict for unknown codes,
//! and write the messages and next steps.

use super::class::{Category, ReconnectFixes, WhoActs};
use super::date::{describe_seconds, format_utc};
use super::description::{self, Details};
use super::steps;
use super::table::{self, CodeInfo};
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

/// The base classification before the suberror and status refine it.
#[derive(Debug, Clone)]
struct Base {
    title: String,
    category: Category,
    who: WhoActs,
    fixes: ReconnectFixes,
    transient: bool,
    user: String,
    admin: String,
}

impl From<&CodeInfo> for Base {
    fn from(info: &CodeInfo) -> Self {
        Self {
            title: info.name.to_owned(),
            category: info.category,
            who: info.who_acts,
            fixes: info.reconnect_fixes,
            transient: info.transient,
            user: info.user_message.to_owned(),
            admin: info.admin_message.to_owned(),
        }
    }
}

fn base(
    category: Category,
    who: WhoActs,
    fixes: ReconnectFixes,
    title: &str,
    user: &str,
    admin: &str,
) -> Base {
    Base {
        title: title.to_owned(),
        category,
        who,
        fixes,
        transient: matches!(category, Category::Service | Category::Throttled),
        user: user.to_owned(),
        admin: admin.to_owned(),
    }
}

/// A verdict for a code Reconnect does not know, from the OAuth `error`.
fn infer(error: Option<&str>, subcode: Option<&str>) -> Base {
    use Category as C;
    use ReconnectFixes as F;
    use WhoActs as W;
    const APP: &str = "This app cannot connect because of a problem in how it is set up. Its developer has to fix it.";
    match (error.unwrap_or(""), subcode.unwrap_or("")) {
        ("access_denied", "cancel") | ("", "cancel") => base(
            C::Cancelled,
            W::User,
            F::Yes,
            "Sign-in cancelled",
            "The sign-in was cancelled before it finished. Start it again when you are ready.",
            "The user cancelled the sign-in or closed the page; nothing is wrong with the account or the app.",
        ),
        ("access_denied", _) => base(
            C::Consent,
            W::User,
            F::Maybe,
            "Access denied",
            "Access was not granted. If you declined the permissions by mistake, sign in again and accept them.",
            "The authorization server denied the request: the user declined consent, or a policy refused it. Check the sign-in logs for the reason.",
        ),
        ("invalid_grant", _) => base(
            C::InvalidGrant,
            W::User,
            F::Maybe,
            "Sign-in grant rejected",
            "Your saved sign-in was not accepted. Reconnect will try once more and then ask you to sign in again.",
            "The refresh token or authorization code was rejected (invalid_grant) with a code Reconnect does not know. Retry once; if it fails again an interactive sign-in is needed.",
        ),
        ("interaction_required" | "login_required", _) => base(
            C::Interaction,
            W::User,
            F::Yes,
            "Sign-in required",
            "You need to sign in again to continue.",
            "The service needs the user to interact with the sign-in page before it issues tokens.",
        ),
        ("consent_required", _) => base(
            C::Consent,
            W::User,
            F::Yes,
            "Consent required",
            "This app needs your permission before it can connect. Sign in again and accept the requested permissions.",
            "Consent is missing for the requested permissions. An interactive sign-in can ask for it, unless only an admin may consent.",
        ),
        ("expired_token", _) => base(
            C::Expired,
            W::User,
            F::Yes,
            "Token expired",
            "Your sign-in expired. Sign in again to reconnect.",
            "The grant or device code expired before it was used.",
        ),
        ("temporarily_unavailable" | "server_error", _) => base(
            C::Service,
            W::Nobody,
            F::No,
            "Sign-in service unavailable",
            "Microsoft's sign-in service had a temporary problem. Reconnect will try again shortly.",
            "The authorization server reported a temporary failure. Retry with backoff.",
        ),
        ("slow_down" | "authorization_pending", _) => base(
            C::Throttled,
            W::Nobody,
            F::No,
            "Asked to slow down",
            "The sign-in service asked us to wait a little. Reconnect will try again shortly.",
            "The server asked the client to poll or retry more slowly.",
        ),
        ("invalid_client" | "unauthorized_client" | "invalid_resource", _) => base(
            C::AppRegistration,
            W::Developer,
            F::No,
            "App registration rejected",
            APP,
            "The server rejected the client or the resource it asked for. Check the app registration: client ID, tenant, public-client setting, redirect URIs and API permissions.",
        ),
        (
            "invalid_request"
            | "invalid_scope"
            | "unsupported_grant_type"
            | "unsupported_response_type"
            | "invalid_target",
            _,
        ) => base(
            C::Request,
            W::Developer,
            F::No,
            "Request rejected",
            APP,
            "The server rejected the request as malformed or unsupported. The description names what is wrong.",
        ),
        _ => base(
            C::Unknown,
            W::Admin,
            F::Maybe,
            "Unrecognised sign-in failure",
            "Signing in failed for a reason Reconnect does not recognise. Try signing in again; if it keeps failing, contact your IT administrator.",
            "The server returned an error Reconnect does not recognise. Its own text is kept below; the Entra sign-in logs hold the full reason.",
        ),
    }
}

/// Lets Microsoft's `suberror` refine the classification.
fn apply_suberror(b: &mut Base, suberror: &str, known: bool) {
    use ReconnectFixes as F;
    match suberror {
        "message_only" => {
            b.fixes = F::No;
            b.transient = false;
            if matches!(b.who, WhoActs::User | WhoActs::Nobody) {
                b.who = WhoActs::Admin;
            }
        }
        "basic_action" => {
            b.fixes = F::Yes;
            b.transient = false;
            b.who = WhoActs::User;
            if !known {
                b.category = Category::StepUp;
                b.title = "Extra sign-in step required".to_owned();
                b.user = "Your organization needs you to complete a step while signing in. Sign in again.".to_owned();
            }
        }
        "additional_action" => {
            b.transient = false;
            b.who = WhoActs::User;
            if b.fixes == F::No {
                b.fixes = F::Maybe;
            }
        }
        "consent_required" => {
            b.transient = false;
            if !known {
                b.category = Category::Consent;
                b.title = "Consent required".to_owned();
                b.who = WhoActs::User;
                b.fixes = F::Yes;
            }
        }
        "user_password_expired" => {
            b.category = Category::Account;
            b.who = WhoActs::User;
            b.fixes = F::Yes;
            b.transient = false;
        }
        "bad_token" | "token_expired" => {
            b.transient = false;
            if !(known && b.fixes == F::No) {
                b.fixes = F::Yes;
                if matches!(b.who, WhoActs::Nobody) || !known {
                    b.who = WhoActs::User;
                }
            }
            if !known {
                b.category = if suberror == "token_expired" {
                    Category::Expired
                } else {
                    Category::Revoked
                };
                b.title = "Saved sign-in no longer valid".to_owned();
                b.user = "Your saved sign-in can no longer be used. Sign in again to reconnect."
                    .to_owned();
            }
        }
        "client_mismatch" => {
            b.who = WhoActs::Developer;
            b.fixes = F::No;
            b.transient = false;
        }
        "protection_policy_required" => {
            b.category = Category::Blocked;
            b.who = WhoActs::Admin;
            b.fixes = F::No;
            b.transient = false;
        }
        "device_authentication_failed" => {
            b.category = Category::Device;
            b.transient = false;
        }
        _ => {}
    }
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
        }
        Some(s) if s >= 500 && (!known || b.transient) => {
            if !known {
                b.category = Category::Service;
                b.who = WhoActs::Nobody;
                b.fixes = ReconnectFixes::No;
            }
            b.transient = true;
        }
        _ => {}
    }
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
