//! An id_token signed with an application's custom signing key: Entra
//! publishes that key only at `jwks_uri?appid={client_id}`. A real loopback
//! server serves two key sets, the plain one without the key and the `appid`
//! one with it; the validator finds the key only when told to look there.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reconnect_core::secret::IdToken;
use reconnect_oauth::{
    IdTokenError, IdTokenValidator, ProviderMetadata, TokenClient, TokenClientConfig,
};
use url::Url;

/// A fixed public test key (the simulator's fixture), playing the app's key.
const APP_PEM: &str = include_str!("../../sim/fixtures/signing-key.pem");
const APP_JWK: &str = include_str!("../../sim/fixtures/signing-key.jwk.json");
const APP_KID: &str = "reconnect-sim-key-1";
const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
const NONCE: &str = "n-0S6_WzA2Mj";

/// The loopback key server and the query strings it was asked with.
struct KeyServer {
    jwks_uri: Url,
    queries: Arc<Mutex<Vec<String>>>,
}

/// The plain set holds the app key under another id; the `appid` set holds
/// it under its own, as Entra's does for an app with a custom signing key.
fn key_sets() -> (serde_json::Value, serde_json::Value) {
    let app: serde_json::Value = serde_json::from_str(APP_JWK).unwrap();
    let mut tenant = app.clone();
    tenant["kid"] = "tenant-key-1".into();
    (
        serde_json::json!({ "keys": [tenant.clone()] }),
        serde_json::json!({ "keys": [tenant, app] }),
    )
}

async fn key_server() -> KeyServer {
    let (plain, with_app) = key_sets();
    let queries = Arc::new(Mutex::new(Vec::new()));
    let keys = move |State(seen): State<Arc<Mutex<Vec<String>>>>, RawQuery(q): RawQuery| {
        let q = q.unwrap_or_default();
        let for_app =
            url::form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "appid" && v == CLIENT_ID);
        seen.lock().unwrap().push(q);
        let body = if for_app { with_app } else { plain };
        async move { Json(body) }
    };
    let app = Router::new()
        .route("/tenant/discovery/v2.0/keys", get(keys))
        .with_state(queries.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let jwks_uri = format!("http://{addr}/tenant/discovery/v2.0/keys?p=keep-me");
    KeyServer {
        jwks_uri: Url::parse(&jwks_uri).unwrap(),
        queries,
    }
}

fn now() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since.as_secs()).unwrap()
}

const ISSUER: &str = "https://login.test/tenant/v2.0";

fn metadata(jwks_uri: Url) -> ProviderMetadata {
    ProviderMetadata {
        issuer: ISSUER.into(),
        authorization_endpoint: Url::parse("https://login.test/a").unwrap(),
        token_endpoint: Url::parse("https://login.test/t").unwrap(),
        jwks_uri,
        device_authorization_endpoint: None,
        id_token_signing_alg_values_supported: vec!["RS256".into()],
        authorization_response_iss_parameter_supported: false,
    }
}

/// An id_token signed with the app key, naming `kid`.
fn id_token(kid: &str) -> IdToken {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": "user-1", "aud": CLIENT_ID, "nonce": NONCE,
        "iat": now(), "exp": now() + 3600, "tid": "tenant",
    });
    let key = EncodingKey::from_rsa_pem(APP_PEM.as_bytes()).unwrap();
    IdToken::new(jsonwebtoken::encode(&header, &claims, &key).unwrap())
}

/// A validator holding the plain key set, as a sign-in starts with.
async fn validator(server: &KeyServer, client: &TokenClient) -> IdTokenValidator {
    let meta = metadata(server.jwks_uri.clone());
    let validator = IdTokenValidator::fetch(client, meta).await.unwrap();
    server.queries.lock().unwrap().clear();
    validator
}

fn client() -> TokenClient {
    TokenClient::new(TokenClientConfig::default()).unwrap()
}

#[tokio::test]
async fn a_custom_signing_key_is_found_at_the_appid_key_set() {
    let server = key_server().await;
    let client = client();
    let validator = validator(&server, &client).await.with_app_keys();
    let token = id_token(APP_KID);
    assert!(matches!(
        validator.validate(&token, CLIENT_ID, NONCE, now()),
        Err(IdTokenError::UnknownKey(kid)) if kid == APP_KID
    ));
    let claims = validator
        .validate_fetching(&client, &token, CLIENT_ID, Some(NONCE), now())
        .await
        .expect("the app's own key set has the key");
    assert_eq!(claims.sub, "user-1");
    let mut queries = server.queries.lock().unwrap().clone();
    queries.sort();
    assert_eq!(
        queries,
        [
            "p=keep-me".to_owned(),
            format!("p=keep-me&appid={CLIENT_ID}")
        ],
        "the plain set is fetched again and the appid set once, other parameters kept"
    );
}

#[tokio::test]
async fn without_app_keys_the_appid_set_is_not_asked() {
    let server = key_server().await;
    let client = client();
    let validator = validator(&server, &client).await;
    let err = validator
        .validate_fetching(&client, &id_token(APP_KID), CLIENT_ID, Some(NONCE), now())
        .await
        .unwrap_err();
    assert!(matches!(err, IdTokenError::UnknownKey(kid) if kid == APP_KID));
    assert_eq!(*server.queries.lock().unwrap(), ["p=keep-me"]);
}

#[tokio::test]
async fn a_key_in_neither_set_is_still_unknown() {
    let server = key_server().await;
    let client = client();
    let validator = validator(&server, &client).await.with_app_keys();
    let err = validator
        .validate_fetching(&client, &id_token("nowhere"), CLIENT_ID, None, now())
        .await
        .unwrap_err();
    assert!(matches!(&err, IdTokenError::UnknownKey(kid) if kid == "nowhere"));
    assert!(err.to_string().contains("application's own"), "{err}");
    assert_eq!(server.queries.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_known_key_needs_no_fetch_and_a_fetch_failure_is_a_keys_error() {
    let server = key_server().await;
    let client = client();
    let validator = validator(&server, &client).await.with_app_keys();
    let claims = validator
        .validate_fetching(&client, &id_token("tenant-key-1"), CLIENT_ID, None, now())
        .await
        .expect("the plain set has the key under this id");
    assert_eq!(
        claims.aud,
        reconnect_oauth::id_token::Audience::One(CLIENT_ID.into())
    );
    assert!(server.queries.lock().unwrap().is_empty());

    let gone = Url::parse("http://127.0.0.1:9/keys").unwrap();
    let jwks: JwkSet = serde_json::from_value(key_sets().0).unwrap();
    let offline = IdTokenValidator::new(metadata(gone), jwks).with_app_keys();
    let err = offline
        .validate_fetching(&client, &id_token(APP_KID), CLIENT_ID, None, now())
        .await
        .unwrap_err();
    assert!(matches!(err, IdTokenError::Keys(_)), "{err:?}");
}
