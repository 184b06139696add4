//! In-process tests of every way the simulator breaks a refresh: idle expiry,
//! sign-in frequency, SPA lifetime, revocation, MFA policy, Conditional
//! Access block, disabled user, revoked consent, public client not allowed.

mod common;

use axum::http::StatusCode;
use common::*;

#[tokio::test]
async fn idle_refresh_tokens_expire_after_ninety_days() {
    let (router, state) = sim();
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    state.advance_clock(89 * DAY).expect("clock");
    let renewed = refresh(&router, &rt(&tokens)).await;
    assert_eq!(renewed.status, StatusCode::OK, "89 days idle is fine");
    state.advance_clock(91 * DAY).expect("clock");
    let answer = refresh(&router, &rt(&renewed.json())).await;
    let body = entra_error(&answer, 400, "invalid_grant", 700082);
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.contains("was inactive for 90.00:00:00"),
        "{description}"
    );
    assert!(
        description.contains("The token was issued on 20"),
        "{description}"
    );
    assert!(body.get("suberror").is_none());
}

#[tokio::test]
async fn idle_limit_can_be_shortened_per_user() {
    let (router, state) = sim();
    let answer = post_json(
        &router,
        "/_sim/users/bob@contoso.test/state",
        serde_json::json!({"idle_limit_seconds": 3600}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json()["idle_limit_seconds"], 3600);
    let bob = grant(&router, BOB, serde_json::json!({})).await;
    let alice = grant(&router, ALICE, serde_json::json!({})).await;
    state.advance_clock(3_601).expect("clock");
    let body = entra_error(
        &refresh(&router, &rt(&bob)).await,
        400,
        "invalid_grant",
        700082,
    );
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("inactive for 0.01:00:00"))
    );
    assert_eq!(
        refresh(&router, &rt(&alice)).await.status,
        StatusCode::OK,
        "alice keeps the default"
    );
}

#[tokio::test]
async fn sign_in_frequency_ends_the_session_with_token_expired() {
    let (router, state) = sim();
    state
        .set_user_state(
            ALICE,
            &serde_json::from_value(serde_json::json!({"sign_in_frequency_seconds": 7200}))
                .expect("patch"),
        )
        .expect("state");
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    state.advance_clock(3_600).expect("clock");
    let renewed = refresh(&router, &rt(&tokens)).await;
    assert_eq!(renewed.status, StatusCode::OK);
    state.advance_clock(3_601).expect("clock");
    // Even the freshly rotated token fails: the limit counts from the sign-in.
    let body = entra_error(
        &refresh(&router, &rt(&renewed.json())).await,
        400,
        "invalid_grant",
        70043,
    );
    assert_eq!(body["suberror"], "token_expired");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("maximum allowed lifetime for this request is 7200"))
    );
}

#[tokio::test]
async fn spa_refresh_tokens_have_a_fixed_day() {
    let (router, state) = sim();
    let tokens = grant(&router, ALICE, serde_json::json!({"spa": true})).await;
    assert_eq!(tokens["refresh_token_expires_in"], DAY);
    state.advance_clock(20 * 3_600).expect("clock");
    entra_error(
        &refresh(&router, &rt(&tokens)).await,
        400,
        "invalid_request",
        9002327,
    );
    let renewed = refresh_from_browser(&router, &rt(&tokens)).await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.text);
    assert_eq!(
        renewed.json()["refresh_token_expires_in"],
        4 * 3_600,
        "rotation does not extend the day"
    );
    state.advance_clock(5 * 3_600).expect("clock");
    let body = entra_error(
        &refresh_from_browser(&router, &rt(&renewed.json())).await,
        400,
        "invalid_grant",
        700084,
    );
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("1.00:00:00"))
    );
}

