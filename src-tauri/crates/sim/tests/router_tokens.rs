//! In-process tests of discovery, JWKS, minted grants and the refresh_token
//! grant (success bodies, rotation, old tokens staying valid).

mod common;

use axum::http::StatusCode;
use common::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reconnect_sim::CONSUMERS_TENANT_ID;

#[tokio::test]
async fn discovery_points_at_the_simulator_for_any_tenant() {
    let (router, state) = sim();
    let contoso = state.tenant_of(ALICE);
    let template = "http://127.0.0.1:4000/{tenantid}/v2.0".to_owned();
    let own = format!("http://127.0.0.1:4000/{contoso}/v2.0");
    let consumers = format!("http://127.0.0.1:4000/{CONSUMERS_TENANT_ID}/v2.0");
    for (tenant, issuer) in [
        ("common", &template),
        ("organizations", &template),
        ("consumers", &consumers),
        ("contoso.test", &own),
        (contoso.as_str(), &own),
    ] {
        let answer = get(
            &router,
            &format!("/{tenant}/v2.0/.well-known/openid-configuration"),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK);
        let doc = answer.json();
        let base = format!("http://127.0.0.1:4000/{tenant}");
        assert_eq!(
            doc["authorization_endpoint"],
            format!("{base}/oauth2/v2.0/authorize")
        );
        assert_eq!(doc["token_endpoint"], format!("{base}/oauth2/v2.0/token"));
        assert_eq!(doc["jwks_uri"], format!("{base}/discovery/v2.0/keys"));
        assert_eq!(doc["issuer"], *issuer, "{tenant}");
    }
}

#[tokio::test]
async fn id_tokens_verify_against_the_published_jwks() {
    let (router, state) = sim();
    let jwks = get(&router, "/common/discovery/v2.0/keys").await.json();
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    let id_token = tokens["id_token"].as_str().expect("id_token");
    let header = jsonwebtoken::decode_header(id_token).expect("header");
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("kid");
    let key = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("kid in jwks");
    let decoding = DecodingKey::from_rsa_components(
        key["n"].as_str().expect("n"),
        key["e"].as_str().expect("e"),
    )
    .expect("key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[CLIENT]);
    let tid = state.tenant_of(ALICE);
    assert_ne!(
        tid, CONSUMERS_TENANT_ID,
        "a work account lives in its own tenant"
    );
    validation.set_issuer(&[format!("http://127.0.0.1:4000/{tid}/v2.0")]);
    let data = jsonwebtoken::decode::<serde_json::Value>(id_token, &decoding, &validation)
        .expect("valid id_token");
    let c = data.claims;
    assert_eq!(c["preferred_username"], ALICE);
    assert_eq!(c["tid"], tid);
    let alice = state.user(ALICE).expect("alice");
    assert_eq!(c["oid"], alice.oid);
    assert!(c["sub"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(c["exp"].as_i64() > c["iat"].as_i64());
}

#[tokio::test]
async fn api_access_tokens_verify_against_the_jwks_and_graph_ones_are_opaque() {
    let (router, state) = sim();
    let jwks = get(&router, "/common/discovery/v2.0/keys").await.json();
    let own_api = grant(
        &router,
        ALICE,
        serde_json::json!({"scope": "api://orders/Orders.Read"}),
    )
    .await;
    let token = own_api["access_token"].as_str().expect("access_token");
    let header = jsonwebtoken::decode_header(token).expect("header");
    assert_eq!(header.alg, Algorithm::ES256);
    let kid = header.kid.expect("kid");
    let key = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("the access token's key is published");
    let decoding = DecodingKey::from_ec_components(
        key["x"].as_str().expect("x"),
        key["y"].as_str().expect("y"),
    )
    .expect("key");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&["api://orders"]);
    let tid = state.tenant_of(ALICE);
    assert_ne!(
        tid, CONSUMERS_TENANT_ID,
        "a work account lives in its own tenant"
    );
    validation.set_issuer(&[format!("http://127.0.0.1:4000/{tid}/v2.0")]);
    let data = jsonwebtoken::decode::<serde_json::Value>(token, &decoding, &validation)
        .expect("an API can validate its access token");
    assert_eq!(data.claims["scp"], "Orders.Read");

    // Graph's tokens are for Graph alone, as on Entra: no published key signs them.
    let graph = grant(&router, ALICE, serde_json::json!({})).await;
    let token = graph["access_token"].as_str().expect("access_token");
    let header = jsonwebtoken::decode_header(token).expect("header");
    assert_eq!(header.alg, Algorithm::HS256);
    assert!(header.kid.is_none());
    assert_eq!(claims(token)["aud"], "https://graph.microsoft.com");
}

#[tokio::test]
async fn success_body_has_every_field_entra_sends() {
    let (router, state) = sim();
    let first = grant(&router, ALICE, serde_json::json!({})).await;
    let answer = refresh(&router, &rt(&first)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.headers["cache-control"], "no-store");
    let body = answer.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["ext_expires_in"], 3600);
    assert!(
        body["scope"]
            .as_str()
            .is_some_and(|s| s.contains("https://graph.microsoft.com/User.Read"))
    );
    let at = claims(body["access_token"].as_str().expect("access_token"));
    let alice = state.user(ALICE).expect("alice");
    assert_eq!(at["tid"], state.tenant_of(ALICE));
    assert_eq!(at["oid"], alice.oid);
    assert_eq!(at["scp"], "User.Read");
    assert_eq!(at["amr"], serde_json::json!(["pwd"]));
    assert_eq!(at["aud"], "https://graph.microsoft.com");
    assert!(at["exp"].as_i64().is_some_and(|e| e > state.now()));
    assert!(body["id_token"].is_string());
    let info = body["client_info"].as_str().expect("client_info");
    let info: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, info)
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(info["uid"], alice.oid);
    assert_eq!(info["utid"], state.tenant_of(ALICE));
}

