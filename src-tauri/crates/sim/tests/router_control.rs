//! In-process tests of the `/_sim` control API: users, clock, grants input checks.

mod common;

use axum::http::StatusCode;
use common::*;

#[tokio::test]
async fn users_are_seeded_created_and_listed() {
    let (router, _state) = sim();
    let list = get(&router, "/_sim/users").await.json();
    let upns: Vec<&str> = list["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["upn"].as_str())
        .collect();
    assert_eq!(upns, vec![ALICE, BOB]);
    let created = post_json(
        &router,
        "/_sim/users",
        serde_json::json!({"upn": "carol@contoso.test", "password": "pw"}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let carol = created.json();
    assert_eq!(carol["upn"], "carol@contoso.test");
    assert_eq!(carol["has_password"], true);
    assert!(
        carol.get("password").is_none(),
        "passwords are never echoed"
    );
    assert_eq!(carol["idle_limit_seconds"], 90 * DAY);
    let again = post_json(
        &router,
        "/_sim/users",
        serde_json::json!({"upn": "Carol@contoso.test"}),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    for bad in [
        serde_json::json!({"upn": "nobody"}),
        serde_json::json!({"upn": "a b@c"}),
        serde_json::json!({}),
    ] {
        assert_eq!(
            post_json(&router, "/_sim/users", bad.clone()).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    assert_eq!(
        get(&router, "/_sim/users").await.json()["users"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
}

#[tokio::test]
async fn user_state_changes_are_checked() {
    let (router, _state) = sim();
    let missing = post_json(
        &router,
        "/_sim/users/zed@contoso.test/state",
        serde_json::json!({"disabled": true}),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let unknown = post_json(
        &router,
        "/_sim/users/alice@contoso.test/state",
        serde_json::json!({"frozen": true}),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let ok = post_json(
        &router,
        "/_sim/users/ALICE@contoso.test/state",
        serde_json::json!({"mfa_required": true, "sign_in_frequency_seconds": 60}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.json()["mfa_required"], true);
    assert_eq!(ok.json()["sign_in_frequency_seconds"], 60);
}

#[tokio::test]
async fn the_clock_moves_forward_only() {
    let (router, state) = sim();
    let before = get(&router, "/_sim/clock").await.json();
    let after = post_json(
        &router,
        "/_sim/clock",
        serde_json::json!({"advance_seconds": 91 * DAY}),
    )
    .await;
    assert_eq!(after.status, StatusCode::OK);
    let after = after.json();
    assert!(after["now"].as_i64().unwrap_or(0) - before["now"].as_i64().unwrap_or(0) >= 91 * DAY);
    assert_eq!(after["offset_seconds"], 91 * DAY);
    assert!(after["time"].is_string());
    let back = post_json(
        &router,
        "/_sim/clock",
        serde_json::json!({"advance_seconds": -5}),
    )
    .await;
    assert_eq!(back.status, StatusCode::BAD_REQUEST);
    assert_eq!(state.clock_offset(), 91 * DAY);
}

#[tokio::test]
async fn grants_for_unknown_users_or_bad_bodies_are_refused() {
    let (router, _state) = sim();
    let answer = post_json(
        &router,
        "/_sim/grants",
        serde_json::json!({"upn": "zed@contoso.test", "client_id": CLIENT, "scope": SCOPE}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let answer = post_json(&router, "/_sim/grants", serde_json::json!({"upn": ALICE})).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(
        answer.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("client_id"))
    );
}
