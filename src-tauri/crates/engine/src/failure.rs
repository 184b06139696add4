//! A failed refresh as the engine remembers it: the decoder's verdict (its
//! JSON, exactly as `reconnect decode --json` prints it), the policy class,
//! when it happened, which request failed, and what comes next.
//!
//! It is stored as the account's `last_failure` JSON and carried inside
//! [`EngineError`](crate::EngineError)s. It never holds a secret: the request
//! fingerprint is built from non-secret facts (client, scope, rotation count).

use reconnect_core::decode::Verdict;
use reconnect_core::policy::{FailureClass, Streak};
use reconnect_core::tokens::UnixTime;
use reconnect_oauth::TokenError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One recorded failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureRecord {
    /// The decoder's verdict, as JSON.
    pub verdict: Value,
    /// What the retry policy made of it.
    pub class: FailureClass,
    /// When the request failed.
    pub failed_at: UnixTime,
    /// Identifies the failed request (never contains a secret).
    pub fingerprint: String,
    /// The failure streak including this failure.
    #[serde(default)]
    pub streak: Streak,
    /// When the next automatic attempt runs, if any.
    #[serde(default)]
    pub next_attempt: Option<UnixTime>,
}

impl FailureRecord {
    /// Builds a record from a verdict.
    pub fn new(verdict: &Verdict, failed_at: UnixTime, fingerprint: String) -> Self {
        Self {
            verdict: serde_json::to_value(verdict).unwrap_or(Value::Null),
            class: FailureClass::from_verdict(verdict),
            failed_at,
            fingerprint,
            streak: Streak::default(),
            next_attempt: None,
        }
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.verdict.get(key).and_then(Value::as_str)
    }

    /// The primary AADSTS code, if any.
    pub fn code(&self) -> Option<u32> {
        self.verdict
            .get("primary_code")
            .and_then(Value::as_u64)
            .and_then(|c| u32::try_from(c).ok())
    }

    /// The decoder's category.
    pub fn category(&self) -> &str {
        self.text("category").unwrap_or("unknown")
    }

    /// One line: code, title and the user message.
    pub fn summary(&self) -> String {
        let code = self
            .code()
            .map(|c| format!("AADSTS{c} "))
            .unwrap_or_default();
        let title = self.text("title").unwrap_or("unknown failure");
        match self.text("user_message") {
            Some(msg) if !msg.is_empty() => format!("{code}{title}. {msg}"),
            _ => format!("{code}{title}"),
        }
    }

    /// Readable lines for stderr below the summary: who acts, next steps, IDs.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        if let Some(who) = self.text("who_acts") {
            out.push_str(&format!("Who must act: {who}"));
        }
        if let Some(steps) = self.verdict.get("next_steps").and_then(Value::as_array) {
            for step in steps.iter().filter_map(Value::as_str) {
                out.push_str(&format!("\n  - {step}"));
            }
        }
        for (label, key) in [
            ("Trace ID", "trace_id"),
            ("Correlation ID", "correlation_id"),
        ] {
            if let Some(v) = self.text(key) {
                out.push_str(&format!("\n{label}: {v}"));
            }
        }
        out
    }
}

/// Decodes a failed token request into a verdict.
pub fn verdict_of(err: &TokenError, now: UnixTime) -> Verdict {
    err.verdict(now)
}
