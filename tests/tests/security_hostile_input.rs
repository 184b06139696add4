//! Hostile input, zero panics: bounded property runs over every parser that
//! reads what another party sent.
//!
//! - the unverified JWT claims reader (`reconnect_core::jwt`);
//! - the token-endpoint success parser (`reconnect_oauth::TokenResponse::parse`),
//!   which must also keep tokens out of its errors and `Debug`;
//! - id_token validation (`reconnect_oauth::IdTokenValidator`) with garbage,
//!   forged and genuinely signed tokens carrying random claims;
//! - the decoder with JSON error bodies whose fields have hostile types (the
//!   decoder's own `core/tests/decode_fuzz.rs` covers random bytes and text);
//! - the simulator's form and JSON handlers, driven through its router.
//!
//! Each run prints how many inputs it tried and how many held.

use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reconnect_core::secret::IdToken;
use reconnect_e2e::secrets::announce;
use serde_json::{Map, Value};

const SIM_KEY_PEM: &[u8] = include_bytes!("../../src-tauri/crates/sim/fixtures/signing-key.pem");
const SIM_KID: &str = reconnect_sim::keys::RSA_KID;
const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
const NONCE: &str = "nonce-of-this-sign-in";
const NOW: i64 = 1_790_000_000;

/// Runs `check` over `cases` inputs from `strategy`, prints the tally and
/// fails with proptest's minimal failing input when one did not hold.
fn hold<S: Strategy>(
    what: &str,
    cases: u32,
    strategy: S,
    check: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let tried = AtomicUsize::new(0);
    let result = runner.run(&strategy, |value| {
        tried.fetch_add(1, Ordering::Relaxed);
        check(value)
    });
    let tried = tried.load(Ordering::Relaxed);
    match result {
        Ok(()) => announce(&format!(
            "hostile input, {what}: {tried}/{tried} held, panics 0"
        )),
        Err(e) => {
            announce(&format!(
                "hostile input, {what}: FAILED after {tried} inputs"
            ));
            panic!("{what}: {e}");
        }
    }
}

/// Alice's tenant (contoso's), as the simulator names it.
fn tenant() -> String {
    reconnect_sim::tenant::home_tenant("alice@contoso.test")
}

fn issuer() -> String {
    format!("http://127.0.0.1:9/{}/v2.0", tenant())
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Object keys real parsers look for, mixed with random ones.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "error", "error_description", "error_codes", "suberror", "timestamp", "trace_id",
            "correlation_id", "claims", "access_token", "refresh_token", "id_token", "expires_in",
            "ext_expires_in", "refresh_token_expires_in", "token_type", "scope", "client_info",
            "iss", "aud", "sub", "exp", "nbf", "iat", "nonce", "tid", "oid", "amr", "acrs",
            "xms_cc", "preferred_username", "alg", "kid", "typ", "upn", "password", "client_id",
            "spa", "mfa", "code", "outage", "count", "retry_after", "delay_ms", "status",
            "advance_seconds", "mfa_required", "disabled", "ca_blocked", "consent_revoked",
            "sign_in_frequency_seconds", "idle_limit_seconds", "home_tenant", "sign_in_audience",
            "redirect_uris", "uri", "platform", "public_client_flows", "custom_signing_key",
            "rotation", "client_secret",
        ]).prop_map(str::to_owned),
        1 => "\\PC{0,12}",
    ]
}

/// Leaves with the awkward values: extremes, wrong types, outage names.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(vec![
            i64::MIN,
            i64::MAX,
            -1,
            0,
            1,
            400,
            429,
            503,
            599,
            700082,
            4_294_967_296,
            NOW,
        ])
        .prop_map(Value::from),
        prop::sample::select(vec![
            "",
            "503",
            "429",
            "html500",
            "drop",
            "none",
            "RS256",
            "HS256",
            "ES256",
            "invalid_grant",
            "alice@contoso.test",
            "@",
            "a@b",
            "AADSTS700082: expired",
            "\u{0}",
            "%zz",
            "{tenantid}",
            "multi_and_personal",
            "mobile_desktop",
            "spa",
            "web",
            "strict",
            "http://localhost",
        ])
        .prop_map(Value::from),
        "\\PC{0,40}".prop_map(Value::from),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..7)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A JSON object with known and random keys (what handlers usually get).
