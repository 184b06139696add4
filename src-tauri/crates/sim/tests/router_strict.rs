//! In-process tests of the strict simulator: app registrations, tenants and
//! issuers, redirect platforms, custom signing keys and strict rotation.
//! Each rule is met the way a client meets it on Entra: an error page with
//! no redirect, or an error at the token endpoint.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use reconnect_sim::{
    AppRegistration, Audience, CONSUMERS_TENANT_ID, Platform, RedirectUri, Rotation, SimConfig,
    SimState,
};

const REDIRECT: &str = "http://localhost:53100/";
const DANA: &str = "dana@outlook.com";

fn authorize(tenant: &str, client: &str, redirect: &str, scope: &str) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", client),
            ("response_type", "code"),
            ("redirect_uri", redirect),
            ("scope", scope),
            ("state", "st"),
            ("nonce", "n"),
        ])
        .finish();
    format!("/{tenant}/oauth2/v2.0/authorize?{query}")
}

/// Signs `upn` in through `tenant` (auto-approved): the code, or the page that ended it.
async fn sign_in(
    router: &axum::Router,
    state: &SimState,
    (tenant, client, redirect): (&str, &str, &str),
    upn: &str,
) -> Result<String, Answer> {
    state.set_auto_approve(Some(upn));
    let answer = get(router, &authorize(tenant, client, redirect, SCOPE)).await;
    if answer.status != StatusCode::FOUND {
        return Err(answer);
    }
    let location = answer.headers["location"].to_str().expect("location");
    let url = url::Url::parse(location).expect("url");
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned());
    code.ok_or(answer)
}

/// Redeems a code, with whatever extra fields and headers the client sends.
async fn redeem(
    router: &axum::Router,
    (tenant, client, redirect): (&str, &str, &str),
    code: &str,
    extra: &[(&str, &str)],
    origin: Option<&str>,
) -> Answer {
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("client_id", client),
        ("code", code),
        ("redirect_uri", redirect),
    ];
    pairs.extend_from_slice(extra);
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let mut request = Request::post(format!("/{tenant}/oauth2/v2.0/token"))
        .header(header::HOST, "127.0.0.1:4000")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(origin) = origin {
        request = request.header(header::ORIGIN, origin);
    }
    send(router, request.body(Body::from(body)).expect("request")).await
}

