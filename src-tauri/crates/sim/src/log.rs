//! The request log: one entry per call to the identity endpoints, so tests
//! can assert how many refreshes really happened and what they returned.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Most entries kept; older ones are dropped first (the simulator doubles as a load target).
pub const LOG_CAPACITY: usize = 100_000;

/// One logged request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogEntry {
    /// Virtual time, RFC 3339.
    pub time: String,
    /// Virtual time, Unix seconds.
    pub unix: i64,
    /// `discovery`, `keys`, `authorize` or `token`.
    pub endpoint: String,
    /// HTTP method.
    pub method: String,
    /// `grant_type` of token requests.
    pub grant_type: Option<String>,
    /// The user concerned, when known.
    pub user: Option<String>,
    /// The client id.
    pub client_id: Option<String>,
    /// HTTP status answered (authorize: 200 for a page, 302 for the redirect; 0 when the connection was dropped).
    pub status: u16,
    /// The AADSTS code answered, if any.
    pub code: Option<u32>,
    /// OAuth `error` answered, if any.
    pub error: Option<String>,
    /// Whether the request passed a claims challenge (`claims` parameter).
    pub claims_passed: bool,
    /// Whether MFA was performed (authorize: during this sign-in; token: recorded in the grant).
    pub mfa: Option<bool>,
    /// The outage served instead of an answer, if any.
    pub fault: Option<String>,
}

/// The bounded log.
#[derive(Debug, Default, Clone)]
pub struct RequestLog {
    entries: VecDeque<LogEntry>,
    dropped: u64,
}

impl RequestLog {
    /// Appends an entry, dropping the oldest past [`LOG_CAPACITY`].
    pub fn push(&mut self, entry: LogEntry) {
        if self.entries.len() >= LOG_CAPACITY {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(entry);
    }

    /// All entries, oldest first.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.entries.iter().cloned().collect()
    }

    /// How many entries were dropped for space since the last clear.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Empties the log.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.dropped = 0;
    }
}