fn object() -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), json()), 0..8)
        .prop_map(|pairs| Value::Object(pairs.into_iter().collect()))
}

/// Things that look like a JWT to different degrees.
fn jwt_like() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        object().prop_map(|v| b64(v.to_string().as_bytes())),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| b64(&b)),
        "[A-Za-z0-9_=+/!.-]{0,40}",
    ];
    prop_oneof![
        "\\PC{0,200}",
        prop::collection::vec(segment, 0..5).prop_map(|parts| parts.join(".")),
    ]
}

#[test]
fn jwt_claims_reader_survives_hostile_tokens() {
    hold("unverified JWT claims", 3_000, jwt_like(), |token| {
        let payload = reconnect_core::jwt::payload_unverified(&token);
        let claims = reconnect_core::jwt::display_claims(&token);
        // The two readers agree on whether the token has a JSON object payload.
        prop_assert!(claims.is_err() || payload.is_ok());
        Ok(())
    });
}

/// A value that must never show up in an error or a `Debug` dump.
const MARKER: &str = "SECRET-MARKER-7f3a9c";

#[test]
fn token_response_parser_survives_hostile_bodies_and_keeps_tokens_out_of_errors() {
    let bodies = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        object().prop_map(|v| v.to_string().into_bytes()),
        (
            object(),
            prop::sample::subsequence(vec!["access_token", "refresh_token", "id_token"], 0..=3),
            any::<i64>()
        )
            .prop_map(|(mut v, keys, expires)| {
                if let Some(map) = v.as_object_mut() {
                    for k in keys {
                        map.insert(k.to_owned(), Value::from(format!("{MARKER}-{k}")));
                    }
                    map.insert("expires_in".into(), Value::from(expires));
                }
                v.to_string().into_bytes()
            }),
    ];
    hold("token response parser", 3_000, bodies, |body| {
        match reconnect_oauth::TokenResponse::parse(&body, NOW) {
            Ok(parsed) => {
                let shown = format!("{parsed:?}");
                prop_assert!(!shown.contains(MARKER), "a token reached Debug: {shown}");
                prop_assert!(
                    parsed
                        .tokens
                        .access_token
                        .as_ref()
                        .is_some_and(|t| !t.is_empty())
                );
                let _ = parsed.tokens.access_valid_for(NOW, 300);
            }
            Err(e) => {
                let shown = format!("{e} {e:?}");
                prop_assert!(!shown.contains(MARKER), "a token reached an error: {shown}");
            }
        }
        Ok(())
    });
}

fn validator() -> reconnect_oauth::IdTokenValidator {
    let state =
        reconnect_sim::SimState::new(&reconnect_sim::SimConfig::default()).expect("sim state");
    let jwks = serde_json::from_value(state.jwks()).expect("the simulator's JWKS parses");
    let meta = serde_json::from_value(serde_json::json!({
        "issuer": issuer(),
        "authorization_endpoint": "http://127.0.0.1:9/authorize",
        "token_endpoint": "http://127.0.0.1:9/token",
        "jwks_uri": "http://127.0.0.1:9/keys",
    }))
    .expect("metadata");
    reconnect_oauth::IdTokenValidator::new(meta, jwks)
}

#[test]
fn id_token_validation_refuses_garbage_and_forgeries() {
    let v = validator();
    hold(
        "id_token validation, unsigned/garbage/forged",
        3_000,
        jwt_like(),
        |token| {
            let result = v.validate(&IdToken::new(token), CLIENT_ID, NONCE, NOW);
            prop_assert!(result.is_err(), "an unsigned or forged token was accepted");
            let message = result.err().map(|e| e.to_string()).unwrap_or_default();
            prop_assert!(!message.is_empty());
            Ok(())
        },
    );
}

