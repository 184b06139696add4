//! In-process tests of faults on request (any AADSTS code, scoped to a user,
//! for N requests), outages, and the request log.

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::*;

#[tokio::test]
async fn any_code_on_request_in_the_right_shape() {
    let (router, state) = sim();
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    let answer = post_json(
        &router,
        "/_sim/faults",
        serde_json::json!({"code": 70000, "count": 2}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    entra_error(
        &refresh(&router, &rt(&tokens)).await,
        400,
        "invalid_grant",
        70000,
    );
    entra_error(
        &refresh(&router, &rt(&tokens)).await,
        400,
        "invalid_grant",
        70000,
    );
    assert_eq!(
        refresh(&router, &rt(&tokens)).await.status,
        StatusCode::OK,
        "fault used up after count"
    );

    post_json(
        &router,
        "/_sim/faults",
        serde_json::json!({"code": 7000218}),
    )
    .await;
    entra_error(
        &refresh(&router, &rt(&tokens)).await,
        401,
        "invalid_client",
        7000218,
    );
    post_json(&router, "/_sim/faults", serde_json::json!({"code": 50079})).await;
    let body = entra_error(
        &refresh(&router, &rt(&tokens)).await,
        400,
        "invalid_grant",
        50079,
    );
    assert!(body["claims"].is_string());
    post_json(
        &router,
        "/_sim/faults",
        serde_json::json!({"code": 123456, "error": "invalid_request", "status": 400}),
    )
    .await;
    entra_error(
        &refresh(&router, &rt(&tokens)).await,
        400,
        "invalid_request",
        123456,
    );
    assert!(state.faults().is_empty());
}

#[tokio::test]
async fn user_scoped_faults_leave_others_alone() {
    let (router, _state) = sim();
    let alice = grant(&router, ALICE, serde_json::json!({})).await;
    let bob = grant(&router, BOB, serde_json::json!({})).await;
    post_json(
        &router,
        "/_sim/faults",
        serde_json::json!({"code": 50173, "upn": BOB}),
    )
    .await;
    assert_eq!(refresh(&router, &rt(&alice)).await.status, StatusCode::OK);
    entra_error(
        &refresh(&router, &rt(&bob)).await,
        400,
        "invalid_grant",
        50173,
    );
}

#[tokio::test]
async fn outages_503_429_and_html500() {
    let (router, state) = sim();
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    post_json(
        &router,
        "/_sim/faults",
        serde_json::json!({"outage": "503"}),
    )
    .await;
    post_json(
        &router,
        "/_sim/faults",
        serde_json::json!({"outage": "429", "retry_after": 7}),
    )
    .await;
    post_json(
        &router,
        "/_sim/faults",
        serde_json::json!({"outage": "html500"}),
    )
    .await;
    let listed = get(&router, "/_sim/faults").await.json();
    assert_eq!(listed["faults"].as_array().map(Vec::len), Some(3));

    entra_error(
        &refresh(&router, &rt(&tokens)).await,
        503,
        "temporarily_unavailable",
        90033,
    );
    let throttled = refresh(&router, &rt(&tokens)).await;
    assert_eq!(throttled.headers["retry-after"], "7");
    entra_error(&throttled, 429, "temporarily_unavailable", 90055);
    let html = refresh(&router, &rt(&tokens)).await;
    assert_eq!(html.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        html.headers["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/html")
    );
    assert!(html.text.contains("<html>"));
    assert_eq!(
        refresh(&router, &rt(&tokens)).await.status,
        StatusCode::OK,
        "outages are over"
    );

    let faults: Vec<Option<String>> = state
        .log()
        .into_iter()
        .filter(|e| e.endpoint == "token")
        .map(|e| e.fault)
        .collect();
    assert_eq!(
        faults,
        vec![
            Some("503".into()),
            Some("429".into()),
            Some("html500".into()),
            None
        ]
    );
}

#[tokio::test]
async fn slow_outage_delays_then_answers() {
    let (router, _state) = sim();
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    post_json(
        &router,
        "/_sim/faults",
        serde_json::json!({"outage": "slow", "delay_ms": 300}),
    )
    .await;
    let started = Instant::now();
    let answer = refresh(&router, &rt(&tokens)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn clearing_faults_and_bad_fault_requests() {
    let (router, state) = sim();
    post_json(
        &router,
        "/_sim/faults",
        serde_json::json!({"outage": "503", "count": 5}),
    )
    .await;
    assert_eq!(
        delete(&router, "/_sim/faults").await.status,
        StatusCode::NO_CONTENT
    );
    assert!(state.faults().is_empty());
    for bad in [
        serde_json::json!({}),
        serde_json::json!({"outage": "meltdown"}),
        serde_json::json!({"code": 1, "outage": "503"}),
        serde_json::json!({"code": "x"}),
        serde_json::json!({"code": 1, "surprise": true}),
    ] {
        let answer = post_json(&router, "/_sim/faults", bad.clone()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(answer.json()["error"].is_string());
    }
    assert!(state.faults().is_empty());
}

#[tokio::test]
async fn the_log_counts_requests_and_can_be_cleared() {
    let (router, _state) = sim();
    get(&router, "/common/v2.0/.well-known/openid-configuration").await;
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    refresh(&router, &rt(&tokens)).await;
    refresh(&router, "junk").await;
    let log = get(&router, "/_sim/log").await.json();
    let requests = log["requests"].as_array().cloned().unwrap_or_default();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0]["endpoint"], "discovery");
    assert_eq!(requests[1]["endpoint"], "token");
    assert_eq!(requests[1]["grant_type"], "refresh_token");
    assert_eq!(requests[1]["user"], ALICE);
    assert_eq!(requests[1]["client_id"], CLIENT);
    assert_eq!(requests[1]["status"], 200);
    assert_eq!(requests[1]["claims_passed"], false);
    assert_eq!(requests[2]["code"], 9002313);
    assert_eq!(requests[2]["status"], 400);
    assert!(
        requests[2]["time"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(
        delete(&router, "/_sim/log").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        get(&router, "/_sim/log").await.json()["requests"],
        serde_json::json!([])
    );
}
