//! Reading a token-endpoint response body: a JSON OAuth error object, or one
//! of the shapes that are not an OAuth error at all (empty, HTML from a proxy,
//! truncated or invalid JSON, JSON without error fields, too large).

use serde_json::{Map, Value};

use super::classify::OAuthError;

/// Bodies larger than this are not parsed (real error bodies are about 1 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why a body is not an OAuth error object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyProblem {
    /// No bytes, or only whitespace.
    #[error("the response body was empty")]
    Empty,
    /// An HTML page, typically from a proxy, captive portal or load balancer.
    #[error("the response was an HTML page, not an OAuth error")]
    Html,
    /// JSON that ends early.
    #[error("the response body was cut off")]
    Truncated,
    /// Bytes that are not JSON (or not UTF-8).
    #[error("the response body was not valid JSON")]
    InvalidJson,
    /// Valid JSON without any OAuth error field.
    #[error("the response body held no OAuth error")]
    NotAnError,
    /// More than [`MAX_BODY_BYTES`].
    #[error("the response body was larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
}

/// Reads a body as an OAuth error. `content_type` only helps recognise HTML;
/// JSON is recognised by its content.
pub fn read(bytes: &[u8], content_type: Option<&str>) -> Result<OAuthError, BodyProblem> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(BodyProblem::TooLarge);
    }
    let without_bom = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let trimmed = without_bom.trim_ascii();
    if trimmed.is_empty() {
        return Err(BodyProblem::Empty);
    }
    let html_type = content_type.is_some_and(|t| t.to_ascii_lowercase().contains("html"));
    if trimmed.first() == Some(&b'<') || (html_type && trimmed.first() != Some(&b'{')) {
        return Err(BodyProblem::Html);
    }
    let value: Value = serde_json::from_slice(trimmed).map_err(|e| {
        if e.is_eof() {
            BodyProblem::Truncated
        } else {
            BodyProblem::InvalidJson
        }
    })?;
    let Value::Object(map) = value else {
        return Err(BodyProblem::NotAnError);
    };
    from_object(&map).ok_or(BodyProblem::NotAnError)
}

/// Reads the OAuth error fields of a JSON object; `None` when it has none of
/// `error`, `error_description` or `error_codes`.
pub fn from_object(map: &Map<String, Value>) -> Option<OAuthError> {
    let text = |key: &str| -> Option<String> {
        match map.get(key)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let error_codes = match map.get("error_codes") {
        Some(Value::Array(items)) => items.iter().filter_map(code_of).collect(),
        Some(single) => code_of(single).into_iter().collect(),
        None => Vec::new(),
    };
    let claims = match map.get("claims") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(obj @ Value::Object(_)) => Some(obj.to_string()),
        _ => None,
    };
    let err = OAuthError {
        error: text("error"),
        error_description: text("error_description"),
        error_codes,
        suberror: text("suberror"),
        error_subcode: text("error_subcode"),
        timestamp: text("timestamp"),
        trace_id: text("trace_id"),
        correlation_id: text("correlation_id"),
        error_uri: text("error_uri"),
        claims,
        password_change_url: text("password_change_url"),
    };
    let is_error =
        err.error.is_some() || err.error_description.is_some() || !err.error_codes.is_empty();
    is_error.then_some(err)
}

fn code_of(value: &Value) -> Option<u32> {
    match value {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().trim_start_matches("AADSTS").parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_field_of_a_real_shaped_body() {
        let body = br#"{"error":"invalid_grant","error_description":"AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000003-0000-0000-c000-000000000000'. Trace ID: t Correlation ID: c Timestamp: 2024-01-01 00:00:00Z","error_codes":[50076],"timestamp":"2024-01-01 00:00:00Z","trace_id":"t","correlation_id":"c","error_uri":"https://login.microsoftonline.com/error?code=50076","suberror":"basic_action","claims":"{\"access_token\":{\"capolids\":{\"essential\":true,\"values\":[\"p1\"]}}}"}"#;
        let err = read(body, Some("application/json; charset=utf-8")).unwrap_or_default();
        assert_eq!(err.error.as_deref(), Some("invalid_grant"));
        assert_eq!(err.error_codes, vec![50076]);
        assert_eq!(err.suberror.as_deref(), Some("basic_action"));
        assert!(
            err.claims
                .as_deref()
                .is_some_and(|c| c.contains("capolids"))
        );
        assert_eq!(err.trace_id.as_deref(), Some("t"));
    }

    #[test]
    fn not_oauth_shapes_are_named() {
        assert_eq!(read(b"", None), Err(BodyProblem::Empty));
        assert_eq!(read(b" \r\n ", None), Err(BodyProblem::Empty));
        assert_eq!(
            read(b"<html><body>Bad gateway</body></html>", None),
            Err(BodyProblem::Html)
        );
        assert_eq!(
            read(b"Service Unavailable", Some("text/html")),
            Err(BodyProblem::Html)
        );
        assert_eq!(
            read(br#"{"error":"invalid_grant","error_desc"#, None),
            Err(BodyProblem::Truncated)
        );
        assert_eq!(
            read(b"Service Unavailable", None),
            Err(BodyProblem::InvalidJson)
        );
        assert_eq!(
            read(&[0xff, 0xfe, 0x00], None),
            Err(BodyProblem::InvalidJson)
        );
        assert_eq!(
            read(br#"{"access_token":"x"}"#, None),
            Err(BodyProblem::NotAnError)
        );
        assert_eq!(read(b"[1,2]", None), Err(BodyProblem::NotAnError));
        assert_eq!(
            read(&vec![b' '; MAX_BODY_BYTES + 1], None),
            Err(BodyProblem::TooLarge)
        );
    }

    #[test]
    fn lenient_about_field_types() {
        let err = read(br#"{"error_codes":["AADSTS70008", 4294967296, -1, 54005], "claims": {"id_token": {}}}"#, None)
            .unwrap_or_default();
        assert_eq!(err.error_codes, vec![70008, 54005]);
        assert_eq!(err.claims.as_deref(), Some(r#"{"id_token":{}}"#));
        let single = read(br#"{"error":"x","error_codes":700082}"#, None).unwrap_or_default();
        assert_eq!(single.error_codes, vec![700082]);
        let bom = read(b"\xEF\xBB\xBF{\"error\":\"invalid_grant\"}", None).unwrap_or_default();
        assert_eq!(bom.error.as_deref(), Some("invalid_grant"));
    }
}
