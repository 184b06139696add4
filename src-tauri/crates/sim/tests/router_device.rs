//! In-process tests of the device authorization grant: issuance, every poll
//! answer on the virtual clock (pending, slow_down with a growing interval,
//! declined, expired, unknown, blocked by policy), approval to tokens that
//! behave like a browser sign-in's, redeem-once, auto-approve, faults, the
//! log, discovery and the `/devicelogin` page.

mod common;

use axum::http::{StatusCode, header};
use common::*;
use reconnect_sim::DeviceStatus;
use reconnect_sim::device::GRANT_TYPE;

const DEVICECODE: &str = "/organizations/oauth2/v2.0/devicecode";
const TOKEN: &str = "/organizations/oauth2/v2.0/token";

/// Asks for a device code; returns the answer's JSON.
async fn issue(router: &axum::Router) -> serde_json::Value {
    let answer = post_form(
        router,
        DEVICECODE,
        &[("client_id", CLIENT), ("scope", SCOPE)],
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json()
}

fn field(json: &serde_json::Value, name: &str) -> String {
    json[name].as_str().expect(name).to_owned()
}

/// Polls the token endpoint with `device_code`.
async fn poll(router: &axum::Router, device_code: &str) -> Answer {
    post_form(
        router,
        TOKEN,
        &[
            ("grant_type", GRANT_TYPE),
            ("client_id", CLIENT),
            ("device_code", device_code),
            ("client_info", "1"),
        ],
    )
    .await
}

async fn approve(router: &axum::Router, user_code: &str, upn: &str) -> Answer {
    post_json(
        router,
        &format!("/_sim/devicecodes/{user_code}/approve"),
        serde_json::json!({ "upn": upn }),
    )
    .await
}

/// The control API's view of the code `user_code`.
async fn listed(router: &axum::Router, user_code: &str) -> serde_json::Value {
    let list = get(router, "/_sim/devicecodes").await.json();
    list["device_codes"]
        .as_array()
        .expect("device_codes")
        .iter()
        .find(|c| c["user_code"] == user_code)
        .cloned()
        .expect("listed")
}

#[tokio::test]
async fn a_device_code_is_issued_like_entra_and_logged() {
    let (router, state) = sim();
    let answer = post_form(
        &router,
        DEVICECODE,
        &[("client_id", CLIENT), ("scope", SCOPE)],
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
    let body = answer.json();
    let user_code = field(&body, "user_code");
    assert_eq!(user_code.len(), 9);
    assert!(
        user_code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    );
    assert!(field(&body, "device_code").len() > 80);
    assert_eq!(
        body["verification_uri"],
        "http://127.0.0.1:4000/devicelogin"
    );
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["interval"], 5);
    let message = field(&body, "message");
    assert!(message.contains("http://127.0.0.1:4000/devicelogin") && message.contains(&user_code));

    let code = listed(&router, &user_code).await;
    assert_eq!(code["status"], "pending");
    assert_eq!(code["tenant"], "organizations");
    assert_eq!(code["client_id"], CLIENT);
    assert_eq!(code["scope"], SCOPE);
    assert_eq!(code["polls"], 0);
    let expires_at = code["expires_at"].as_i64().expect("expires_at");
    assert!((state.now() + 900 - expires_at).abs() <= 1, "{code}");
    assert!(
        code.get("device_code").is_none(),
        "the list keeps the secret out"
    );

    let entry = state.log().pop().expect("logged");
    assert_eq!(entry.endpoint, "devicecode");
    assert_eq!(entry.status, 200);
    assert_eq!(entry.user_code.as_deref(), Some(user_code.as_str()));
    assert_eq!(entry.interval, Some(5));
    assert_eq!(entry.client_id.as_deref(), Some(CLIENT));
}

#[tokio::test]
async fn a_request_without_client_or_scope_gets_an_entra_error() {
    let (router, state) = sim();
    let answer = post_form(&router, DEVICECODE, &[("scope", SCOPE)]).await;
    let body = entra_error(&answer, 400, "invalid_request", 900144);
    assert_eq!(
        body["correlation_id"],
        "0f0f0f0f-1111-2222-3333-444444444444"
    );
    assert!(field(&body, "error_description").contains("'client_id'"));
    let answer = post_form(&router, DEVICECODE, &[("client_id", CLIENT)]).await;
    entra_error(&answer, 400, "invalid_request", 900144);
    let entry = state.log().pop().expect("logged");
    assert_eq!(
        (entry.endpoint.as_str(), entry.code),
        ("devicecode", Some(900144))
    );
    assert!(state.device_codes().is_empty());
}

#[tokio::test]
async fn polls_answer_pending_until_approved_then_slow_down_when_too_soon() {
    let (router, state) = sim();
    let issued = issue(&router).await;
    let (device_code, user_code) = (field(&issued, "device_code"), field(&issued, "user_code"));
    state.clear_log();

    entra_error(
        &poll(&router, &device_code).await,
        400,
        "authorization_pending",
        70016,
    );
    // At once again: too soon for 5 s, so slow_down and the interval becomes 10.
    entra_error(&poll(&router, &device_code).await, 400, "slow_down", 70016);
    assert_eq!(listed(&router, &user_code).await["interval"], 10);
    // 6 s later is still too soon for 10 s: 15.
    state.advance_clock(6).expect("clock");
    entra_error(&poll(&router, &device_code).await, 400, "slow_down", 70016);
    assert_eq!(listed(&router, &user_code).await["interval"], 15);
    // Waiting the whole interval is fine again.
    state.advance_clock(15).expect("clock");
    entra_error(
        &poll(&router, &device_code).await,
        400,
        "authorization_pending",
        70016,
    );
    let code = listed(&router, &user_code).await;
    assert_eq!(
        (code["interval"].as_u64(), code["polls"].as_u64()),
        (Some(15), Some(4))
    );

    let polls = state.log();
    assert_eq!(polls.len(), 4, "one entry per poll");
    let seen: Vec<(Option<&str>, Option<u32>)> = polls
        .iter()
        .map(|e| (e.error.as_deref(), e.interval))
        .collect();
    assert_eq!(
        seen,
        [
            (Some("authorization_pending"), Some(5)),
            (Some("slow_down"), Some(10)),
            (Some("slow_down"), Some(15)),
            (Some("authorization_pending"), Some(15)),
        ]
    );
    for entry in &polls {
        assert_eq!(entry.endpoint, "token");
        assert_eq!(entry.grant_type.as_deref(), Some(GRANT_TYPE));
        assert_eq!(entry.user_code.as_deref(), Some(user_code.as_str()));
        assert_eq!(entry.status, 400);
    }
    // The virtual clock moved 6 s, then 15 s, between the polls.
    assert!(polls[2].unix - polls[1].unix >= 6 && polls[3].unix - polls[2].unix >= 15);
}

#[tokio::test]
async fn an_approved_code_yields_a_browser_like_grant_once() {
    let (router, state) = sim();
    let issued = issue(&router).await;
    let (device_code, user_code) = (field(&issued, "device_code"), field(&issued, "user_code"));
    entra_error(
        &poll(&router, &device_code).await,
        400,
        "authorization_pending",
        70016,
    );
    let approved = approve(&router, &user_code.to_lowercase(), ALICE).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.json()["status"], "approved");
    assert_eq!(approved.json()["upn"], ALICE);

    state.advance_clock(5).expect("clock");
    let answer = poll(&router, &device_code).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let tokens = answer.json();
    assert!(tokens["access_token"].is_string() && tokens["client_info"].is_string());
    assert_eq!(
        claims(&field(&tokens, "id_token"))["preferred_username"],
        ALICE
    );
    let entry = state.log().pop().expect("logged");
    assert_eq!((entry.status, entry.user.as_deref()), (200, Some(ALICE)));
    assert_eq!(entry.error, None);
    assert_eq!(listed(&router, &user_code).await["status"], "redeemed");

    // Redeemable once.
    state.advance_clock(5).expect("clock");
    entra_error(
        &poll(&router, &device_code).await,
        400,
        "invalid_grant",
        70000,
    );

    // The refresh token lives the life of any grant: refresh, then MFA and revoke break it.
    let refreshed = refresh(&router, &rt(&tokens)).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.text);
    post_json(
        &router,
        &format!("/_sim/users/{ALICE}/state"),
        serde_json::json!({"mfa_required": true}),
    )
    .await;
    entra_error(
        &refresh(&router, &rt(&tokens)).await,
        400,
        "invalid_grant",
        50076,
    );
    post_json(
        &router,
        &format!("/_sim/users/{ALICE}/state"),
        serde_json::json!({"mfa_required": false}),
    )
    .await;
    state.revoke(ALICE).expect("revoke");
    entra_error(
        &refresh(&router, &rt(&tokens)).await,
        400,
        "invalid_grant",
        50173,
    );
}

