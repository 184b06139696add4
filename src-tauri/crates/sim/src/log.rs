//! The request log: one entry per call to the identity endpoints, so tests
//! can assert how many refreshes really happened and what they returned.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::clock::rfc3339;

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
    /// The last second stamped and its RFC 3339 text (formatting once per second, not per request).
    stamp: Option<(i64, String)>,
}

impl RequestLog {
    /// Stamps `entry` with virtual time `unix` and appends it.
    pub fn push_at(&mut self, mut entry: LogEntry, unix: i64) {
        let time = match &self.stamp {
            Some((at, text)) if *at == unix => text.clone(),
            _ => {
                let text = rfc3339(unix);
                self.stamp = Some((unix, text.clone()));
                text
            }
        };
        entry.unix = unix;
        entry.time = time;
        self.push(entry);
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> LogEntry {
        LogEntry {
            time: String::new(),
            unix: 0,
            endpoint: "token".into(),
            method: "POST".into(),
            grant_type: None,
            user: None,
            client_id: None,
            status: 200,
            code: None,
            error: None,
            claims_passed: false,
            mfa: None,
            fault: None,
        }
    }

    #[test]
    fn entries_carry_their_own_second_and_the_log_stays_capped() {
        let mut log = RequestLog::default();
        log.push_at(entry(), 0);
        log.push_at(entry(), 0);
        log.push_at(entry(), 61);
        let times: Vec<(i64, String)> = log
            .entries()
            .into_iter()
            .map(|e| (e.unix, e.time))
            .collect();
        assert_eq!(
            times,
            vec![
                (0, "1970-01-01T00:00:00Z".to_owned()),
                (0, "1970-01-01T00:00:00Z".to_owned()),
                (61, "1970-01-01T00:01:01Z".to_owned()),
            ]
        );
        for _ in 0..LOG_CAPACITY {
            log.push_at(entry(), 120);
        }
        assert_eq!(log.entries().len(), LOG_CAPACITY);
        assert_eq!(log.dropped(), 3);
        assert!(
            log.entries().iter().all(|e| e.unix == 120),
            "the oldest went first"
        );
    }
}
