//! The decoder against real-shaped inputs: every family of the issue's
//! "cases that must come out right", wrapper codes, flattened trailers, the
//! authorize redirect's error form, free text, and every non-OAuth failure.

use reconnect_core::decode::{
    AuthorizeError, Category, ReconnectFixes, TokenResponse, TransportFailure, Verdict, WhoActs,
    decode_authorize_error, decode_text, decode_token_response, decode_transport,
};

const TRAILER: &str = "\r\nTrace ID: 0d5bd2c4-d4a4-4a53-8d3e-1f2a3b4c5d00\r\nCorrelation ID: 7f1c2b3a-aaaa-bbbb-cccc-0123456789ab\r\nTimestamp: 2024-07-01 09:15:42Z";

/// A token-endpoint error body shaped the way Entra writes it.
fn body(error: &str, codes: &[u32], description: &str, extra: &str) -> String {
    let desc = format!("{description}{TRAILER}");
    let codes: Vec<String> = codes.iter().map(u32::to_string).collect();
    format!(
        r#"{{"error":{},"error_description":{},"error_codes":[{}],"timestamp":"2024-07-01 09:15:42Z","trace_id":"0d5bd2c4-d4a4-4a53-8d3e-1f2a3b4c5d00","correlation_id":"7f1c2b3a-aaaa-bbbb-cccc-0123456789ab","error_uri":"https://login.microsoftonline.com/error?code={}"{extra}}}"#,
        serde_json::Value::from(error),
        serde_json::Value::from(desc),
        codes.join(","),
        codes.first().map(String::as_str).unwrap_or("0"),
    )
}

fn token(status: u16, body: &str) -> Verdict {
    decode_token_response(
        &TokenResponse {
            status,
            retry_after: None,
            content_type: Some("application/json; charset=utf-8"),
            body: body.as_bytes(),
        },
        1_719_825_342,
    )
}

fn assert_reconnect(v: &Verdict) {
    assert_eq!(v.reconnect_fixes, ReconnectFixes::Yes, "{v:#?}");
    assert_eq!(v.who_acts, WhoActs::User, "{v:#?}");
    assert!(
        !v.transient && v.needs_reconnect() && !v.needs_admin_or_developer(),
        "{v:#?}"
    );
}

#[test]
fn idle_refresh_token_700082_reconnects_and_reports_the_idle_span() {
    let v = token(
        400,
        &body(
            "invalid_grant",
            &[700082],
            "AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2024-03-01T08:00:00.0000000Z and was inactive for 90.00:00:00.",
            r#","suberror":"bad_token""#,
        ),
    );
    assert_reconnect(&v);
    assert_eq!(
        (v.primary_code, v.known, v.category),
        (Some(700082), true, Category::Expired)
    );
    assert_eq!(v.details.idle_seconds, Some(90 * 86_400));
    assert!(v.user_message.contains("90 days"), "{}", v.user_message);
    assert!(
        v.admin_message.contains("2024-03-01 08:00 UTC"),
        "{}",
        v.admin_message
    );
    assert!(
        v.admin_message
            .contains("7f1c2b3a-aaaa-bbbb-cccc-0123456789ab"),
        "{}",
        v.admin_message
    );
    assert!(
        v.next_steps.iter().any(|s| s.contains("keep-alive")),
        "{:?}",
        v.next_steps
    );
    assert_eq!(
        v.doc_url.as_deref(),
        Some("https://login.microsoftonline.com/error?code=700082")
    );
    assert_eq!(
        v.trace_id.as_deref(),
        Some("0d5bd2c4-d4a4-4a53-8d3e-1f2a3b4c5d00")
    );
}

#[test]
fn expired_or_revoked_grant_70008_reconnects() {
    let v = token(
        400,
        &body(
            "invalid_grant",
            &[70008],
            "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource. The token was issued on 2024-01-01T00:00:00.0000000Z and was inactive for 30.00:00:00.",
            "",
        ),
    );
    assert_reconnect(&v);
    assert_eq!(v.category, Category::Expired);
    assert!(v.user_message.contains("30 days"), "{}", v.user_message);
}

