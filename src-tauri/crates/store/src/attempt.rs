//! What an event records: which kind of attempt it was and how it ended.
//! Stored as their snake_case names (the same in `reconnect events --json`
//! and the app's timeline).

use serde::Serialize;

/// Which kind of attempt an event records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A refresh-token redemption.
    #[default]
    Refresh,
    /// An interactive sign-in.
    Signin,
    /// A refresh token adopted with `reconnect import`.
    Import,
    /// An account added.
    Add,
    /// An account removed.
    Remove,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It worked.
    #[default]
    Ok,
    /// It failed.
    Failed,
    /// It was cancelled (sign-in closed or timed out).
    Cancelled,
    /// A refresh whose account was reconnected or removed while it was in
    /// flight: its result was thrown away (neither a success nor a failure).
    Discarded,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [Self; 5] = [
        Self::Refresh,
        Self::Signin,
        Self::Import,
        Self::Add,
        Self::Remove,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refresh => "refresh",
            Self::Signin => "signin",
            Self::Import => "import",
            Self::Add => "add",
            Self::Remove => "remove",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Self; 4] = [Self::Ok, Self::Failed, Self::Cancelled, Self::Discarded];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Discarded => "discarded",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }

    /// Whether it counts as a failure (charts, spikes, `failures_only`).
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::Cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serde_names_and_read_back() {
        for kind in EventKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        for outcome in Outcome::ALL {
            assert_eq!(serde_json::to_value(outcome).unwrap(), outcome.as_str());
            assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
        }
        let failures: Vec<_> = Outcome::ALL
            .into_iter()
            .filter(|o| o.is_failure())
            .collect();
        assert_eq!(failures, [Outcome::Failed, Outcome::Cancelled]);
    }
}