#[tokio::test]
async fn refresh_and_id_tokens_appear_only_when_their_scopes_were_asked() {
    let (router, _state) = sim();
    let plain = post_json(
        &router,
        "/_sim/grants",
        serde_json::json!({"upn": ALICE, "client_id": CLIENT, "scope": "https://graph.microsoft.com/Mail.Read"}),
    )
    .await
    .json();
    assert!(plain["access_token"].is_string());
    assert!(plain.get("refresh_token").is_none());
    assert!(plain.get("id_token").is_none());
    let offline = grant(
        &router,
        ALICE,
        serde_json::json!({"scope": "offline_access User.Read"}),
    )
    .await;
    assert!(offline["refresh_token"].is_string());
    assert!(offline.get("id_token").is_none());
    let answer = post_form(
        &router,
        "/common/oauth2/v2.0/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT),
            ("refresh_token", &rt(&offline)),
            ("scope", "User.Read"),
        ],
    )
    .await;
    let body = answer.json();
    assert!(
        body.get("refresh_token").is_none(),
        "no offline_access asked on this refresh"
    );
    assert!(
        body.get("client_info").is_none(),
        "client_info only when asked"
    );
}

#[tokio::test]
async fn refresh_rotates_and_old_tokens_stay_valid() {
    let (router, state) = sim();
    let first = grant(&router, BOB, serde_json::json!({})).await;
    let old = rt(&first);
    let second = refresh(&router, &old).await.json();
    let new = rt(&second);
    assert_ne!(old, new, "each refresh returns a new refresh token");
    state.advance_clock(3_600).expect("clock");
    assert_eq!(
        refresh(&router, &old).await.status,
        StatusCode::OK,
        "old refresh token still valid"
    );
    assert_eq!(refresh(&router, &new).await.status, StatusCode::OK);
    let log = state.log();
    let refreshes = log
        .iter()
        .filter(|e| e.grant_type.as_deref() == Some("refresh_token"))
        .count();
    assert_eq!(refreshes, 3);
    assert!(log.iter().all(|e| e.user.as_deref() == Some(BOB)
        && e.status == 200
        && e.client_id.as_deref() == Some(CLIENT)));
}

#[tokio::test]
async fn refresh_tokens_from_another_client_or_garbage_are_refused() {
    let (router, state) = sim();
    state
        .register_app(reconnect_sim::AppRegistration::desktop("other-client"))
        .expect("register");
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    let answer = post_form(
        &router,
        "/common/oauth2/v2.0/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "other-client"),
            ("refresh_token", &rt(&tokens)),
        ],
    )
    .await;
    entra_error(&answer, 400, "invalid_grant", 70000);
    let answer = refresh(&router, "not-a-token").await;
    entra_error(&answer, 400, "invalid_grant", 9002313);
    let answer = post_form(
        &router,
        "/common/oauth2/v2.0/token",
        &[("grant_type", "refresh_token"), ("client_id", CLIENT)],
    )
    .await;
    let body = entra_error(&answer, 400, "invalid_request", 900144);
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("'refresh_token'"))
    );
    let answer = post_form(
        &router,
        "/common/oauth2/v2.0/token",
        &[("client_id", CLIENT)],
    )
    .await;
    entra_error(&answer, 400, "invalid_request", 900144);
    let answer = post_form(
        &router,
        "/common/oauth2/v2.0/token",
        &[("grant_type", "password"), ("client_id", CLIENT)],
    )
    .await;
    entra_error(&answer, 400, "unsupported_grant_type", 70003);
}

#[tokio::test]
async fn correlation_id_echoes_client_request_id() {
    let (router, state) = sim();
    state.advance_clock(0).expect("clock");
    let answer = refresh(&router, "garbage").await;
    assert_eq!(
        answer.json()["correlation_id"],
        "0f0f0f0f-1111-2222-3333-444444444444"
    );
}