#[tokio::test]
async fn declined_expired_unknown_and_foreign_codes_get_their_errors() {
    let (router, state) = sim();
    state
        .register_app(reconnect_sim::AppRegistration::desktop("other-app"))
        .expect("register");
    let declined = issue(&router).await;
    let answer = post_json(
        &router,
        &format!(
            "/_sim/devicecodes/{}/decline",
            field(&declined, "user_code")
        ),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(answer.json()["status"], "declined");
    entra_error(
        &poll(&router, &field(&declined, "device_code")).await,
        400,
        "authorization_declined",
        65004,
    );
    let again = approve(&router, &field(&declined, "user_code"), ALICE).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);

    let expiring = issue(&router).await;
    state.advance_clock(900).expect("clock");
    entra_error(
        &poll(&router, &field(&expiring, "device_code")).await,
        400,
        "expired_token",
        70019,
    );
    assert_eq!(
        listed(&router, &field(&expiring, "user_code")).await["status"],
        "expired"
    );
    let late = approve(&router, &field(&expiring, "user_code"), ALICE).await;
    assert_eq!(late.status, StatusCode::CONFLICT);

    entra_error(
        &poll(&router, "no-such-code").await,
        400,
        "bad_verification_code",
        70018,
    );
    let missing = post_form(
        &router,
        TOKEN,
        &[("grant_type", GRANT_TYPE), ("client_id", CLIENT)],
    )
    .await;
    entra_error(&missing, 400, "invalid_request", 900144);

    let fresh = issue(&router).await;
    let foreign = post_form(
        &router,
        TOKEN,
        &[
            ("grant_type", GRANT_TYPE),
            ("client_id", "other-app"),
            ("device_code", &field(&fresh, "device_code")),
        ],
    )
    .await;
    entra_error(&foreign, 400, "invalid_grant", 70000);

    assert_eq!(
        approve(&router, "NOSUCHCODE", ALICE).await.status,
        StatusCode::NOT_FOUND
    );
    let nobody = approve(&router, &field(&fresh, "user_code"), "nobody@contoso.test").await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    let decline_unknown = post_json(
        &router,
        "/_sim/devicecodes/NOSUCHCODE/decline",
        serde_json::json!({}),
    )
    .await;
    assert_eq!(decline_unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_tenant_policy_blocks_the_flow_with_53003() {
    let (router, state) = sim();
    assert_eq!(
        get(&router, "/_sim/tenants/organizations/policy")
            .await
            .json()["block_device_code"],
        false
    );
    let set = post_json(
        &router,
        "/_sim/tenants/organizations/policy",
        serde_json::json!({"block_device_code": true}),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let read = get(
        &router,
        &format!("/_sim/tenants/{}/policy", state.tenant_of(ALICE)),
    )
    .await;
    assert_eq!(read.json(), serde_json::json!({"block_device_code": true}));
    assert_eq!(
        get(&router, "/_sim/tenants/fabrikam.test/policy")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let issued = issue(&router).await;
    let refused = approve(&router, &field(&issued, "user_code"), ALICE).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(refused.text.contains("53003"));
    assert_eq!(
        listed(&router, &field(&issued, "user_code")).await["status"],
        "blocked"
    );
    let body = entra_error(
        &poll(&router, &field(&issued, "device_code")).await,
        400,
        "invalid_grant",
        53003,
    );
    assert_eq!(body["suberror"], "message_only");

    // Approved before the policy came in: the policy holds at redemption.
    state
        .set_tenant_policy(
            "common",
            reconnect_sim::TenantPolicy {
                block_device_code: false,
            },
        )
        .expect("allow");
    let earlier = issue(&router).await;
    approve(&router, &field(&earlier, "user_code"), ALICE).await;
    state
        .set_tenant_policy(
            "common",
            reconnect_sim::TenantPolicy {
                block_device_code: true,
            },
        )
        .expect("block");
    entra_error(
        &poll(&router, &field(&earlier, "device_code")).await,
        400,
        "invalid_grant",
        53003,
    );
    assert_eq!(
        state.device_codes().last().map(|c| c.status),
        Some(DeviceStatus::Blocked)
    );
}

#[tokio::test]
async fn auto_approve_makes_the_first_poll_succeed() {
    let (router, state) = sim();
    state.set_auto_approve(Some(BOB));
    let issued = issue(&router).await;
    assert_eq!(
        listed(&router, &field(&issued, "user_code")).await["status"],
        "approved"
    );
    let answer = poll(&router, &field(&issued, "device_code")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        claims(&field(&answer.json(), "id_token"))["preferred_username"],
        BOB
    );
    assert_eq!(state.log().pop().and_then(|e| e.mfa), Some(true));
}

#[tokio::test]
async fn outages_and_code_faults_apply_to_polls() {
    let (router, state) = sim();
    state.set_auto_approve(Some(ALICE));
    let issued = issue(&router).await;
    let device_code = field(&issued, "device_code");
    post_json(
        &router,
        "/_sim/faults",
        serde_json::json!({"outage": "503"}),
    )
    .await;
    entra_error(
        &poll(&router, &device_code).await,
        503,
        "temporarily_unavailable",
        90033,
    );
    post_json(
        &router,
        "/_sim/faults",
        serde_json::json!({"code": 50057, "upn": ALICE}),
    )
    .await;
    entra_error(
        &poll(&router, &device_code).await,
        400,
        "invalid_grant",
        50057,
    );
    let code = listed(&router, &field(&issued, "user_code")).await;
    assert_eq!(
        (code["status"].as_str(), code["polls"].as_u64()),
        (Some("approved"), Some(0))
    );
    assert_eq!(poll(&router, &device_code).await.status, StatusCode::OK);
    let faulted = &state.log()[1];
    assert_eq!(faulted.fault.as_deref(), Some("503"));
}

#[tokio::test]
async fn the_user_state_is_checked_at_redemption() {
    let (router, state) = sim();
    let issued = issue(&router).await;
    approve(&router, &field(&issued, "user_code"), ALICE).await;
    post_json(
        &router,
        &format!("/_sim/users/{ALICE}/state"),
        serde_json::json!({"disabled": true}),
    )
    .await;
    entra_error(
        &poll(&router, &field(&issued, "device_code")).await,
        400,
        "invalid_grant",
        50057,
    );
    assert!(state.user(ALICE).is_some_and(|u| u.disabled));
}

#[tokio::test]
async fn discovery_advertises_the_device_authorization_endpoint() {
    let (router, _) = sim();
    let doc = get(
        &router,
        "/organizations/v2.0/.well-known/openid-configuration",
    )
    .await
    .json();
    assert_eq!(
        doc["device_authorization_endpoint"],
        "http://127.0.0.1:4000/organizations/oauth2/v2.0/devicecode"
    );
    let grants = doc["grant_types_supported"]
        .as_array()
        .expect("grant types");
    assert!(grants.iter().any(|g| g == GRANT_TYPE));
}

#[tokio::test]
async fn the_devicelogin_page_approves_declines_and_escapes() {
    let (router, _) = sim();
    let page = get(
        &router,
        "/devicelogin?code=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("data-step=\"device\""));
    assert!(!page.text.contains("<script>"), "{}", page.text);
    assert!(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.text.contains(&format!("<option value=\"{ALICE}\">")));

    let unknown = post_form(
        &router,
        "/devicelogin",
        &[
            ("user_code", "<b>X</b>"),
            ("upn", "<i>@x"),
            ("action", "approve"),
        ],
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.text.contains("id=\"error\""));
    assert!(
        !unknown.text.contains("<b>X</b>") && !unknown.text.contains("<i>@x"),
        "{}",
        unknown.text
    );

    let issued = issue(&router).await;
    let user_code = field(&issued, "user_code");
    let typed = format!("{}-{}", &user_code[..4], user_code[4..].to_lowercase());
    let done = post_form(
        &router,
        "/devicelogin",
        &[("user_code", &typed), ("upn", BOB), ("action", "approve")],
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert!(done.text.contains("data-status=\"approved\"") && done.text.contains(BOB));
    let answer = poll(&router, &field(&issued, "device_code")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);

    let other = issue(&router).await;
    let declined = post_form(
        &router,
        "/devicelogin",
        &[
            ("user_code", &field(&other, "user_code")),
            ("upn", BOB),
            ("action", "decline"),
        ],
    )
    .await;
    assert!(
        declined.text.contains("data-status=\"declined\""),
        "{}",
        declined.text
    );
    entra_error(
        &poll(&router, &field(&other, "device_code")).await,
        400,
        "authorization_declined",
        65004,
    );
}
