//! Shared helpers for the in-process router tests: build a simulator, send
//! requests with `oneshot`, decode JWTs.

#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::BodyExt as _;
use reconnect_sim::{AppRegistration, SimConfig, SimState, app};
use tower::ServiceExt as _;

pub const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
pub const ALICE: &str = "alice@contoso.test";
pub const BOB: &str = "bob@contoso.test";
pub const SCOPE: &str = "openid profile offline_access https://graph.microsoft.com/User.Read";
pub const DAY: i64 = 86_400;

/// A fresh simulator with [`CLIENT`] registered as a desktop app (redirect
/// URIs `http://localhost` and `http://localhost/callback`): its router and state.
pub fn sim() -> (Router, SimState) {
    let mut app = AppRegistration::desktop(CLIENT);
    app.redirect_uris.push(reconnect_sim::RedirectUri {
        uri: "http://localhost/callback".into(),
        platform: reconnect_sim::Platform::MobileDesktop,
    });
    sim_with(vec![app])
}

/// A fresh simulator with these apps registered.
pub fn sim_with(apps: Vec<AppRegistration>) -> (Router, SimState) {
    let config = SimConfig {
        apps,
        ..SimConfig::default()
    };
    let state = SimState::new(&config).expect("state");
    (app(state.clone()), state)
}

/// A response, read fully.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

pub async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub async fn get(router: &Router, uri: &str) -> Answer {
    let request = Request::get(uri)
        .header(header::HOST, "127.0.0.1:4000")
        .body(Body::empty())
        .expect("request");
    send(router, request).await
}

pub async fn delete(router: &Router, uri: &str) -> Answer {
    let request = Request::delete(uri).body(Body::empty()).expect("request");
    send(router, request).await
}

pub async fn post_json(router: &Router, uri: &str, body: serde_json::Value) -> Answer {
    let request = Request::post(uri)
        .header(header::HOST, "127.0.0.1:4000")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    send(router, request).await
}

pub async fn post_form(router: &Router, uri: &str, pairs: &[(&str, &str)]) -> Answer {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let request = Request::post(uri)
        .header(header::HOST, "127.0.0.1:4000")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("client-request-id", "0f0f0f0f-1111-2222-3333-444444444444")
        .body(Body::from(body))
        .expect("request");
    send(router, request).await
}

/// Mints tokens through `POST /_sim/grants`.
pub async fn grant(router: &Router, upn: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut body = serde_json::json!({ "upn": upn, "client_id": CLIENT, "scope": SCOPE });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let answer = post_json(router, "/_sim/grants", body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json()
}

/// Redeems a refresh token at the token endpoint.
pub async fn refresh(router: &Router, refresh_token: &str) -> Answer {
    post_form(
        router,
        "/common/oauth2/v2.0/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT),
            ("refresh_token", refresh_token),
            ("scope", SCOPE),
            ("client_info", "1"),
        ],
    )
    .await
}

/// Redeems a refresh token as a single-page app does: cross-origin, with an `Origin` header.
pub async fn refresh_from_browser(router: &Router, refresh_token: &str) -> Answer {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT),
            ("refresh_token", refresh_token),
            ("scope", SCOPE),
        ])
        .finish();
    let request = Request::post("/common/oauth2/v2.0/token")
        .header(header::HOST, "127.0.0.1:4000")
        .header(header::ORIGIN, "https://spa.test")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("request");
    send(router, request).await
}

/// The refresh token of a token response.
pub fn rt(tokens: &serde_json::Value) -> String {
    tokens["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_owned()
}

/// Decodes a JWT's payload without checking the signature.
pub fn claims(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("json")
}

/// Checks an Entra error body field by field and returns it.
pub fn entra_error(answer: &Answer, status: u16, error: &str, code: u32) -> serde_json::Value {
    assert_eq!(answer.status.as_u16(), status, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], serde_json::json!([code]));
    let description = body["error_description"].as_str().expect("description");
    let lines: Vec<&str> = description.split("\r\n").collect();
    assert_eq!(lines.len(), 4, "{description:?}");
    assert!(
        lines[0].starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    assert_eq!(
        lines[1],
        format!("Trace ID: {}", body["trace_id"].as_str().expect("trace"))
    );
    assert_eq!(
        lines[2],
        format!(
            "Correlation ID: {}",
            body["correlation_id"].as_str().expect("corr")
        )
    );
    let ts = body["timestamp"].as_str().expect("timestamp");
    assert_eq!(lines[3], format!("Timestamp: {ts}"));
    assert_eq!(ts.len(), "2026-01-01 00:00:00Z".len());
    assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b' ');
    assert_eq!(
        body["error_uri"],
        format!("http://127.0.0.1:4000/error?code={code}"),
        "error_uri names the host the request came to"
    );
    body
}