#[test]
fn spa_lifetime_700084_reconnects_now_and_blames_the_registration() {
    let v = token(
        400,
        &body(
            "invalid_grant",
            &[700084],
            "AADSTS700084: The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page. The token was issued on 2024-06-30T09:00:00.0000000Z.",
            "",
        ),
    );
    assert_reconnect(&v);
    assert_eq!(v.details.spa_lifetime_seconds, Some(86_400));
    assert!(
        v.admin_message.contains("single-page app"),
        "{}",
        v.admin_message
    );
    assert!(
        v.next_steps
            .iter()
            .any(|s| s.starts_with("Developer:") && s.contains("single-page")),
        "{:?}",
        v.next_steps
    );
}

#[test]
fn sign_in_frequency_70043_reconnects_with_lifetime_in_seconds() {
    let v = token(
        400,
        &body(
            "invalid_grant",
            &[70043],
            "AADSTS70043: The refresh token has expired or is invalid due to sign-in frequency checks by conditional access. The token was issued on 2024-07-01T00:00:00.0000000Z and the maximum allowed lifetime for this request is 28800.",
            "",
        ),
    );
    assert_reconnect(&v);
    assert_eq!(v.details.lifetime_seconds, Some(28_800));
    assert!(
        v.admin_message.contains("28800 seconds (8 hours)"),
        "{}",
        v.admin_message
    );
}

#[test]
fn revoked_after_password_change_50173_reconnects_with_tokens_valid_from() {
    let v = token(
        400,
        &body(
            "invalid_grant",
            &[50173],
            "AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '2024-05-01T10:00:00.0000000Z' and the TokensValidFrom date (before which tokens are not valid) for this user is '2024-06-15T12:30:00.0000000Z'.",
            r#","suberror":"bad_token""#,
        ),
    );
    assert_reconnect(&v);
    assert_eq!(v.category, Category::Revoked);
    assert!(
        v.user_message.contains("2024-06-15 12:30 UTC"),
        "{}",
        v.user_message
    );
    assert!(
        v.admin_message
            .contains("TokensValidFrom is 2024-06-15 12:30 UTC"),
        "{}",
        v.admin_message
    );
}