fn page_code(answer: &Answer) -> Option<u32> {
    let start = answer.text.find("AADSTS")? + "AADSTS".len();
    answer.text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

fn app(id: &str, f: impl FnOnce(&mut AppRegistration)) -> AppRegistration {
    let mut app = AppRegistration::desktop(id);
    f(&mut app);
    app
}

#[tokio::test]
async fn an_unknown_client_is_refused_everywhere_unless_lenient() {
    let (router, state) = sim();
    let page = get(&router, &authorize("common", "nobody", REDIRECT, SCOPE)).await;
    assert_eq!(
        (page.status, page_code(&page)),
        (StatusCode::BAD_REQUEST, Some(700016))
    );
    assert!(
        page.headers.get("location").is_none(),
        "no redirect to an unverified URI"
    );
    let device = post_form(
        &router,
        "/organizations/oauth2/v2.0/devicecode",
        &[("client_id", "nobody"), ("scope", SCOPE)],
    )
    .await;
    entra_error(&device, 400, "unauthorized_client", 700016);
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    state.remove_app(CLIENT).expect("remove");
    entra_error(
        &refresh(&router, &rt(&tokens)).await,
        400,
        "unauthorized_client",
        700016,
    );
    let minted = post_json(
        &router,
        "/_sim/grants",
        serde_json::json!({"upn": ALICE, "client_id": "nobody", "scope": SCOPE}),
    )
    .await;
    assert_eq!(minted.status, StatusCode::NOT_FOUND, "{}", minted.text);

    let lenient = SimState::new(&SimConfig {
        lenient: true,
        ..SimConfig::default()
    })
    .expect("state");
    let router = reconnect_sim::app(lenient.clone());
    let code = sign_in(
        &router,
        &lenient,
        ("common", "nobody", "https://any.test/x"),
        ALICE,
    )
    .await;
    assert!(code.is_ok(), "--lenient answers anyone");
}

#[tokio::test]
async fn redirect_uris_must_be_registered_and_match_as_entra_matches_them() {
    let (router, state) = sim();
    for (redirect, ok) in [
        ("http://localhost:1/", true),
        ("http://localhost:65000/", true),
        ("http://localhost:1/callback", true),
        ("http://localhost:1/Callback", false),
        ("http://localhost:1/other", false),
        ("http://127.0.0.1:1/", false),
        ("https://app.test/", false),
    ] {
        let result = sign_in(&router, &state, ("common", CLIENT, redirect), ALICE).await;
        match result {
            Ok(_) => assert!(ok, "{redirect} should be refused"),
            Err(page) => {
                assert!(!ok, "{redirect} should work: {}", page.text);
                assert_eq!(page_code(&page), Some(50011), "{redirect}");
                assert!(page.headers.get("location").is_none());
                assert!(page.text.contains("Mobile and desktop applications"));
            }
        }
    }
    state
        .register_app(app("bare", |a| a.redirect_uris.clear()))
        .expect("register");
    let none = sign_in(&router, &state, ("common", "bare", REDIRECT), ALICE).await;
    assert_eq!(none.err().and_then(|p| page_code(&p)), Some(500113));
}

#[tokio::test]
async fn single_tenant_apps_refuse_the_multi_tenant_endpoints() {
    let (router, state) = sim();
    let contoso = state.tenant_of(ALICE);
    state
        .register_app(app("single", |a| a.sign_in_audience = Audience::Single))
        .expect("register");
    for tenant in ["common", "organizations"] {
        let page = sign_in(&router, &state, (tenant, "single", REDIRECT), ALICE).await;
        assert_eq!(
            page.err().and_then(|p| page_code(&p)),
            Some(50194),
            "{tenant}"
        );
    }
    let at = (contoso.as_str(), "single", REDIRECT);
    let code = sign_in(&router, &state, at, ALICE)
        .await
        .expect("its own tenant works");
    let tokens = redeem(&router, at, &code, &[], None).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.text);
    let rt = rt(&tokens.json());
    let at_common = post_form(
        &router,
        "/common/oauth2/v2.0/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "single"),
            ("refresh_token", &rt),
        ],
    )
    .await;
    entra_error(&at_common, 400, "invalid_request", 50194);
    let elsewhere = sign_in(
        &router,
        &state,
        ("fabrikam.test", "single", REDIRECT),
        ALICE,
    )
    .await;
    assert_eq!(elsewhere.err().and_then(|p| page_code(&p)), Some(90002));
}

#[tokio::test]
async fn personal_accounts_sign_in_only_where_the_app_and_endpoint_take_them() {
    let (router, state) = sim();
    state.add_user(DANA, None).expect("dana");
    let refused = sign_in(&router, &state, ("common", CLIENT, REDIRECT), DANA).await;
    assert_eq!(refused.err().and_then(|p| page_code(&p)), Some(50020));
    let consumers = sign_in(&router, &state, ("consumers", CLIENT, REDIRECT), DANA).await;
    assert_eq!(consumers.err().and_then(|p| page_code(&p)), Some(700016));

    state
        .register_app(app("both", |a| {
            a.sign_in_audience = Audience::MultiAndPersonal
        }))
        .expect("register");
    let at = ("consumers", "both", REDIRECT);
    let code = sign_in(&router, &state, at, DANA)
        .await
        .expect("dana at /consumers");
    let tokens = redeem(&router, at, &code, &[], None).await.json();
    let id = claims(tokens["id_token"].as_str().expect("id_token"));
    assert_eq!(id["tid"], CONSUMERS_TENANT_ID);
    assert_eq!(
        id["iss"],
        format!("http://127.0.0.1:4000/{CONSUMERS_TENANT_ID}/v2.0")
    );

    let at = ("organizations", "both", REDIRECT);
    let code = sign_in(&router, &state, at, ALICE)
        .await
        .expect("alice at /organizations");
    let tokens = redeem(&router, at, &code, &[], None).await.json();
    let id = claims(tokens["id_token"].as_str().expect("id_token"));
    let contoso = state.tenant_of(ALICE);
    assert_eq!(id["tid"], contoso.as_str());
    assert_eq!(id["iss"], format!("http://127.0.0.1:4000/{contoso}/v2.0"));
    let personal_only = app("msa", |a| a.sign_in_audience = Audience::Personal);
    state.register_app(personal_only).expect("register");
    let page = sign_in(&router, &state, ("common", "msa", REDIRECT), DANA).await;
    assert_eq!(page.err().and_then(|p| page_code(&p)), Some(9002331));
}