#[test]
fn id_token_validation_accepts_only_the_right_claims_when_signed() {
    let v = validator();
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(SIM_KEY_PEM).expect("fixture key");
    let claims = (
        prop::option::of(prop_oneof![
            Just(issuer()),
            "\\PC{0,20}".prop_map(|s| format!("{}{s}", issuer()))
        ]),
        // Always some `aud` here: a token without one is a known gap (see SECURITY.md).
        prop_oneof![
            Just(Value::from(CLIENT_ID)),
            Just(serde_json::json!([CLIENT_ID, "other"])),
            leaf()
        ]
        .prop_map(Some),
        prop::option::of(prop_oneof![Just(Value::from(NONCE)), leaf()]),
        prop::option::of(prop_oneof![
            (NOW - 1_000..NOW + 1_000).prop_map(Value::from),
            leaf()
        ]),
        object(),
    );
    hold(
        "id_token validation, signed with random claims",
        120,
        claims,
        |(iss, aud, nonce, exp, extra)| {
            let mut map = extra.as_object().cloned().unwrap_or_default();
            for (k, val) in [
                ("iss", iss.map(Value::from)),
                ("aud", aud),
                ("nonce", nonce),
                ("exp", exp),
            ] {
                match val {
                    Some(val) => map.insert(k.into(), val),
                    None => map.remove(k),
                };
            }
            map.entry("sub").or_insert_with(|| Value::from("subject"));
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
            header.kid = Some(SIM_KID.into());
            let token =
                jsonwebtoken::encode(&header, &Value::Object(map.clone()), &key).expect("sign");
            if let Ok(claims) = v.validate(&IdToken::new(token), CLIENT_ID, NONCE, NOW) {
                prop_assert_eq!(claims.iss.trim_end_matches('/'), issuer());
                prop_assert_eq!(claims.nonce.as_deref(), Some(NONCE));
                prop_assert!(claims.exp + reconnect_oauth::id_token::CLOCK_SKEW_SECONDS > NOW);
                let aud_ok = match map.get("aud") {
                    Some(Value::String(a)) => a == CLIENT_ID,
                    Some(Value::Array(list)) => list.iter().any(|a| a == CLIENT_ID),
                    _ => false,
                };
                prop_assert!(
                    aud_ok,
                    "accepted a token for another audience: {:?}",
                    map.get("aud")
                );
            }
            Ok(())
        },
    );
}

#[test]
fn decoder_survives_error_bodies_with_hostile_field_types() {
    use reconnect_core::decode::{TokenResponse, decode_token_response};
    let cases = (
        prop::sample::select(vec![200u16, 400, 401, 403, 429, 500, 503]),
        object(),
        prop::option::of("\\PC{0,30}"),
    );
    hold(
        "decoder, JSON error bodies",
        3_000,
        cases,
        |(status, body, retry)| {
            let bytes = body.to_string().into_bytes();
            let verdict = decode_token_response(
                &TokenResponse {
                    status,
                    retry_after: retry.as_deref(),
                    content_type: Some("application/json"),
                    body: &bytes,
                },
                NOW,
            );
            prop_assert!(!verdict.title.is_empty() && !verdict.admin_message.is_empty());
            // Nothing that is not an OAuth error may say "reconnect needed", and
            // neither may a server failure or throttling, whatever its body says.
            let says_error = ["error", "error_codes", "error_description"]
                .iter()
                .any(|k| body.get(*k).is_some());
            if !says_error || matches!(status, 429 | 500 | 503) {
                prop_assert!(
                    !verdict.needs_reconnect(),
                    "HTTP {status} {body} was read as reconnect needed"
                );
            }
            Ok(())
        },
    );
}

mod sim_handlers {
    use std::time::Duration;