#[test]
fn mfa_and_conditional_access_step_up_carry_the_claims_challenge() {
    let claims = r#"{\"access_token\":{\"capolids\":{\"essential\":true,\"values\":[\"9a1e2f3c-0000-4000-8000-000000000001\"]}}}"#;
    for (code, error, sub) in [
        (50076, "invalid_grant", "basic_action"),
        (50079, "interaction_required", "basic_action"),
        (50158, "interaction_required", "basic_action"),
    ] {
        let extra = format!(r#","suberror":"{sub}","claims":"{claims}""#);
        let v = token(
            400,
            &body(
                error,
                &[code],
                &format!(
                    "AADSTS{code}: Due to a configuration change made by your administrator, you must complete an extra check."
                ),
                &extra,
            ),
        );
        assert_reconnect(&v);
        assert_eq!(v.category, Category::StepUp, "{code}");
        assert!(v.has_claims_challenge());
        assert!(
            v.claims_challenge
                .as_deref()
                .is_some_and(|c| c.contains("capolids"))
        );
        assert!(
            v.next_steps.iter().any(|s| s.contains("claims challenge")),
            "{:?}",
            v.next_steps
        );
    }
}

#[test]
fn conditional_access_block_53003_needs_an_admin_not_a_reconnect() {
    let v = token(
        400,
        &body(
            "invalid_grant",
            &[53003],
            "AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
            r#","suberror":"message_only""#,
        ),
    );
    assert_eq!(
        (v.who_acts, v.reconnect_fixes, v.transient),
        (WhoActs::Admin, ReconnectFixes::No, false)
    );
    assert!(!v.needs_reconnect() && v.needs_admin_or_developer());
    assert!(
        v.admin_message.contains("Sign-in logs"),
        "{}",
        v.admin_message
    );
}

#[test]
fn message_only_turns_a_user_fixable_code_into_an_admin_case() {
    let v = token(
        400,
        &body(
            "invalid_grant",
            &[50076],
            "AADSTS50076: MFA required.",
            r#","suberror":"message_only""#,
        ),
    );
    assert_eq!(
        (v.who_acts, v.reconnect_fixes),
        (WhoActs::Admin, ReconnectFixes::No)
    );
}

#[test]
fn disabled_account_50057_needs_an_admin() {
    let v = token(
        400,
        &body(
            "invalid_grant",
            &[50057],
            "AADSTS50057: The user account is disabled.",
            "",
        ),
    );
    assert_eq!(
        (v.who_acts, v.reconnect_fixes, v.category),
        (WhoActs::Admin, ReconnectFixes::No, Category::Account)
    );
    assert!(!v.needs_reconnect());
}

#[test]
fn missing_consent_65001_asks_for_consent() {
    let v = token(
        400,
        &body(
            "invalid_grant",
            &[65001],
            "AADSTS65001: The user or administrator has not consented to use the application with ID 'x' named 'Reconnect'.",
            r#","suberror":"consent_required""#,
        ),
    );
    assert_eq!(v.category, Category::Consent);
    assert!(v.needs_reconnect());
    assert!(
        v.next_steps.iter().any(|s| s.contains("consent")),
        "{:?}",
        v.next_steps
    );
}

#[test]
fn invalid_grant_70000_retries_once_then_reconnects() {
    let v = token(
        400,
        &body(
            "invalid_grant",
            &[70000],
            "AADSTS70000: Provided grant is invalid or malformed.",
            "",
        ),
    );
    assert!(v.retry_once_first());
    assert_eq!(v.reconnect_fixes, ReconnectFixes::Maybe);
    assert!(!v.transient);
    assert!(v.next_steps[0].contains("Retry"), "{:?}", v.next_steps);
    assert!(v.next_steps[1].contains("reconnect"), "{:?}", v.next_steps);
}

#[test]
fn app_registration_codes_go_to_the_developer() {
    for (code, error) in [
        (7000218, "invalid_client"),
        (9002326, "invalid_request"),
        (50011, "invalid_request"),
    ] {
        let v = token(
            400,
            &body(
                error,
                &[code],
                &format!("AADSTS{code}: the app is registered wrongly."),
                "",
            ),
        );
        assert_eq!(
            (v.who_acts, v.reconnect_fixes),
            (WhoActs::Developer, ReconnectFixes::No),
            "{code}"
        );
        assert_eq!(v.category, Category::AppRegistration, "{code}");
        assert!(!v.needs_reconnect() && v.needs_admin_or_developer());
    }
}

#[test]
fn wrapper_code_first_picks_the_specific_code() {
    let v = token(
        400,
        &body(
            "invalid_grant",
            &[70002, 54005],
            "AADSTS54005: OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
            "",
        ),
    );
    assert_eq!(v.primary_code, Some(54005));
    assert_eq!(v.codes, vec![70002, 54005]);
    assert_eq!(
        v.doc_url.as_deref(),
        Some("https://login.microsoftonline.com/error?code=54005")
    );
}

#[test]
fn unknown_code_is_inferred_from_error_and_suberror_and_keeps_server_text() {
    let v = token(
        400,
        &body(
            "invalid_grant",
            &[987654],
            "AADSTS987654: A brand new reason nobody documented yet.",
            r#","suberror":"token_expired""#,
        ),
    );
    assert!(!v.known);
    assert_eq!(v.primary_code, Some(987654));
    assert_eq!(
        (v.category, v.reconnect_fixes),
        (Category::Expired, ReconnectFixes::Yes)
    );
    assert!(
        v.admin_message
            .contains("A brand new reason nobody documented yet."),
        "{}",
        v.admin_message
    );
    assert_eq!(
        v.doc_url.as_deref(),
        Some("https://login.microsoftonline.com/error?code=987654")
    );

    let v = token(
        400,
        &body(
            "interaction_required",
            &[987655],
            "AADSTS987655: Something interactive.",
            "",
        ),
    );
    assert_eq!(
        (v.category, v.who_acts, v.reconnect_fixes),
        (Category::Interaction, WhoActs::User, ReconnectFixes::Yes)
    );
    let v = token(
        401,
        &body(
            "invalid_client",
            &[987656],
            "AADSTS987656: Client problem.",
            "",
        ),
    );
    assert_eq!(v.who_acts, WhoActs::Developer);
}

#[test]
fn expired_password_points_at_the_change_url() {
    let v = token(
        400,
        &body(
            "invalid_grant",
            &[50055],
            "AADSTS50055: The password is expired.",
            r#","suberror":"user_password_expired","password_change_url":"https://portal.microsoftonline.com/ChangePassword.aspx""#,
        ),
    );
    assert_eq!(v.who_acts, WhoActs::User);
    assert!(
        v.next_steps[0].contains("https://portal.microsoftonline.com/ChangePassword.aspx"),
        "{:?}",
        v.next_steps
    );
    assert_eq!(
        v.password_change_url.as_deref(),
        Some("https://portal.microsoftonline.com/ChangePassword.aspx")
    );
}

#[test]
fn flattened_trailers_give_the_same_verdict() {
    let raw = body(
        "invalid_grant",
        &[700082],
        "AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2024-03-01T08:00:00.0000000Z and was inactive for 90.00:00:00.",
        "",
    );
    let expected = token(400, &raw);
    for flat in [
        raw.replace("\\r\\n", "\\n"),
        raw.replace("\\r\\n", " "),
        raw.replace("\\r\\n", "   "),
    ] {
        let v = token(400, &flat);
        assert_eq!(
            (&v.trace_id, &v.correlation_id, &v.timestamp),
            (
                &expected.trace_id,
                &expected.correlation_id,
                &expected.timestamp
            )
        );
        assert_eq!(v.server_message, expected.server_message);
        assert_eq!(v.details, expected.details);
    }
    // A bare description with flattened trailers and no JSON fields around it.
    let text = "AADSTS700082: The refresh token has expired due to inactivity. Trace ID: abc Correlation ID: def Timestamp: 2024-07-01 09:15:42Z";
    let v = decode_text(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (
            v.trace_id.as_deref(),
            v.correlation_id.as_deref(),
            v.timestamp.as_deref()
        ),
        (Some("abc"), Some("def"), Some("2024-07-01 09:15:42Z"))
    );
}

#[test]
fn every_non_oauth_answer_is_transient_and_never_asks_to_reconnect() {
    let cases: [(u16, &str, Option<&str>, &[u8]); 9] = [
        (
            503,
            "text/html",
            None,
            b"<html><head><title>503 Service Unavailable</title></head></html>",
        ),
        (502, "text/plain", None, b""),
        (
            500,
            "application/json",
            None,
            br#"{"error":"server_error","error_descr"#,
        ),
        (
            400,
            "text/html",
            None,
            b"<!DOCTYPE html><p>Access denied by proxy</p>",
        ),
        (200, "application/json", None, br#"{"token_type":"Bearer"}"#),
        (504, "application/json", None, b"not json at all"),
        (429, "application/json", Some("30"), b""),
        (
            429,
            "text/plain",
            Some("Mon, 01 Jul 2024 09:17:22 GMT"),
            b"Too Many Requests",
        ),
        (413, "application/octet-stream", None, &[0u8; 70_000]),
    ];
    for (status, content_type, retry_after, raw) in cases {
        let v = decode_token_response(
            &TokenResponse {
                status,
                retry_after,
                content_type: Some(content_type),
                body: raw,
            },
            1_719_825_342,
        );
        assert!(
            v.transient && !v.needs_reconnect(),
            "{status} {content_type}: {v:#?}"
        );
        assert_eq!(v.who_acts, WhoActs::Nobody);
        assert!(!v.user_message.is_empty() && !v.next_steps.is_empty());
        if status == 429 {
            assert_eq!(v.category, Category::Throttled);
            assert_eq!(
                v.retry_after_seconds,
                Some(if retry_after == Some("30") { 30 } else { 100 })
            );
        }
    }
}

#[test]
fn a_5xx_or_429_oauth_body_stays_transient() {
    let v = token(
        503,
        &body(
            "temporarily_unavailable",
            &[90033],
            "AADSTS90033: A transient error has occurred. Please try again.",
            "",
        ),
    );
    assert!(v.transient && !v.needs_reconnect());
    let v = token(
        500,
        &body(
            "server_error",
            &[999999],
            "AADSTS999999: Unknown failure.",
            "",
        ),
    );
    assert!(v.transient && !v.needs_reconnect());
    // A grant-killing code inside a server failure is still a server failure:
    // wait and retry, but keep the code for the admin.
    let v = token(
        500,
        &body(
            "invalid_grant",
            &[700082],
            "AADSTS700082: The refresh token has expired due to inactivity.",
            "",
        ),
    );
    assert!(v.transient && !v.needs_reconnect(), "{v:?}");
    assert_eq!(v.who_acts, WhoActs::Nobody);
    assert_eq!(v.primary_code, Some(700082));
    assert!(v.admin_message.contains("HTTP 500"), "{}", v.admin_message);
    let v = token(
        429,
        &body("invalid_grant", &[70000], "AADSTS70000: throttled.", ""),
    );
    assert_eq!(v.category, Category::Throttled);
    assert!(v.transient && !v.needs_reconnect());
}

#[test]
fn transport_failures_are_transient() {
    for failure in [
        TransportFailure::Dns,
        TransportFailure::Connect,
        TransportFailure::Tls,
        TransportFailure::Timeout,
        TransportFailure::BodyTooLarge,
        TransportFailure::Truncated,
        TransportFailure::Other,
    ] {
        let v = decode_transport(
            failure,
            Some(
                "error sending request for url (https://login.microsoftonline.com/common/oauth2/v2.0/token)",
            ),
        );
        assert!(
            v.transient && !v.needs_reconnect() && !v.needs_admin_or_developer(),
            "{failure:?}"
        );
        assert!(v.admin_message.contains("Client said"), "{failure:?}");
        assert_eq!(v.primary_code, None);
    }
    assert_eq!(
        decode_transport(TransportFailure::Dns, None).category,
        Category::Network
    );
}

#[test]
fn authorize_redirect_error_form() {
    let cancelled = decode_authorize_error(&AuthorizeError {
        error: "access_denied",
        error_description: Some("AADSTS65004: User declined to consent to access the app."),
        error_subcode: Some("cancel"),
        error_uri: None,
    });
    assert_eq!(cancelled.primary_code, Some(65004));
    assert_eq!(cancelled.who_acts, WhoActs::User);
    let bare_cancel = decode_authorize_error(&AuthorizeError {
        error: "access_denied",
        error_description: None,
        error_subcode: Some("cancel"),
        error_uri: None,
    });
    assert_eq!(
        (bare_cancel.category, bare_cancel.reconnect_fixes),
        (Category::Cancelled, ReconnectFixes::Yes)
    );
    let bad_redirect = decode_text("http://localhost:53100/?error=invalid_request&error_description=AADSTS50011%3A+The+redirect+URI+%27http%3A%2F%2Flocalhost%3A53100%27+specified+in+the+request+does+not+match.&state=s1").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (bad_redirect.primary_code, bad_redirect.who_acts),
        (Some(50011), WhoActs::Developer)
    );
    assert!(
        bad_redirect
            .admin_message
            .contains("http://localhost:53100"),
        "{}",
        bad_redirect.admin_message
    );
}

#[test]
fn free_text_forms() {
    let ok = |t: &str| decode_text(t).unwrap_or_else(|e| panic!("{t}: {e}"));
    for t in ["AADSTS700082", "700082", "  aadsts700082\n"] {
        let v = ok(t);
        assert_eq!(
            (v.primary_code, v.known, v.category),
            (Some(700082), true, Category::Expired),
            "{t}"
        );
    }
    let v =
        ok("invalid_grant: AADSTS50173: The provided grant has expired due to it being revoked.");
    assert_eq!(
        (v.error.as_deref(), v.primary_code),
        (Some("invalid_grant"), Some(50173))
    );
    let v = ok(
        r#"{"error":"invalid_grant","error_description":"AADSTS53003: Blocked.","error_codes":[53003],"suberror":"message_only"}"#,
    );
    assert_eq!(v.who_acts, WhoActs::Admin);
    let v = ok("something unrelated happened");
    assert!(!v.known && v.primary_code.is_none());
    assert!(v.admin_message.contains("something unrelated happened"));
    let v = ok("<html>proxy</html>");
    assert!(v.transient && !v.needs_reconnect());
    let v = ok(r#"{"error":"invalid_grant","error_description":"AADSTS70008: cut"#);
    assert_eq!(v.primary_code, Some(70008));
    let v = ok(
        "2024-07-01T09:15:42Z WARN refresh failed: {\"error\":\"invalid_grant\",\"error_codes\":[50173],\"suberror\":\"bad_token\"} (attempt 2)",
    );
    assert_eq!(
        (v.primary_code, v.suberror.as_deref()),
        (Some(50173), Some("bad_token"))
    );
    let v = ok(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS700084: SPA token expired.\"}",
    );
    assert_eq!(v.primary_code, Some(700084));
    assert!(decode_text(" \n\t ").is_err());
}

#[test]
fn json_has_exactly_the_contract_keys() {
    let v = token(
        400,
        &body("invalid_grant", &[700082], "AADSTS700082: idle.", ""),
    );
    let json = serde_json::to_value(&v).unwrap_or_default();
    let mut keys: Vec<&str> = json
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    let mut expected = vec![
        "primary_code",
        "codes",
        "error",
        "suberror",
        "title",
        "category",
        "who_acts",
        "reconnect_fixes",
        "transient",
        "retry_after_seconds",
        "user_message",
        "admin_message",
        "next_steps",
        "trace_id",
        "correlation_id",
        "timestamp",
        "claims_challenge",
        "doc_url",
        "known",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(json["who_acts"], "user");
    assert_eq!(json["reconnect_fixes"], "yes");
    assert_eq!(json["category"], "expired");
}

#[test]
fn every_table_code_decodes_back_from_a_server_style_body() {
    for info in reconnect_core::decode::table::rows() {
        let raw = body("invalid_grant", &[info.code], &info.description(), "");
        let v = token(400, &raw);
        assert_eq!(
            (v.primary_code, v.known),
            (Some(info.code), true),
            "{}",
            info.code
        );
        assert_eq!(v.title, info.name);
        assert_eq!(
            (v.category, v.who_acts),
            (info.category, info.who_acts),
            "{}",
            info.code
        );
        assert_eq!(
            (v.reconnect_fixes, v.transient),
            (info.reconnect_fixes, info.transient),
            "{}",
            info.code
        );
        assert!(
            v.user_message.starts_with(info.user_message),
            "{}",
            info.code
        );
        assert!(!v.next_steps.is_empty(), "{}", info.code);
        assert_eq!(
            v.needs_reconnect(),
            !info.transient && info.reconnect_fixes != ReconnectFixes::No
        );
    }
}