#[tokio::test]
async fn the_matched_redirect_uris_platform_decides_what_the_redemption_needs() {
    let (router, state) = sim();
    let spa = app("spa", |a| {
        a.redirect_uris = vec![RedirectUri {
            uri: "http://localhost/spa".into(),
            platform: Platform::Spa,
        }];
    });
    let web = app("web", |a| {
        a.redirect_uris = vec![RedirectUri {
            uri: "https://app.test/signin".into(),
            platform: Platform::Web,
        }];
        a.client_secret = Some("s3cret".into());
    });
    state.register_app(spa).expect("spa");
    state.register_app(web).expect("web");

    let at = ("common", "spa", "http://localhost:9/spa");
    let code = sign_in(&router, &state, at, ALICE).await.expect("code");
    entra_error(
        &redeem(&router, at, &code, &[], None).await,
        400,
        "invalid_request",
        9002327,
    );
    let code = sign_in(&router, &state, at, ALICE).await.expect("code");
    let ok = redeem(&router, at, &code, &[], Some("http://localhost:9")).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(
        ok.json()["refresh_token_expires_in"],
        DAY,
        "SPA refresh tokens live a day"
    );

    let at = ("common", "web", "https://app.test/signin");
    let code = sign_in(&router, &state, at, ALICE).await.expect("code");
    entra_error(
        &redeem(&router, at, &code, &[], None).await,
        401,
        "invalid_client",
        7000218,
    );
    let code = sign_in(&router, &state, at, ALICE).await.expect("code");
    let wrong = redeem(&router, at, &code, &[("client_secret", "nope")], None).await;
    entra_error(&wrong, 401, "invalid_client", 7000215);
    let code = sign_in(&router, &state, at, ALICE).await.expect("code");
    let ok = redeem(&router, at, &code, &[("client_secret", "s3cret")], None).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);

    let at = ("common", CLIENT, REDIRECT);
    let code = sign_in(&router, &state, at, ALICE).await.expect("code");
    let cross = redeem(&router, at, &code, &[], Some("http://localhost:9")).await;
    entra_error(&cross, 400, "invalid_request", 9002326);
}

#[tokio::test]
async fn scopes_of_two_resources_are_refused_with_28000() {
    let (router, state) = sim();
    let two = "openid offline_access https://graph.microsoft.com/User.Read api://other-api/read";
    state.set_auto_approve(Some(ALICE));
    let answer = get(&router, &authorize("common", CLIENT, REDIRECT, two)).await;
    let location = answer.headers["location"].to_str().expect("a redirect");
    assert!(
        location.contains("error=invalid_request") && location.contains("AADSTS28000"),
        "{location}"
    );
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    let refused = post_form(
        &router,
        "/common/oauth2/v2.0/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT),
            ("refresh_token", &rt(&tokens)),
            ("scope", two),
        ],
    )
    .await;
    entra_error(&refused, 400, "invalid_request", 28000);
}

#[tokio::test]
async fn a_custom_signing_key_is_published_only_for_its_app() {
    let (router, state) = sim();
    state
        .register_app(app("custom", |a| a.custom_signing_key = true))
        .expect("register");
    let at = ("organizations", "custom", REDIRECT);
    let code = sign_in(&router, &state, at, ALICE).await.expect("code");
    let tokens = redeem(&router, at, &code, &[], None).await.json();
    let header =
        jsonwebtoken::decode_header(tokens["id_token"].as_str().expect("id")).expect("header");
    let kid = header.kid.expect("kid");
    let kids = |doc: serde_json::Value| -> Vec<String> {
        doc["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| k["kid"].as_str().map(str::to_owned))
            .collect()
    };
    let plain = kids(
        get(&router, "/organizations/discovery/v2.0/keys")
            .await
            .json(),
    );
    assert!(
        !plain.contains(&kid),
        "{kid} must not be in the plain set {plain:?}"
    );
    let for_app = kids(
        get(&router, "/organizations/discovery/v2.0/keys?appid=custom")
            .await
            .json(),
    );
    assert!(
        for_app.contains(&kid),
        "{kid} is in the app's set {for_app:?}"
    );
    let for_other = kids(
        get(
            &router,
            &format!("/organizations/discovery/v2.0/keys?appid={CLIENT}"),
        )
        .await
        .json(),
    );
    assert_eq!(
        for_other, plain,
        "an app without a custom key gets the plain set"
    );
}

#[tokio::test]
async fn strict_rotation_revokes_the_grant_when_a_used_refresh_token_returns() {
    let (router, state) = sim_with(vec![app(CLIENT, |a| a.rotation = Rotation::Strict)]);
    let first = grant(&router, ALICE, serde_json::json!({})).await;
    let second = refresh(&router, &rt(&first)).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    let third = refresh(&router, &rt(&second.json())).await;
    assert_eq!(third.status, StatusCode::OK, "the newest works once");
    let replayed = refresh(&router, &rt(&first)).await;
    let body = entra_error(&replayed, 400, "invalid_grant", 70000);
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("used already"))
    );
    let newest = refresh(&router, &rt(&third.json())).await;
    entra_error(&newest, 400, "invalid_grant", 70000);
    let _ = state;

    let (router, _) = sim();
    let first = grant(&router, ALICE, serde_json::json!({})).await;
    assert_eq!(refresh(&router, &rt(&first)).await.status, StatusCode::OK);
    assert_eq!(
        refresh(&router, &rt(&first)).await.status,
        StatusCode::OK,
        "Entra keeps old ones"
    );
}

