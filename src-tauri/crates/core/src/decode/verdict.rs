//! The [`Verdict`]: everything Reconnect concludes about one failure.
//!
//! Its serialized form is the CLI contract of `reconnect decode --json`
//! (exactly the keys listed in the issue); richer internal detail travels in
//! fields marked `#[serde(skip)]`.

use serde::{Deserialize, Serialize};

use super::class::{Category, ReconnectFixes, WhoActs};
use super::description::Details;

/// Where the decoded failure came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Source {
    /// A token-endpoint HTTP response.
    TokenEndpoint,
    /// The error form of an authorize redirect.
    Authorize,
    /// Free text: a body, a description or a code someone pasted.
    #[default]
    Text,
    /// A transport failure before any answer arrived.
    Transport,
}

/// One decoded failure. Build it with the functions in [`crate::decode`].
///
/// It reads back what it wrote (a stored failure record holds one); fields
/// missing from older records take their defaults, and the `#[serde(skip)]`
/// details are not stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Verdict {
    /// The specific AADSTS code this verdict is about.
    pub primary_code: Option<u32>,
    /// Every AADSTS code seen, server order first.
    pub codes: Vec<u32>,
    /// The OAuth `error` value.
    pub error: Option<String>,
    /// Microsoft's `suberror` value.
    pub suberror: Option<String>,
    /// A short title.
    pub title: String,
    /// The kind of failure.
    pub category: Category,
    /// Who must act.
    pub who_acts: WhoActs,
    /// Whether an interactive reconnect fixes it.
    pub reconnect_fixes: ReconnectFixes,
    /// Whether waiting and retrying heals it.
    pub transient: bool,
    /// How long the server asked us to wait, when it said.
    pub retry_after_seconds: Option<u64>,
    /// Plain words for the end user.
    pub user_message: String,
    /// What happened and what to check, for an admin or developer.
    pub admin_message: String,
    /// What to do next, in order.
    pub next_steps: Vec<String>,
    /// The server's trace ID.
    pub trace_id: Option<String>,
    /// The server's correlation ID (the key to the Entra sign-in logs).
    pub correlation_id: Option<String>,
    /// The server's timestamp, as written.
    pub timestamp: Option<String>,
    /// The claims challenge to pass to the next interactive sign-in.
    pub claims_challenge: Option<String>,
    /// Microsoft's lookup page for the primary code.
    pub doc_url: Option<String>,
    /// Whether the primary code is in Reconnect's table.
    pub known: bool,

    /// Details read from the description (dates, spans, lifetimes).
    #[serde(skip)]
    pub details: Details,
    /// The server's description without its trailer lines.
    #[serde(skip)]
    pub server_message: Option<String>,
    /// The `error_subcode` of an authorize redirect (e.g. `cancel`).
    #[serde(skip)]
    pub error_subcode: Option<String>,
    /// The server's `error_uri`.
    #[serde(skip)]
    pub error_uri: Option<String>,
    /// Where the user can change an expired password, when the server said.
    #[serde(skip)]
    pub password_change_url: Option<String>,
    /// Wait long between retries: the answer came from something in the
    /// network path, named no cause Reconnect knows, or says the account is
    /// locked for a while. Retrying often would not help and may hurt.
    /// (Acted on when the failure happens; not part of the JSON.)
    #[serde(skip)]
    pub long_backoff: bool,
    /// The host of the account's authority (`login.microsoftonline.us`,
    /// `contoso.b2clogin.com`, …), when known, so next steps name the
    /// service this account really talks to.
    #[serde(skip)]
    pub authority_host: Option<String>,
    /// The HTTP status, for token-endpoint responses.
    #[serde(skip)]
    pub http_status: Option<u16>,
    /// What kind of input this came from.
    #[serde(skip)]
    pub source: Source,
}

impl Verdict {
    /// The same verdict for an account at `host`: the next steps name that
    /// host instead of Microsoft's global one.
    pub fn at_authority(mut self, host: &str) -> Self {
        self.authority_host = Some(host.to_owned());
        self.next_steps = super::steps::next_steps(&self);
        self
    }

    /// Whether waiting and retrying heals it (the engine backs off and retries).
    pub fn is_transient(&self) -> bool {
        self.transient
    }

    /// Whether the connection should be marked "reconnect needed": an
    /// interactive sign-in fixes it (or may), and it is not transient.
    pub fn needs_reconnect(&self) -> bool {
        !self.transient
            && matches!(
                self.reconnect_fixes,
                ReconnectFixes::Yes | ReconnectFixes::Maybe
            )
    }

    /// Whether an admin or the app's developer must act first.
    pub fn needs_admin_or_developer(&self) -> bool {
        matches!(self.who_acts, WhoActs::Admin | WhoActs::Developer)
    }

    /// Whether one immediate retry is worth it before asking for a reconnect
    /// (intermittent `invalid_grant` failures such as AADSTS70000).
    pub fn retry_once_first(&self) -> bool {
        !self.transient
            && self.category == Category::InvalidGrant
            && self.reconnect_fixes == ReconnectFixes::Maybe
    }

    /// Whether the next sign-in must carry [`Verdict::claims_challenge`].
    pub fn has_claims_challenge(&self) -> bool {
        self.claims_challenge.is_some()
    }

    /// A readable multi-line block (used by `reconnect decode` without `--json`).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let code = self
            .primary_code
            .map(|c| format!("AADSTS{c} · "))
            .unwrap_or_default();
        out.push_str(&format!("{code}{}\n", self.title));
        let mut line = |label: &str, value: &str| out.push_str(&format!("{label:<18}{value}\n"));
        line("Category:", self.category.as_str());
        line("Who acts:", self.who_acts.as_str());
        line("Reconnect fixes:", self.reconnect_fixes.as_str());
        let transient = match (self.transient, self.retry_after_seconds) {
            (true, Some(s)) => format!("yes (retry after {s} s)"),
            (true, None) => "yes".to_owned(),
            (false, _) => "no".to_owned(),
        };
        line("Transient:", &transient);
        if let Some(e) = &self.error {
            let sub = self
                .suberror
                .as_deref()
                .map(|s| format!(" / {s}"))
                .unwrap_or_default();
            line("Error:", &format!("{e}{sub}"));
        }
        if self.codes.len() > 1 {
            let all: Vec<String> = self.codes.iter().map(u32::to_string).collect();
            line("All codes:", &all.join(", "));
        }
        for (label, value) in [
            ("Trace ID:", &self.trace_id),
            ("Correlation ID:", &self.correlation_id),
            ("Timestamp:", &self.timestamp),
            ("Claims:", &self.claims_challenge),
            ("Docs:", &self.doc_url),
        ] {
            if let Some(v) = value {
                line(label, v);
            }
        }
        out.push_str(&format!("\nFor the user:\n  {}\n", self.user_message));
        out.push_str(&format!("\nFor the admin:\n  {}\n", self.admin_message));
        if !self.next_steps.is_empty() {
            out.push_str("\nNext steps:\n");
            for (i, step) in self.next_steps.iter().enumerate() {
                out.push_str(&format!("  {}. {step}\n", i + 1));
            }
        }
        if !self.known && self.primary_code.is_some() {
            out.push_str("\n(This code is not in Reconnect's table; the verdict is inferred.)\n");
        }
        out
    }
}
