//! Property tests: the decoder never panics, whatever bytes or text it gets,
//! and anything that is not an OAuth error never asks for a reconnect.

use proptest::prelude::*;
use reconnect_core::decode::{
    AuthorizeError, TokenResponse, decode_authorize_error, decode_redirect_query, decode_text,
    decode_token_response, description,
};

/// Fragments that steer random input towards the parser's interesting paths.
fn shaped_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("AADSTS".to_owned()),
        Just("{\"error\":".to_owned()),
        Just("\"error_codes\":[".to_owned()),
        Just("Trace ID:".to_owned()),
        Just("Correlation ID:".to_owned()),
        Just("Timestamp:".to_owned()),
        Just("issued on ".to_owned()),
        Just("inactive for ".to_owned()),
        Just("lifetime for this request is ".to_owned()),
        Just("limited lifetime of ".to_owned()),
        Just("TokensValidFrom".to_owned()),
        Just("error=".to_owned()),
        Just("%".to_owned()),
        Just("\\r\\n".to_owned()),
        "[0-9]{1,12}",
        "[0-9]{1,3}\\.[0-9]{2}:[0-9]{2}:[0-9]{2}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,9})?Z?",
        "\\PC{0,12}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    #[test]
    fn token_responses_never_panic(status in 0u16..1000, body in prop::collection::vec(any::<u8>(), 0..2048),
                                   retry in proptest::option::of("\\PC{0,40}"), ctype in proptest::option::of("\\PC{0,30}"),
                                   now in any::<i64>()) {
        let v = decode_token_response(&TokenResponse { status, retry_after: retry.as_deref(), content_type: ctype.as_deref(), body: &body }, now);
        prop_assert!(!v.title.is_empty() && !v.user_message.is_empty());
    }

    #[test]
    fn text_never_panics(text in "\\PC{0,400}") {
        let _ = decode_text(&text);
        let _ = description::parse(&text);
        let _ = decode_redirect_query(&text);
    }

    #[test]
    fn shaped_text_never_panics(text in shaped_text()) {
        if let Ok(v) = decode_text(&text) {
            prop_assert!(!v.admin_message.is_empty());
        }
        let body = format!("{{\"error\":\"invalid_grant\",\"error_description\":{}}}", serde_json::Value::from(text.clone()));
        let v = decode_token_response(&TokenResponse { status: 400, retry_after: Some(&text), content_type: None, body: body.as_bytes() }, 0);
        prop_assert_eq!(v.error.as_deref(), Some("invalid_grant"));
    }

    #[test]
    fn authorize_forms_never_panic(error in "\\PC{0,30}", desc in proptest::option::of(shaped_text()), sub in proptest::option::of("\\PC{0,10}")) {
        let _ = decode_authorize_error(&AuthorizeError { error: &error, error_description: desc.as_deref(), error_subcode: sub.as_deref(), error_uri: None });
    }

    #[test]
    fn non_json_bodies_never_ask_for_reconnect(status in 100u16..600, body in prop::collection::vec(any::<u8>(), 0..512)) {
        // Anything that does not start like a JSON object cannot be an OAuth error.
        prop_assume!(body.trim_ascii().first() != Some(&b'{'));
        let v = decode_token_response(&TokenResponse { status, retry_after: None, content_type: None, body: &body }, 0);
        prop_assert!(v.transient);
        prop_assert!(!v.needs_reconnect());
    }
}