#[tokio::test]
async fn revoking_fails_earlier_tokens_with_50173_but_not_new_sign_ins() {
    let (router, _state) = sim();
    let before = grant(&router, ALICE, serde_json::json!({})).await;
    let other = grant(&router, BOB, serde_json::json!({})).await;
    let answer = post_json(
        &router,
        "/_sim/users/alice@contoso.test/revoke",
        serde_json::json!({}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.json()["tokens_valid_from"].is_string());
    let body = entra_error(
        &refresh(&router, &rt(&before)).await,
        400,
        "invalid_grant",
        50173,
    );
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("TokensValidFrom"))
    );
    assert_eq!(
        refresh(&router, &rt(&other)).await.status,
        StatusCode::OK,
        "bob is untouched"
    );
    let after = grant(&router, ALICE, serde_json::json!({})).await;
    assert_eq!(refresh(&router, &rt(&after)).await.status, StatusCode::OK);
    let missing = post_json(
        &router,
        "/_sim/users/nobody@contoso.test/revoke",
        serde_json::json!({}),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn new_mfa_policy_sends_a_claims_challenge_until_mfa_is_done() {
    let (router, state) = sim();
    let without = grant(&router, ALICE, serde_json::json!({})).await;
    let with = grant(&router, ALICE, serde_json::json!({"mfa": true})).await;
    post_json(
        &router,
        "/_sim/users/alice@contoso.test/state",
        serde_json::json!({"mfa_required": true}),
    )
    .await;
    let body = entra_error(
        &refresh(&router, &rt(&without)).await,
        400,
        "invalid_grant",
        50076,
    );
    assert_eq!(body["suberror"], "basic_action");
    let challenge: serde_json::Value =
        serde_json::from_str(body["claims"].as_str().expect("claims")).expect("claims JSON");
    assert_eq!(challenge["access_token"]["capolids"]["essential"], true);
    let ok = refresh(&router, &rt(&with)).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(
        claims(ok.json()["access_token"].as_str().unwrap_or_default())["amr"],
        serde_json::json!(["pwd", "mfa"])
    );
    let entry = state.log().into_iter().rev().nth(1).expect("log");
    assert_eq!(entry.code, Some(50076));
    assert_eq!(entry.mfa, Some(false));
}

#[tokio::test]
async fn conditional_access_block_is_message_only() {
    let (router, _state) = sim();
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    post_json(
        &router,
        "/_sim/users/alice@contoso.test/state",
        serde_json::json!({"ca_blocked": true}),
    )
    .await;
    let body = entra_error(
        &refresh(&router, &rt(&tokens)).await,
        400,
        "invalid_grant",
        53003,
    );
    assert_eq!(body["suberror"], "message_only");
    post_json(
        &router,
        "/_sim/users/alice@contoso.test/state",
        serde_json::json!({"ca_blocked": false}),
    )
    .await;
    assert_eq!(
        refresh(&router, &rt(&tokens)).await.status,
        StatusCode::OK,
        "lifting the block heals"
    );
}

#[tokio::test]
async fn disabled_users_get_50057() {
    let (router, _state) = sim();
    let tokens = grant(&router, BOB, serde_json::json!({})).await;
    post_json(
        &router,
        "/_sim/users/bob@contoso.test/state",
        serde_json::json!({"disabled": true}),
    )
    .await;
    entra_error(
        &refresh(&router, &rt(&tokens)).await,
        400,
        "invalid_grant",
        50057,
    );
}

#[tokio::test]
async fn revoked_consent_gets_65001_until_consent_is_given_again() {
    let (router, _state) = sim();
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    post_json(
        &router,
        "/_sim/users/alice@contoso.test/state",
        serde_json::json!({"consent_revoked": true}),
    )
    .await;
    let body = entra_error(
        &refresh(&router, &rt(&tokens)).await,
        400,
        "invalid_grant",
        65001,
    );
    assert_eq!(body["suberror"], "consent_required");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains(CLIENT))
    );
}

#[tokio::test]
async fn apps_without_public_client_flows_get_7000218_with_401() {
    let (router, _state) = sim();
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    let answer = post_json(
        &router,
        "/_sim/apps",
        serde_json::json!({"client_id": CLIENT, "sign_in_audience": "multi",
            "redirect_uris": [{"uri": "https://app.test/signin", "platform": "web"}],
            "public_client_flows": false, "client_secret": "s"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    entra_error(
        &refresh(&router, &rt(&tokens)).await,
        401,
        "invalid_client",
        7000218,
    );
    let with_secret = post_form(
        &router,
        "/common/oauth2/v2.0/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT),
            ("client_secret", "s"),
            ("refresh_token", &rt(&tokens)),
        ],
    )
    .await;
    assert_eq!(
        with_secret.status,
        StatusCode::OK,
        "a confidential client still works"
    );
}
