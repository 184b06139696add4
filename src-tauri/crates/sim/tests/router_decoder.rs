//! What the simulator sends is what Reconnect decodes: every simulated
//! failure, fed to the decoder in `reconnect-core`, gives back its code, who
//! must act, and the facts written into the description.

mod common;

use axum::http::StatusCode;

use common::*;
use reconnect_core::decode::{
    TokenResponse, Verdict, WhoActs, decode_redirect_query, decode_token_response,
};

fn decoded(answer: &Answer, now: i64) -> Verdict {
    let retry_after = answer
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok());
    let content_type = answer
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    decode_token_response(
        &TokenResponse {
            status: answer.status.as_u16(),
            retry_after,
            content_type,
            body: answer.text.as_bytes(),
        },
        now,
    )
}

async fn state_of(router: &axum::Router, upn: &str, patch: serde_json::Value) {
    let answer = post_json(router, &format!("/_sim/users/{upn}/state"), patch).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
}

#[tokio::test]
async fn idle_expiry_decodes_with_issue_date_and_idle_span() {
    let (router, state) = sim();
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    let issued = state.now();
    state.advance_clock(91 * DAY).expect("clock");
    let v = decoded(&refresh(&router, &rt(&tokens)).await, state.now());
    assert_eq!(v.primary_code, Some(700082));
    assert!(v.needs_reconnect());
    assert_eq!(v.who_acts, WhoActs::User);
    assert_eq!(v.details.idle_seconds, Some(90 * DAY as u64));
    assert_eq!(v.details.issued_at, Some(issued));
    assert!(v.correlation_id.is_some() && v.trace_id.is_some() && v.timestamp.is_some());
}

#[tokio::test]
async fn sign_in_frequency_decodes_with_its_lifetime() {
    let (router, state) = sim();
    state_of(
        &router,
        ALICE,
        serde_json::json!({"sign_in_frequency_seconds": 3600}),
    )
    .await;
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    state.advance_clock(3_601).expect("clock");
    let v = decoded(&refresh(&router, &rt(&tokens)).await, state.now());
    assert_eq!(v.primary_code, Some(70043));
    assert_eq!(v.suberror.as_deref(), Some("token_expired"));
    assert_eq!(v.details.lifetime_seconds, Some(3_600));
    assert!(v.needs_reconnect());
}

#[tokio::test]
async fn spa_expiry_decodes_with_the_fixed_lifetime() {
    let (router, state) = sim();
    let tokens = grant(&router, ALICE, serde_json::json!({"spa": true})).await;
    let issued = state.now();
    state.advance_clock(DAY + 1).expect("clock");
    let v = decoded(
        &refresh_from_browser(&router, &rt(&tokens)).await,
        state.now(),
    );
    assert_eq!(v.primary_code, Some(700084));
    assert_eq!(v.details.spa_lifetime_seconds, Some(DAY as u64));
    assert_eq!(v.details.issued_at, Some(issued));
}

#[tokio::test]
async fn revocation_decodes_with_tokens_valid_from() {
    let (router, state) = sim();
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    state.advance_clock(60).expect("clock");
    let valid_from = state.revoke(ALICE).expect("revoke");
    let v = decoded(&refresh(&router, &rt(&tokens)).await, state.now());
    assert_eq!(v.primary_code, Some(50173));
    assert_eq!(v.details.tokens_valid_from, Some(valid_from));
    assert!(v.needs_reconnect());
}

#[tokio::test]
async fn mfa_decodes_with_the_claims_challenge() {
    let (router, state) = sim();
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    state_of(&router, ALICE, serde_json::json!({"mfa_required": true})).await;
    let v = decoded(&refresh(&router, &rt(&tokens)).await, state.now());
    assert_eq!(v.primary_code, Some(50076));
    assert!(
        v.claims_challenge
            .as_deref()
            .is_some_and(|c| c.contains("capolids"))
    );
    assert!(v.needs_reconnect());
}