    use axum::body::Body;
    use axum::http::{Method, Request};
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    use super::*;

    /// One hostile request to one of the simulator's routes.
    #[derive(Debug, Clone)]
    pub struct Hostile {
        pub method: Method,
        pub path: String,
        pub content_type: Option<&'static str>,
        pub body: Vec<u8>,
    }

    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("alice@contoso.test".to_owned()),
            Just("common".to_owned()),
            Just(tenant()),
            "\\PC{0,24}",
        ]
        .prop_map(|s| {
            url::form_urlencoded::byte_serialize(s.as_bytes())
                .collect::<String>()
                .replace('+', "%20")
        })
    }

    fn form_body() -> impl Strategy<Value = Vec<u8>> {
        let value = prop_oneof![
            prop::sample::select(vec![
                "refresh_token",
                "authorization_code",
                "password",
                "client_credentials",
                "openid offline_access"
            ])
            .prop_map(str::to_owned),
            "\\PC{0,60}",
        ];
        prop_oneof![
            prop::collection::vec((key(), value), 0..8).prop_map(|pairs| {
                let mut s = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in pairs {
                    s.append_pair(&k, &v);
                }
                s.finish().into_bytes()
            }),
            prop::collection::vec(any::<u8>(), 0..300),
        ]
    }

    /// A form body as a query string: kept when it is one, else percent-encoded whole.
    fn as_query(form: &[u8]) -> String {
        match std::str::from_utf8(form) {
            Ok(text) if text.bytes().all(|b| b.is_ascii_graphic() && b != b'#') => text.to_owned(),
            _ => url::form_urlencoded::byte_serialize(form).collect(),
        }
    }

    fn json_body() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => object().prop_map(|v| v.to_string().into_bytes()),
            1 => json().prop_map(|v| v.to_string().into_bytes()),
            1 => prop::collection::vec(any::<u8>(), 0..200),
        ]
    }

    /// The secret hostile registrations carry: no answer may ever show it.
    pub const SECRET: &str = "hostile-secret-4f1d9c";

    /// An app registration (`POST /_sim/apps`) of the right shape with
    /// hostile values: ids and URIs Entra would refuse, unknown platforms and
    /// audiences, markup, and sometimes the [`SECRET`].
    fn registration() -> impl Strategy<Value = Value> {
        let text = || {
            prop_oneof![
                prop::sample::select(vec![
                    "hostile-app",
                    "",
                    "a b",
                    "<script>alert(1)</script>",
                    "../../_sim/users",
                    "contoso.test",
                    "http://localhost",
                    "http://localhost:5000/cb",
                    "http://127.0.0.1/cb",
                    "http://[::1]/cb",
                    "https://app.test/cb",
                    "http://evil.test/cb",
                    "javascript:alert(1)",
                    "ms-app://x",
                    "single",
                    "multi",
                    "multi_and_personal",
                    "personal",
                    "mobile_desktop",
                    "spa",
                    "web",
                    "strict",
                    "entra",
                ])
                .prop_map(Value::from),
                "\\PC{0,40}".prop_map(Value::from),
                leaf(),
            ]
        };
        let redirect = (text(), text())
            .prop_map(|(uri, platform)| serde_json::json!({ "uri": uri, "platform": platform }));
        (
            text(),
            text(),
            prop::collection::vec(redirect, 0..4),
            prop::option::of(text()),
            any::<bool>(),
            prop::collection::vec((key(), json()), 0..3),
        )
            .prop_map(|(id, audience, redirects, home, secret, extra)| {
                let mut app = serde_json::json!({
                    "client_id": id,
                    "sign_in_audience": audience,
                    "redirect_uris": redirects,
                });
                if let Some(home) = home {
                    app["home_tenant"] = home;
                }
                if secret {
                    app["client_secret"] = Value::from(SECRET);
                }
                for (k, v) in extra {
                    if k != "client_secret" {
                        app[k] = v;
                    }
                }
                app
            })
    }

    fn content_type() -> impl Strategy<Value = Option<&'static str>> {
        prop::sample::select(vec![
            Some("application/json"),
            Some("application/x-www-form-urlencoded"),
            Some("text/plain"),
            Some("application/json; charset=latin1"),
            None,
        ])
    }

    fn hostile() -> impl Strategy<Value = Hostile> {
        let app_body = prop_oneof![
            3 => registration().prop_map(|v| v.to_string().into_bytes()),
            1 => json_body(),
        ];
        (
            0..12usize,
            segment(),
            segment(),
            content_type(),
            form_body(),
            json_body(),
            app_body,
        )
            .prop_map(|(route, a, b, content_type, form, json, app)| {
                let (method, path, body) = match route {
                    0 => (Method::POST, format!("/{a}/oauth2/v2.0/token"), form),
                    1 => (Method::POST, format!("/{a}/oauth2/v2.0/authorize"), form),
                    2 => (
                        Method::GET,
                        format!("/{a}/oauth2/v2.0/authorize?{}", as_query(&form)),
                        Vec::new(),
                    ),
                    3 => (Method::POST, "/_sim/users".to_owned(), json),
                    4 => (Method::POST, format!("/_sim/users/{a}/state"), json),
                    5 => (Method::POST, format!("/_sim/users/{b}/revoke"), json),
                    6 => (Method::POST, "/_sim/grants".to_owned(), json),
                    7 => (Method::POST, "/_sim/faults".to_owned(), json),
                    8 => (Method::POST, "/_sim/clock".to_owned(), json),
                    9 => (Method::POST, "/_sim/apps".to_owned(), app),
                    10 => (Method::DELETE, format!("/_sim/apps/{b}"), Vec::new()),
                    _ => (Method::GET, format!("/_sim/apps/{b}"), Vec::new()),
                };
                // A registration's content type is JSON more often than not.
                let content_type = match route {
                    9 if content_type.is_none() => Some("application/json"),
                    _ => content_type,
                };
                Hostile {
                    method,
                    path,
                    content_type,
                    body,
                }
            })
    }

    pub async fn send(
        state: &reconnect_sim::SimState,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(u16, Vec<u8>), String> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1:9");
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let req = req
            .body(Body::from(body))
            .map_err(|e| format!("request: {e}"))?;
        let answer = tokio::time::timeout(
            Duration::from_secs(5),
            reconnect_sim::app(state.clone()).oneshot(req),
        )
        .await
        .map_err(|_| format!("{path} did not answer within 5 s"))?
        .map_err(|e| format!("{path}: {e}"))?;
        let status = answer.status().as_u16();
        let bytes = answer
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default();
        Ok((status, bytes))
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    /// After the hostile requests, a genuine client still gets tokens.
    async fn genuine_refresh_works(state: &reconnect_sim::SimState) -> Result<(), String> {
        send(state, Method::DELETE, "/_sim/faults", None, Vec::new()).await?;
        let user = serde_json::json!({"upn": "probe@fuzz.test"})
            .to_string()
            .into_bytes();
        let (status, _) = send(
            state,
            Method::POST,
            "/_sim/users",
            Some("application/json"),
            user,
        )
        .await?;
        if status != 201 && status != 409 {
            return Err(format!("creating the probe user answered {status}"));
        }
        // Registered as a tenant would (again: a hostile request may have replaced it).
        let app = serde_json::to_vec(&reconnect_sim::AppRegistration::desktop("probe-client"))
            .map_err(|e| format!("registration: {e}"))?;
        let (status, body) = send(
            state,
            Method::POST,
            "/_sim/apps",
            Some("application/json"),
            app,
        )
        .await?;
        if status != 200 && status != 201 {
            return Err(format!(
                "registering the probe app answered {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        let (status, body) = send(state, Method::GET, "/_sim/apps", None, Vec::new()).await?;
        if status != 200 || contains(&body, SECRET.as_bytes()) {
            return Err(format!(
                "the app list answered {status} or showed a client secret: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        let grant = serde_json::json!({"upn": "probe@fuzz.test", "client_id": "probe-client", "scope": "openid offline_access User.Read"});
        let (status, body) = send(
            state,
            Method::POST,
            "/_sim/grants",
            Some("application/json"),
            grant.to_string().into_bytes(),
        )
        .await?;
        let body: Value =
            serde_json::from_slice(&body).map_err(|e| format!("grant answer {status}: {e}"))?;
        let refresh = body["refresh_token"]
            .as_str()
            .ok_or(format!("grant answer {status} has no refresh token"))?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "refresh_token")
            .append_pair("client_id", "probe-client")
            .append_pair("refresh_token", refresh)
            .append_pair("scope", "openid offline_access User.Read")
            .finish();
        let path = format!(
            "/{}/oauth2/v2.0/token",
            reconnect_sim::tenant::home_tenant("probe@fuzz.test")
        );
        let (status, body) = send(
            state,
            Method::POST,
            &path,
            Some("application/x-www-form-urlencoded"),
            form.into_bytes(),
        )
        .await?;
        if status != 200 {
            return Err(format!(
                "genuine refresh answered {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        Ok(())
    }

    #[test]
    fn simulator_handlers_survive_hostile_forms_and_json() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let requests = AtomicUsize::new(0);
        hold(
            "simulator form and JSON handlers",
            400,
            prop::collection::vec(hostile(), 1..5),
            |batch| {
                rt.block_on(async {
                    let state = reconnect_sim::SimState::new(&reconnect_sim::SimConfig::default())
                        .expect("sim state");
                    let mut outage_queued = false;
                    for h in batch {
                        requests.fetch_add(1, Ordering::Relaxed);
                        let slow = outage_queued && h.path.ends_with("/token");
                        let answer = send(
                            &state,
                            h.method.clone(),
                            &h.path,
                            h.content_type,
                            h.body.clone(),
                        )
                        .await;
                        let (status, body) = match answer {
                            Err(e) if slow => {
                                // A queued `slow` outage may outlast the timeout: that is what was asked for.
                                let _ = e;
                                continue;
                            }
                            other => other.map_err(TestCaseError::fail)?,
                        };
                        prop_assert!(
                            !contains(&body, SECRET.as_bytes()),
                            "{} {} showed a client secret ({status}): {}",
                            h.method,
                            h.path,
                            String::from_utf8_lossy(&body)
                        );
                        if h.path == "/_sim/faults" && status == 201 {
                            outage_queued = true;
                        }
                        let deliberate = outage_queued && h.path.ends_with("/token");
                        prop_assert!(
                            status < 500 || status == 501 || deliberate,
                            "{} {} answered {status}: {}",
                            h.method,
                            h.path,
                            String::from_utf8_lossy(&body)
                        );
                        if h.path.starts_with("/_sim/")
                            && (400..500).contains(&status)
                            && status != 404
                            && status != 405
                        {
                            let parsed: Result<Value, _> = serde_json::from_slice(&body);
                            prop_assert!(
                                parsed.as_ref().is_ok_and(|v| v["error"]
                                    .as_str()
                                    .is_some_and(|m| !m.is_empty())),
                                "{} {} answered {status} without a JSON error: {}",
                                h.method,
                                h.path,
                                String::from_utf8_lossy(&body)
                            );
                        }
                        if h.path.ends_with("/oauth2/v2.0/token") && (400..500).contains(&status) {
                            // 415 is axum's refusal of a body that is not a form.
                            let parsed: Value = serde_json::from_slice(&body).unwrap_or_default();
                            prop_assert!(
                                status == 415 || parsed["error"].is_string(),
                                "token error {status} without an OAuth error body: {}",
                                String::from_utf8_lossy(&body)
                            );
                        }
                    }
                    genuine_refresh_works(&state)
                        .await
                        .map_err(TestCaseError::fail)
                })
            },
        );
        announce(&format!(
            "hostile input, simulator: {} hostile requests sent",
            requests.load(Ordering::Relaxed)
        ));
    }
}

mod callback_queries {
    use std::time::Duration;

    use reconnect_signin::{Callback, Limits, Loopback, LoopbackConfig};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    use super::*;

    const STATE: &str = "Zq3-genuine-state-of-this-sign-in_x9";

    /// A query value: random text, near-misses of the real state, or junk escapes.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,40}",
            Just(format!("{STATE}x")),
            Just(STATE[..STATE.len() - 1].to_owned()),
            Just(STATE.to_uppercase()),
            Just(format!(" {STATE}")),
            prop::sample::select(vec![
                "%zz", "%", "%00", "%ff%fe", "+", "=", "&&", "%2526", "a=b=c"
            ])
            .prop_map(str::to_owned),
            "[a-z]{1,4}".prop_map(|s| s.repeat(700)),
        ]
    }

    /// A raw query string: pairs of known and random keys, encoded or raw.
    fn query() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            3 => prop::sample::select(vec![
                "code", "state", "error", "error_description", "error_subcode", "error_uri", "iss", "session_state",
            ]).prop_map(str::to_owned),
            1 => "\\PC{0,8}",
        ];
        prop::collection::vec((key, value(), any::<bool>()), 0..8).prop_map(|pairs| {
            pairs
                .into_iter()
                .map(|(k, v, encode)| {
                    let enc = |s: &str| {
                        url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                    };
                    let raw = |s: &str| {
                        // Unencoded, except what a request line cannot carry.
                        s.chars()
                            .map(|c| {
                                if c.is_ascii_graphic() && c != '#' {
                                    c.to_string()
                                } else {
                                    c.to_string().bytes().map(|b| format!("%{b:02X}")).collect()
                                }
                            })
                            .collect::<String>()
                    };
                    if encode {
                        format!("{}={}", enc(&k), enc(&v))
                    } else {
                        format!("{}={}", raw(&k), raw(&v))
                    }
                })
                .collect::<Vec<_>>()
                .join("&")
        })
    }

    async fn get(addr: std::net::SocketAddr, target: &str) -> String {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            return String::new();
        };
        let request =
            format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        let _ = stream.write_all(request.as_bytes()).await;
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn callback_query_parser_survives_hostile_queries_and_only_the_genuine_callback_counts() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let config = LoopbackConfig {
            host: "127.0.0.1".into(),
            limits: Limits {
                max_requests: 1_000_000,
                ..Limits::default()
            },
            ..LoopbackConfig::default()
        };
        let mut listener = rt
            .block_on(Loopback::start(&config, STATE.into()))
            .expect("listener starts");
        let addr = listener.addrs()[0];
        hold(
            "callback query parser (real listener)",
            1_500,
            (query(), prop::bool::ANY),
            |(q, on_path)| {
                let target = if on_path {
                    format!("/?{q}")
                } else {
                    format!("/elsewhere?{q}")
                };
                let answer = rt.block_on(get(addr, &target));
                let status: u16 = answer
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                prop_assert!(
                    (400..500).contains(&status),
                    "{target} answered {status} (0 = connection dropped): {}",
                    answer.lines().next().unwrap_or_default()
                );
                prop_assert!(!answer.contains("SECRET"), "echoed input");
                Ok(())
            },
        );
        // The listener still takes the one genuine callback.
        let code = "genuine-code-0123456789";
        let answer = rt.block_on(get(addr, &format!("/?code={code}&state={STATE}")));
        assert!(
            answer.starts_with("HTTP/1.1 303"),
            "the genuine callback after the hostile ones: {answer}"
        );
        match rt.block_on(listener.callback()).expect("a callback") {
            Callback::Code { code: got, .. } => assert_eq!(got.expose(), code),
            other => panic!("expected the code, got {other:?}"),
        }
    }
}
