//! Faults testers queue up: an AADSTS code for the next N token requests
//! (optionally only for one user), or an outage (503, 429, HTML 500, slow
//! responses, dropped connections) for the next N token requests.

use serde::{Deserialize, Serialize};

/// The body of `POST /_sim/faults`: either `code` or `outage`. Fields left
/// at `None` stay out of the JSON (the server reads them as "not given").
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FaultRequest {
    /// Answer with this AADSTS code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u32>,
    /// Only for requests concerning this user (code faults only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// Override the OAuth `error` that goes with the code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Override the `suberror`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suberror: Option<String>,
    /// Override the HTTP status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// An outage instead of a code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outage: Option<Outage>,
    /// How many requests the fault applies to (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Seconds for `Retry-After` (429; default 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Delay for `slow` (default 3000 ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

impl FaultRequest {
    /// Answer AADSTS `code` to the next token request (set other fields to narrow it).
    pub fn code(code: u32) -> Self {
        Self {
            code: Some(code),
            ..Self::default()
        }
    }

    /// Serve `outage` to the next token request (set other fields to stretch it).
    pub fn outage(outage: Outage) -> Self {
        Self {
            outage: Some(outage),
            ..Self::default()
        }
    }
}

/// How many requests a fault covers when it should last until someone clears
/// the queue (the tester panel's breaks and outages).
pub const UNTIL_CLEARED: u32 = 100_000;

/// A kind of outage. Its names (`503`, `429`, `html500`, `slow`, `drop`) are a
/// contract shared by the JSON bodies, the CLI and the tester panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Outage {
    /// 503 `temporarily_unavailable`.
    Unavailable,
    /// 429 with `Retry-After`.
    Throttled,
    /// 500 with an HTML body.
    Html500,
    /// The response is delayed, then served normally.
    Slow,
    /// The connection is closed without a response.
    Drop,
}

impl Outage {
    /// Every outage, in the order menus list them.
    pub const ALL: [Self; 5] = [
        Self::Unavailable,
        Self::Throttled,
        Self::Html500,
        Self::Slow,
        Self::Drop,
    ];

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

    /// Every contract name, in [`Outage::ALL`]'s order.
    pub fn names() -> [&'static str; 5] {
        Self::ALL.map(Self::name)
    }
}

/// A name that belongs to no outage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown outage `{0}`: use 503, 429, html500, slow or drop")]
pub struct UnknownOutage(pub String);

impl std::str::FromStr for Outage {
    type Err = UnknownOutage;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|o| o.name() == name)
            .ok_or_else(|| UnknownOutage(name.to_owned()))
    }
}

impl TryFrom<String> for Outage {
    type Error = UnknownOutage;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        name.parse()
    }
}

impl From<Outage> for &'static str {
    fn from(outage: Outage) -> Self {
        outage.name()
    }
}

impl std::fmt::Display for Outage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a queued fault does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// A queued fault and how many more requests it applies to (`POST
/// /_sim/faults` answers one; `GET /_sim/faults` lists them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// What it does.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Requests left.
    pub remaining: u32,
}

impl Fault {
    /// The outage this fault serves, if it is one.
    pub fn outage(&self) -> Option<Outage> {
        match self.kind {
            FaultKind::Outage { outage, .. } => Some(outage),
            FaultKind::Code { .. } => None,
        }
    }
}

/// Why a fault request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    /// Neither or both of `code` and `outage`.
    #[error("give exactly one of `code` or `outage`")]
    CodeOrOutage,
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
            (None, Some(outage)) => FaultKind::Outage {
                outage,
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
        let unknown = serde_json::from_value::<FaultRequest>(serde_json::json!({"outage": "boom"}))
            .expect_err("unknown outages are refused as they are read");
        assert!(
            unknown.to_string().contains("unknown outage `boom`"),
            "{unknown}"
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

    #[test]
    fn outage_names_are_the_contract() {
        // The names the CLI accepts and the tester panel sends: keep them.
        let names = ["503", "429", "html500", "slow", "drop"];
        assert_eq!(Outage::names(), names);
        for (outage, name) in Outage::ALL.into_iter().zip(names) {
            assert_eq!(serde_json::to_value(outage).ok(), Some(name.into()));
            let read: Outage = serde_json::from_value(name.into()).expect("a contract name");
            assert_eq!(read, outage);
            assert_eq!(name.parse::<Outage>(), Ok(outage));
            assert_eq!(outage.to_string(), name);
        }
        assert_eq!(
            "HTML500".parse::<Outage>(),
            Err(UnknownOutage("HTML500".into()))
        );
    }

    #[test]
    fn requests_leave_out_what_was_not_given_and_read_back_equal() {
        let request = FaultRequest {
            count: Some(3),
            ..FaultRequest::outage(Outage::Throttled)
        };
        let json = serde_json::to_value(&request).expect("serialise");
        assert_eq!(json, serde_json::json!({"outage": "429", "count": 3}));
        assert_eq!(
            serde_json::from_value::<FaultRequest>(json).ok(),
            Some(request)
        );
    }

    #[test]
    fn queued_faults_read_back_from_their_json() {
        for request in [
            FaultRequest {
                upn: Some("Bob@contoso.test".into()),
                status: Some(401),
                ..FaultRequest::code(50057)
            },
            FaultRequest::outage(Outage::Slow),
        ] {
            let fault = request.into_fault().expect("valid");
            let json = serde_json::to_value(&fault).expect("serialise");
            assert_eq!(serde_json::from_value::<Fault>(json).ok(), Some(fault));
        }
    }
}