#[tokio::test]
async fn admin_side_failures_do_not_ask_for_a_reconnect() {
    let (router, state) = sim();
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    for (patch, code, who) in [
        (
            serde_json::json!({"ca_blocked": true}),
            53003,
            WhoActs::Admin,
        ),
        (
            serde_json::json!({"ca_blocked": false, "disabled": true}),
            50057,
            WhoActs::Admin,
        ),
    ] {
        state_of(&router, ALICE, patch).await;
        let v = decoded(&refresh(&router, &rt(&tokens)).await, state.now());
        assert_eq!(v.primary_code, Some(code));
        assert_eq!(v.who_acts, who);
        assert!(!v.needs_reconnect(), "{code}");
    }
    state_of(&router, ALICE, serde_json::json!({"disabled": false})).await;
    // The app stops being a public client: only a web redirect, no public client flows.
    let answer = post_json(
        &router,
        "/_sim/apps",
        serde_json::json!({"client_id": CLIENT, "sign_in_audience": "multi",
            "redirect_uris": [{"uri": "https://app.test/signin", "platform": "web"}],
            "public_client_flows": false, "client_secret": "s3cret"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let v = decoded(&refresh(&router, &rt(&tokens)).await, state.now());
    assert_eq!(v.primary_code, Some(7000218));
    assert_eq!(v.who_acts, WhoActs::Developer);
}

#[tokio::test]
async fn outages_decode_as_transient_with_retry_after() {
    let (router, state) = sim();
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    for outage in [
        serde_json::json!({"outage": "503"}),
        serde_json::json!({"outage": "429", "retry_after": 12}),
        serde_json::json!({"outage": "html500"}),
    ] {
        post_json(&router, "/_sim/faults", outage).await;
        let v = decoded(&refresh(&router, &rt(&tokens)).await, state.now());
        assert!(v.transient, "{v:?}");
        assert!(!v.needs_reconnect());
    }
    post_json(
        &router,
        "/_sim/faults",
        serde_json::json!({"outage": "429", "retry_after": 12}),
    )
    .await;
    let v = decoded(&refresh(&router, &rt(&tokens)).await, state.now());
    assert_eq!(v.retry_after_seconds, Some(12));
}

#[tokio::test]
async fn sign_in_redirect_errors_decode_too() {
    let (router, _state) = sim();
    state_of(&router, BOB, serde_json::json!({"disabled": true})).await;
    let uri = format!(
        "/common/oauth2/v2.0/authorize?client_id={CLIENT}&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%2Fcallback&scope=openid&login_hint={BOB}&state=s"
    );
    let page = get(&router, &uri).await;
    let flow_marker = "name=\"flow\" value=\"";
    let start = page.text.find(flow_marker).expect("flow") + flow_marker.len();
    let flow = page.text[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned();
    let answer = post_form(
        &router,
        "/common/oauth2/v2.0/authorize",
        &[("flow", &flow), ("step", "password"), ("password", "x")],
    )
    .await;
    let location = answer.headers["location"].to_str().expect("location");
    let v =
        decode_redirect_query(location.split_once('?').map_or("", |(_, q)| q)).expect("an error");
    assert_eq!(v.primary_code, Some(50057));
    assert_eq!(v.who_acts, WhoActs::Admin);
}

#[tokio::test]
async fn device_code_answers_decode_to_their_codes() {
    let (router, state) = sim();
    let poll = |device_code: String| {
        let router = router.clone();
        async move {
            post_form(
                &router,
                "/common/oauth2/v2.0/token",
                &[
                    ("grant_type", reconnect_sim::device::GRANT_TYPE),
                    ("client_id", CLIENT),
                    ("device_code", device_code.as_str()),
                ],
            )
            .await
        }
    };
    let issue = || async {
        let answer = post_form(
            &router,
            "/common/oauth2/v2.0/devicecode",
            &[("client_id", CLIENT), ("scope", SCOPE)],
        )
        .await;
        let body = answer.json();
        let text = |k: &str| body[k].as_str().expect("field").to_owned();
        (text("device_code"), text("user_code"))
    };
    let (pending, _) = issue().await;
    let (declined, declined_user) = issue().await;
    state.decline_device_code(&declined_user).expect("decline");
    let (blocked, blocked_user) = issue().await;
    state
        .set_tenant_policy(
            "common",
            reconnect_sim::TenantPolicy {
                block_device_code: true,
            },
        )
        .expect("policy");
    assert!(
        state
            .approve_device_code(&blocked_user, ALICE, None)
            .is_err()
    );
    for (device_code, code) in [
        (pending.clone(), 70016),
        (declined, 65004),
        (blocked, 53003),
        ("unknown".to_owned(), 70018),
    ] {
        let v = decoded(&poll(device_code).await, state.now());
        assert_eq!(v.primary_code, Some(code));
        assert!(v.correlation_id.is_some() && v.trace_id.is_some());
    }
    state.advance_clock(900).expect("clock");
    let v = decoded(&poll(pending).await, state.now());
    assert_eq!(v.primary_code, Some(70019));
}
