//! Bad input gets a clear, Entra-shaped answer and never a crash or a 500:
//! garbage bodies, invalid UTF-8, huge values, wrong methods and content types.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;

async fn raw_token(router: &axum::Router, content_type: &str, body: Vec<u8>) -> Answer {
    let request = Request::post("/common/oauth2/v2.0/token")
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("request");
    send(router, request).await
}

#[tokio::test]
async fn garbage_token_requests_get_entra_errors() {
    let (router, state) = sim();
    let long = "x".repeat(200_000);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("application/x-www-form-urlencoded", b"%%%&&&==".to_vec()),
        (
            "application/x-www-form-urlencoded",
            vec![0xff, 0xfe, b'=', 0x80],
        ),
        (
            "application/x-www-form-urlencoded",
            format!("grant_type=refresh_token&client_id=a&refresh_token={long}").into_bytes(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"grant_type=refresh_token&client_id=a&refresh_token=eyJ.eyJ.sig".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"grant_type=authorization_code&client_id=a&code=..&redirect_uri=%00".to_vec(),
        ),
        (
            "application/json",
            br#"{"grant_type":"refresh_token"}"#.to_vec(),
        ),
    ];
    for (content_type, body) in cases {
        let answer = raw_token(&router, content_type, body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
        let json = answer.json();
        assert!(
            json["error"].is_string() && json["error_codes"].is_array(),
            "{json}"
        );
    }
    assert!(state.log().iter().all(|e| e.status == 400));
}

#[tokio::test]
async fn wrong_methods_and_paths_are_plain_http_errors() {
    let (router, _state) = sim();
    assert_eq!(
        get(&router, "/common/oauth2/v2.0/token").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(get(&router, "/nowhere").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&router, "/_sim/users/x/state").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn hostile_host_headers_are_not_reflected() {
    let (router, _state) = sim();
    let request = Request::get("/common/v2.0/.well-known/openid-configuration")
        .header(header::HOST, "evil.test/\"><script>")
        .body(Body::empty())
        .expect("request");
    let answer = send(&router, request).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(!answer.text.contains("evil.test"), "{}", answer.text);
    let tenant = get(
        &router,
        "/%3Cscript%3E/v2.0/.well-known/openid-configuration",
    )
    .await;
    assert!(!tenant.text.contains('<'), "{}", tenant.text);
}

#[tokio::test]
async fn control_api_rejects_bad_json_with_a_reason() {
    let (router, _state) = sim();
    for (uri, body) in [
        ("/_sim/clock", "{\"advance_seconds\":\"soon\"}"),
        ("/_sim/clock", "not json"),
        ("/_sim/grants", "[]"),
        ("/_sim/users", "{\"upn\":42}"),
    ] {
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .expect("request");
        let answer = send(&router, request).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{uri} {body}: {}",
            answer.text
        );
        assert!(
            answer.json()["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("bad JSON body"))
        );
    }
}
