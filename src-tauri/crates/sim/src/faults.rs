//! Faults testers queue up: an AADSTS code for the next N token requests
//! (optionally only for one user), or an outage (503, 429, HTML 500, slow
//! responses, dropped connections) for the next N token requests.

use serde::{Deserialize, Serialize};

/// The body of `POST /_sim/faults`: either `code` or `outage`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FaultRequest {
    /// Answer with this AADSTS code.
    pub code: Option<u32>,
    /// Only for requests concerning this user (code faults only).
    pub upn: Option<String>,
    /// Override the OAuth `error` that goes with the code.
    pub error: Option<String>,
    /// Override the `suberror`.
    pub suberror: Option<String>,
    /// Override the HTTP status.
    pub status: Option<u16>,
    /// `503`, `429`, `html500`, `slow` or `drop`.
    pub outage: Option<String>,
    /// How many requests the fault applies to (default 1).
    pub count: Option<u32>,
    /// Seconds for `Retry-After` (429; default 5).
    pub retry_after: Option<u64>,
    /// Delay for `slow` (default 3000 ms).
    pub delay_ms: Option<u64>,
}

/// A kind of outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outage {
    /// 503 `temporarily_unavailable`.
    #[serde(rename = "503")]
    Unavailable,
    /// 429 with `Retry-After`.
    #[serde(rename = "429")]
    Throttled,
    /// 500 with an HTML body.
    Html500,
    /// The response is delayed, then served normally.
    Slow,
    /// The connection is closed without a response.
    Drop,
}

impl Outage {
    /// Parses the contract's names.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "503" => Self::Unavailable,
            "429" => Self::Throttled,
            "html500" => Self::Html500,
            "slow" => Self::Slow,
            "drop" => Self::Drop,
            _ => return None,
        })
    }

    /// The contract name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Unavailable => "503",
            Self::Throttled => "429",
            Self::Html500 => "html500",
            Self::Slow => "slow",
            Self::Drop => "drop",
        }
    }
}

/// What a queued fault does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FaultKind {
    /// Answer an AADSTS code.
    Code {
        /// The code.
        code: u32,
        /// Only for this user.
        upn: Option<String>,
        /// OAuth error override.
        error: Option<String>,
        /// Suberror override.
        suberror: Option<String>,
        /// Status override.
        status: Option<u16>,
    },
    /// An outage.
    Outage {
        /// Which.
        outage: Outage,
        /// `Retry-After` seconds.
        retry_after: u64,
        /// Delay for `slow`.
        delay_ms: u64,
    },
}

/// A queued fault and how many more requests it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fault {
    /// What it does.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Requests left.
    pub remaining: u32,
}

/// Why a fault request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    /// Neither or both of `code` and `outage`.
    #[error("give exactly one of `code` or `outage`")]
    CodeOrOutage,
    /// Unknown outage name.
    #[error("unknown outage `{0}`: use 503, 429, html500, slow or drop")]
    UnknownOutage(String),
    /// A status outside 400–599.
    #[error("status {0} is not an HTTP error status")]
    BadStatus(u16),
    /// `count` of zero.
    #[error("count must be at least 1")]
    ZeroCount,
}

impl FaultRequest {
    /// Checks the request and turns it into a fault.
    pub fn into_fault(self) -> Result<Fault, FaultError> {
        let remaining = self.count.unwrap_or(1);
        if remaining == 0 {
            return Err(FaultError::ZeroCount);
        }
        if let Some(status) = self.status.filter(|s| !(400..=599).contains(s)) {
            return Err(FaultError::BadStatus(status));
        }
        let kind = match (self.code, self.outage) {
            (Some(code), None) => FaultKind::Code {
                code,
                upn: self.upn.map(|u| u.to_lowercase()),
                error: self.error,
                suberror: self.suberror,
                status: self.status,
            },
            (None, Some(name)) => FaultKind::Outage {
                outage: Outage::parse(&name).ok_or(FaultError::UnknownOutage(name))?,
                retry_after: self.retry_after.unwrap_or(5),
                delay_ms: self.delay_ms.unwrap_or(3_000),
            },
            _ => return Err(FaultError::CodeOrOutage),
        };
        Ok(Fault { kind, remaining })
    }
}

/// The fault queue.
#[derive(Debug, Default, Clone)]
pub struct Faults {
    queue: Vec<Fault>,
}

impl Faults {
    /// Adds a fault at the end of the queue.
    pub fn push(&mut self, fault: Fault) {
        self.queue.push(fault);
    }

    /// Removes every fault.
    pub fn clear(&mut self) {
        self.queue.clear();
    }

    /// The queued faults.
    pub fn list(&self) -> &[Fault] {
        &self.queue
    }

    /// Whether nothing is queued (the fast path under load).
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Takes one use of the first queued outage.
    pub fn take_outage(&mut self) -> Option<FaultKind> {
        self.take(|k| matches!(k, FaultKind::Outage { .. }))
    }

    /// Takes one use of the first code fault that applies to `upn` (or to anyone).
    pub fn take_code(&mut self, upn: Option<&str>) -> Option<FaultKind> {
        self.take(|k| match k {
            FaultKind::Code { upn: None, .. } => true,
            FaultKind::Code {
                upn: Some(want), ..
            } => upn.is_some_and(|u| u.eq_ignore_ascii_case(want)),
            FaultKind::Outage { .. } => false,
        })
    }

    fn take(&mut self, applies: impl Fn(&FaultKind) -> bool) -> Option<FaultKind> {
        let index = self.queue.iter().position(|f| applies(&f.kind))?;
        let fault = &mut self.queue[index];
        let kind = fault.kind.clone();
        fault.remaining = fault.remaining.saturating_sub(1);
        if fault.remaining == 0 {
            self.queue.remove(index);
        }
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(json: serde_json::Value) -> Result<Fault, FaultError> {
        serde_json::from_value::<FaultRequest>(json)
            .map_err(|_| FaultError::CodeOrOutage)
            .and_then(FaultRequest::into_fault)
    }

    #[test]
    fn faults_run_out_after_count_uses() {
        let mut faults = Faults::default();
        faults.push(req(serde_json::json!({"outage": "503", "count": 2})).expect("valid"));
        assert!(faults.take_outage().is_some());
        assert!(faults.take_outage().is_some());
        assert!(faults.take_outage().is_none());
        assert!(faults.is_empty());
    }

    #[test]
    fn user_scoped_code_faults_skip_other_users() {
        let mut faults = Faults::default();
        faults.push(
            req(serde_json::json!({"code": 50057, "upn": "Bob@contoso.test"})).expect("valid"),
        );
        assert!(faults.take_code(Some("alice@contoso.test")).is_none());
        assert!(faults.take_code(None).is_none());
        assert!(faults.take_code(Some("bob@contoso.test")).is_some());
        assert!(faults.is_empty());
    }

    #[test]
    fn bad_requests_are_refused_with_a_reason() {
        assert_eq!(req(serde_json::json!({})), Err(FaultError::CodeOrOutage));
        assert_eq!(
            req(serde_json::json!({"code": 1, "outage": "503"})),
            Err(FaultError::CodeOrOutage)
        );
        assert_eq!(
            req(serde_json::json!({"outage": "boom"})),
            Err(FaultError::UnknownOutage("boom".into()))
        );
        assert_eq!(
            req(serde_json::json!({"code": 1, "count": 0})),
            Err(FaultError::ZeroCount)
        );
        assert_eq!(
            req(serde_json::json!({"code": 1, "status": 200})),
            Err(FaultError::BadStatus(200))
        );
    }
}
