//! The request log: one entry per call to the identity endpoints, so tests
//! can assert how many refreshes really happened and what they returned.

use std::collections::VecDeque;
use std::sync::Arc;

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
    /// `discovery`, `keys`, `authorize`, `token` or `devicecode`.
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
    /// Whether the request passed a claims challenge: a `claims` parameter
    /// asking for more than the client's declared capabilities.
    pub claims_passed: bool,
    /// Whether MFA was performed (authorize: during this sign-in; token: recorded in the grant).
    pub mfa: Option<bool>,
    /// The outage served instead of an answer, if any.
    pub fault: Option<String>,
    /// The device flow's user code (device-code requests and polls).
    #[serde(default)]
    pub user_code: Option<String>,
    /// The device code's polling interval in seconds: as issued, or as it
    /// stands after a poll (each `slow_down` adds 5).
    #[serde(default)]
    pub interval: Option<u32>,
    /// The `client-request-id` header the client sent, when plain.
    #[serde(default)]
    pub client_request_id: Option<String>,
    /// The client capabilities the request declared in its `claims`
    /// (`access_token.xms_cc.values`, such as `cp1`); token requests only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_capabilities: Vec<String>,
}

impl LogEntry {
    /// A request to `endpoint` with nothing else known yet: status 200, no
    /// user, client, code or fault. The log stamps the time when it is pushed.
    pub fn request(endpoint: &str, method: &str) -> Self {
        Self {
            time: String::new(),
            unix: 0,
            endpoint: endpoint.into(),
            method: method.into(),
            grant_type: None,
            user: None,
            client_id: None,
            status: 200,
            code: None,
            error: None,
            claims_passed: false,
            mfa: None,
            fault: None,
            user_code: None,
            interval: None,
            client_request_id: None,
            client_capabilities: Vec::new(),
        }
    }
}

/// The bounded log: a ring of at most [`LOG_CAPACITY`] entries.
///
/// Entries are kept compactly: text that repeats from request to request
/// (endpoint, method, grant type, user, client, error, fault, declared
/// capabilities) shares one allocation with recent entries, and the RFC 3339
/// time is formatted when the log is read. A full log of token requests takes
/// about 15 MiB.
#[derive(Debug, Default, Clone)]
pub struct RequestLog {
    entries: VecDeque<Kept>,
    dropped: u64,
    /// Recently seen texts, most recent first, shared by new entries.
    recent: VecDeque<Arc<str>>,
}

/// How many recent texts are looked up for sharing.
const RECENT_TEXTS: usize = 16;

/// One entry as the log keeps it.
#[derive(Debug, Clone)]
struct Kept {
    unix: i64,
    endpoint: Arc<str>,
    method: Arc<str>,
    grant_type: Option<Arc<str>>,
    user: Option<Arc<str>>,
    client_id: Option<Arc<str>>,
    status: u16,
    code: Option<u32>,
    error: Option<Arc<str>>,
    claims_passed: bool,
    mfa: Option<bool>,
    fault: Option<Arc<str>>,
    /// The declared client capabilities, space-separated (every request of a
    /// client declares the same, so the text is shared, not boxed per entry).
    capabilities: Option<Arc<str>>,
    /// Facts unique to the request (device flow, the client's request id),
    /// boxed so an entry without them stays one pointer larger.
    extras: Option<Box<Extras>>,
}

/// The per-request part of a kept entry.
#[derive(Debug, Clone, Default)]
struct Extras {
    user_code: Option<Box<str>>,
    interval: Option<u32>,
    client_request_id: Option<Box<str>>,
}

