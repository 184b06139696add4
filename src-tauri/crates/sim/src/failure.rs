//! Entra-shaped error responses: which `error`, status and `suberror` go with
//! an AADSTS code, and the exact JSON body Entra sends.
//!
//! Descriptions come from the decoder's code table
//! (`reconnect_core::decode::table`), so what the simulator sends is what
//! Reconnect decodes; simulated causes add the facts Entra puts in the text
//! (issue dates, idle spans, lifetimes, TokensValidFrom).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use reconnect_core::decode::table;
use serde::Serialize;

use crate::clock::entra_timestamp;

/// The claims challenge the simulated MFA policy sends with 50076.
pub const MFA_CLAIMS_CHALLENGE: &str = r#"{"access_token":{"capolids":{"essential":true,"values":["5e0c6f5a-3b8f-4c1e-9d4e-51b7b0a1c0de"]}}}"#;

/// A failure the simulator is about to report, before trace ids and time are added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// HTTP status.
    pub status: u16,
    /// OAuth `error`.
    pub error: String,
    /// The AADSTS code.
    pub code: u32,
    /// Text after `AADSTSnnnn: ` on the first line of `error_description`.
    pub text: String,
    /// `suberror`, when Entra sends one.
    pub suberror: Option<String>,
    /// `claims` challenge, when Entra sends one.
    pub claims: Option<String>,
    /// `Retry-After` seconds (429 only).
    pub retry_after: Option<u64>,
}

/// The status, `error` and suberror Entra pairs with a code at the token
/// endpoint (the shared wire table of the core, so what the simulator sends
/// is what the decoder reads).
pub fn shape_of(code: u32) -> (u16, &'static str, Option<&'static str>) {
    let shape = reconnect_core::decode::wire::shape_of(code);
    (shape.status, shape.error, shape.suberror)
}

/// The table's one-line wording for `code`, or a generic line for codes it does not know.
pub fn table_text(code: u32) -> String {
    match table::lookup(code) {
        Some(info) => format!("{}. {}", info.name, info.admin_message),
        None => format!("Simulated failure {code}."),
    }
}

impl Failure {
    /// A failure with the usual shape and wording for `code`.
    pub fn code(code: u32) -> Self {
        Self::with_text(code, table_text(code))
    }

    /// A failure with the usual shape for `code` and the given wording.
    pub fn with_text(code: u32, text: String) -> Self {
        let (status, error, suberror) = shape_of(code);
        let claims = matches!(code, 50076 | 50079 | 50158).then(|| MFA_CLAIMS_CHALLENGE.to_owned());
        Self {
            status,
            error: error.to_owned(),
            code,
            text,
            suberror: suberror.map(str::to_owned),
            claims,
            retry_after: (status == 429).then_some(5),
        }
    }

    /// Renders the body with fresh trace ids at virtual time `now`; the
    /// `error_uri` points at `base`, the host the request came to.
    pub fn body(&self, now: i64, correlation_id: &str, base: &str) -> ErrorBody {
        let trace_id = crate::new_uuid().to_string();
        let timestamp = entra_timestamp(now);
        ErrorBody {
            error: self.error.clone(),
            error_description: format!(
                "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
                self.code, self.text
            ),
            error_codes: vec![self.code],
            timestamp,
            trace_id,
            correlation_id: correlation_id.to_owned(),
            error_uri: error_uri(base, self.code),
            suberror: self.suberror.clone(),
            claims: self.claims.clone(),
        }
    }

    /// The full HTTP response.
    pub fn response(&self, now: i64, correlation_id: &str, base: &str) -> Response {
        let body = self.body(now, correlation_id, base);
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let trace = body.trace_id.clone();
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&trace) {
            headers.insert("x-ms-request-id", v);
        }
        if let Ok(v) = HeaderValue::from_str(correlation_id) {
            headers.insert("client-request-id", v);
        }
        if let Some(secs) = self.retry_after {
            headers.insert("retry-after", HeaderValue::from(secs));
        }
        response
    }
}

/// The link to a code's page on the host the request came to.
pub fn error_uri(base: &str, code: u32) -> String {
    format!("{}/error?code={code}", base.trim_end_matches('/'))
}

/// Entra's error body, field for field.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    /// OAuth error.
    pub error: String,
    /// `AADSTSnnnn: …\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …`.
    pub error_description: String,
    /// The AADSTS codes.
    pub error_codes: Vec<u32>,
    /// `yyyy-MM-dd HH:mm:ssZ`.
    pub timestamp: String,
    /// Trace id.
    pub trace_id: String,
    /// Correlation id (the client's `client-request-id` when it sent one).
    pub correlation_id: String,
    /// Link to the code's reference page.
    pub error_uri: String,
    /// Sub-error, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suberror: Option<String>,
    /// Claims challenge, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_has_the_four_entra_lines() {
        let body = Failure::code(700082).body(
            1_700_000_000,
            "corr-1",
            "https://login.microsoftonline.com",
        );
        let lines: Vec<&str> = body.error_description.split("\r\n").collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("AADSTS700082: "));
        assert_eq!(lines[1], format!("Trace ID: {}", body.trace_id));
        assert_eq!(lines[2], "Correlation ID: corr-1");
        assert_eq!(lines[3], "Timestamp: 2023-11-14 22:13:20Z");
        assert_eq!(body.timestamp, "2023-11-14 22:13:20Z");
        assert_eq!(body.error_codes, vec![700082]);
        assert_eq!(body.error, "invalid_grant");
    }

    #[test]
    fn shapes_follow_entra() {
        assert_eq!(shape_of(7000218), (401, "invalid_client", None));
        assert_eq!(shape_of(53003).2, Some("message_only"));
        assert_eq!(shape_of(50076).2, Some("basic_action"));
        assert_eq!(shape_of(90033).0, 503);
        let mfa = Failure::code(50076);
        assert_eq!(mfa.claims.as_deref(), Some(MFA_CLAIMS_CHALLENGE));
        let json = serde_json::to_value(Failure::code(700082).body(
            0,
            "c",
            "https://login.microsoftonline.com",
        ))
        .unwrap_or_default();
        assert!(json.get("suberror").is_none() && json.get("claims").is_none());
    }

    #[test]
    fn unknown_codes_still_get_a_description() {
        let f = Failure::code(4_242_424);
        assert!(f.text.contains("4242424"));
        assert_eq!(f.error, "invalid_grant");
    }
}