#[tokio::test]
async fn tenants_exist_or_are_refused_and_b2c_paths_have_their_own_issuer() {
    let (router, state) = sim_with(vec![app("b2c-app", |a| {
        a.home_tenant = "fabrikamb2c.onmicrosoft.com".into()
    })]);
    let unknown = get(
        &router,
        "/nowhere.test/v2.0/.well-known/openid-configuration",
    )
    .await;
    entra_error(&unknown, 400, "invalid_request", 90002);
    let b2c = "/fabrikamb2c.onmicrosoft.com/B2C_1_signin";
    let doc = get(
        &router,
        &format!("{b2c}/v2.0/.well-known/openid-configuration"),
    )
    .await
    .json();
    let tid = reconnect_sim::tenant::tenant_id("fabrikamb2c");
    assert_eq!(doc["issuer"], format!("http://127.0.0.1:4000/{tid}/v2.0/"));
    assert_eq!(
        doc["authorization_endpoint"],
        format!("http://127.0.0.1:4000{b2c}/oauth2/v2.0/authorize")
    );
    assert!(
        doc.get("device_authorization_endpoint").is_none(),
        "B2C has no device flow"
    );
    let at = (
        "fabrikamb2c.onmicrosoft.com/B2C_1_signin",
        "b2c-app",
        REDIRECT,
    );
    let code = sign_in(&router, &state, at, "carol@fabrikam.test").await;
    assert!(code.is_err(), "no such user yet");
    state.add_user("carol@fabrikam.test", None).expect("carol");
    let code = sign_in(&router, &state, at, "carol@fabrikam.test")
        .await
        .expect("code");
    let tokens = redeem(&router, at, &code, &[], None).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.text);
    let id = claims(tokens.json()["id_token"].as_str().expect("id"));
    assert_eq!(id["iss"], format!("http://127.0.0.1:4000/{tid}/v2.0/"));
    assert_eq!(id["tid"], tid.as_str());
}

#[tokio::test]
async fn the_log_records_capabilities_on_sign_ins_and_request_ids_on_token_calls() {
    let (router, state) = sim();
    state.set_auto_approve(Some(ALICE));
    let claims = r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#;
    let uri = format!(
        "{}&claims={}",
        authorize("common", CLIENT, REDIRECT, SCOPE),
        urlencode(claims)
    );
    assert_eq!(get(&router, &uri).await.status, StatusCode::FOUND);
    let tokens = grant(&router, ALICE, serde_json::json!({})).await;
    refresh(&router, &rt(&tokens)).await;
    let log = state.log();
    let signin = log
        .iter()
        .find(|e| e.endpoint == "authorize")
        .expect("authorize logged");
    assert_eq!(signin.client_capabilities, vec!["cp1".to_owned()]);
    assert!(!signin.claims_passed, "capabilities alone are no challenge");
    let token = log
        .iter()
        .rev()
        .find(|e| e.endpoint == "token")
        .expect("token logged");
    assert_eq!(
        token.client_request_id.as_deref(),
        Some("0f0f0f0f-1111-2222-3333-444444444444")
    );
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