impl RequestLog {
    /// Appends `entry` at virtual time `unix` (its own `time` and `unix` are
    /// replaced), dropping the oldest entry past [`LOG_CAPACITY`].
    pub fn push_at(&mut self, entry: LogEntry, unix: i64) {
        let kept = Kept {
            unix,
            endpoint: self.share(entry.endpoint),
            method: self.share(entry.method),
            grant_type: entry.grant_type.map(|t| self.share(t)),
            user: entry.user.map(|t| self.share(t)),
            client_id: entry.client_id.map(|t| self.share(t)),
            status: entry.status,
            code: entry.code,
            error: entry.error.map(|t| self.share(t)),
            claims_passed: entry.claims_passed,
            mfa: entry.mfa,
            fault: entry.fault.map(|t| self.share(t)),
            capabilities: (!entry.client_capabilities.is_empty())
                .then(|| self.share(entry.client_capabilities.join(" "))),
            extras: (entry.user_code.is_some()
                || entry.interval.is_some()
                || entry.client_request_id.is_some())
            .then(|| {
                Box::new(Extras {
                    user_code: entry.user_code.map(String::into_boxed_str),
                    interval: entry.interval,
                    client_request_id: entry.client_request_id.map(String::into_boxed_str),
                })
            }),
        };
        if self.entries.len() >= LOG_CAPACITY {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(kept);
    }

    /// The shared copy of `text` when it was seen recently, else a new one.
    fn share(&mut self, text: String) -> Arc<str> {
        if let Some(found) = self.recent.iter().find(|t| ***t == *text) {
            return found.clone();
        }
        let shared: Arc<str> = Arc::from(text);
        if self.recent.len() >= RECENT_TEXTS {
            self.recent.pop_back();
        }
        self.recent.push_front(shared.clone());
        shared
    }

    /// All entries, oldest first.
    pub fn entries(&self) -> Vec<LogEntry> {
        let mut stamp: Option<(i64, String)> = None;
        let text = |t: &Arc<str>| t.as_ref().to_owned();
        self.entries
            .iter()
            .map(|k| {
                let time = match &stamp {
                    Some((at, time)) if *at == k.unix => time.clone(),
                    _ => {
                        let time = rfc3339(k.unix);
                        stamp = Some((k.unix, time.clone()));
                        time
                    }
                };
                LogEntry {
                    time,
                    unix: k.unix,
                    endpoint: text(&k.endpoint),
                    method: text(&k.method),
                    grant_type: k.grant_type.as_ref().map(text),
                    user: k.user.as_ref().map(text),
                    client_id: k.client_id.as_ref().map(text),
                    status: k.status,
                    code: k.code,
                    error: k.error.as_ref().map(text),
                    claims_passed: k.claims_passed,
                    mfa: k.mfa,
                    fault: k.fault.as_ref().map(text),
                    user_code: k
                        .extras
                        .as_ref()
                        .and_then(|d| d.user_code.as_deref().map(str::to_owned)),
                    interval: k.extras.as_ref().and_then(|d| d.interval),
                    client_request_id: k
                        .extras
                        .as_ref()
                        .and_then(|d| d.client_request_id.as_deref().map(str::to_owned)),
                    client_capabilities: k
                        .capabilities
                        .as_deref()
                        .map(|c| c.split_whitespace().map(str::to_owned).collect())
                        .unwrap_or_default(),
                }
            })
            .collect()
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
        LogEntry::request("token", "POST")
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

    #[test]
    fn entries_read_back_exactly_as_written_when_texts_are_shared() {
        let mut log = RequestLog::default();
        let mut written = Vec::new();
        for i in 0..40u32 {
            let mut e = entry();
            e.user = Some(format!("user{}@contoso.test", i % 20));
            e.client_id = (i % 3 != 0).then(|| "client-a".to_owned());
            e.grant_type = Some(
                if i % 2 == 0 {
                    "refresh_token"
                } else {
                    "authorization_code"
                }
                .to_owned(),
            );
            e.error = (i % 5 == 0).then(|| "invalid_grant".to_owned());
            e.code = (i % 5 == 0).then_some(700_082);
            e.fault = (i == 7).then(|| "slow".to_owned());
            e.mfa = Some(i % 4 == 0);
            e.claims_passed = i % 6 == 0;
            e.status = if i % 5 == 0 { 400 } else { 200 };
            e.user_code = (i % 7 == 0).then(|| format!("CODE{i}"));
            e.interval = (i % 7 == 0).then_some(5 + i);
            e.client_capabilities = match i % 3 {
                0 => vec![],
                1 => vec!["cp1".to_owned()],
                _ => vec!["cp1".to_owned(), "cp2".to_owned()],
            };
            log.push_at(e.clone(), i64::from(i));
            e.unix = i64::from(i);
            e.time = rfc3339(e.unix);
            written.push(e);
        }
        assert_eq!(log.entries(), written);
    }
}
