//! A failed refresh as it is remembered: the decoder's [`Verdict`], what the
//! retry policy made of it, when it happened, which request failed, and what
//! comes next.
//!
//! The engine stores it as the account's last failure and carries it inside
//! its errors; the app and the CLI read it back as this type (never as JSON
//! looked up by key). It holds no secret: the request fingerprint is built
//! from non-secret facts (client, scope, position in the token chain).

use serde::{Deserialize, Serialize};

use crate::decode::Verdict;
use crate::policy::{FailureClass, Streak};
use crate::tokens::UnixTime;

/// One recorded failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureRecord {
    /// The decoder's verdict.
    pub verdict: Verdict,
    /// What the retry policy made of it.
    pub class: FailureClass,
    /// When the request failed (0 when a record from an old version did not say).
    #[serde(default)]
    pub failed_at: UnixTime,
    /// Identifies the failed request (never contains a secret).
    #[serde(default)]
    pub fingerprint: String,
    /// The failure streak including this failure.
    #[serde(default)]
    pub streak: Streak,
    /// When the next automatic attempt runs, if any.
    #[serde(default)]
    pub next_attempt: Option<UnixTime>,
}

impl FailureRecord {
    /// A record of `verdict`, classified by the retry policy.
    pub fn new(verdict: Verdict, failed_at: UnixTime, fingerprint: String) -> Self {
        Self {
            class: FailureClass::from_verdict(&verdict),
            verdict,
            failed_at,
            fingerprint,
            streak: Streak::default(),
            next_attempt: None,
        }
    }

    /// The primary AADSTS code, if any.
    pub fn code(&self) -> Option<u32> {
        self.verdict.primary_code
    }

    /// When it failed, if the record knows.
    pub fn failed_at(&self) -> Option<UnixTime> {
        (self.failed_at > 0).then_some(self.failed_at)
    }

    /// One line: code, title and the user message.
    pub fn summary(&self) -> String {
        let code = self
            .code()
            .map(|c| format!("AADSTS{c} "))
            .unwrap_or_default();
        let title = &self.verdict.title;
        match self.verdict.user_message.as_str() {
            "" => format!("{code}{title}"),
            message => format!("{code}{title}. {message}"),
        }
    }

    /// Readable lines below the summary: who acts, next steps, the IDs to
    /// look the failure up with.
    pub fn explain(&self) -> String {
        let v = &self.verdict;
        let mut out = format!("Who must act: {}", v.who_acts.as_str());
        for step in &v.next_steps {
            out.push_str(&format!("\n  - {step}"));
        }
        for (label, value) in [
            ("Trace ID", &v.trace_id),
            ("Correlation ID", &v.correlation_id),
        ] {
            if let Some(value) = value {
                out.push_str(&format!("\n{label}: {value}"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{self, Category, WhoActs};

    fn revoked() -> Verdict {
        decode::decode_code(50173)
    }

    #[test]
    fn a_record_round_trips_through_json() {
        let mut record = FailureRecord::new(revoked(), 1_700_000_000, "fp".into());
        record.streak = Streak {
            transient: 2,
            reconnect: 1,
            network: None,
        };
        record.next_attempt = Some(1_700_000_600);
        let json = serde_json::to_string(&record).unwrap();
        let back: FailureRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, record);
        assert_eq!(back.verdict.category, Category::Revoked);
        assert_eq!(back.code(), Some(50173));
    }

    #[test]
    fn a_record_from_an_older_version_reads_with_defaults() {
        let json = r#"{"verdict": {"title": "Grant revoked", "who_acts": "admin",
            "category": "revoked", "primary_code": 50173},
            "class": {"class": "needs_admin"}}"#;
        let record: FailureRecord = serde_json::from_str(json).unwrap();
        assert_eq!(record.class, FailureClass::NeedsAdmin);
        assert_eq!(record.verdict.who_acts, WhoActs::Admin);
        assert_eq!(record.failed_at(), None);
        assert!(record.verdict.next_steps.is_empty());
    }

    #[test]
    fn the_summary_names_code_title_and_message() {
        let record = FailureRecord::new(revoked(), 1, String::new());
        let summary = record.summary();
        assert!(summary.starts_with("AADSTS50173 "), "{summary}");
        assert!(record.explain().starts_with("Who must act: user"));
    }
}
