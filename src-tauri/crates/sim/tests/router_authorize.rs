//! In-process tests of the sign-in page and the authorization_code grant:
//! every step, PKCE, single-use codes, redirect URI matching, cancel,
//! auto-approve, login_hint, prompt, claims and the policies at sign-in.

mod common;

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use sha2::Digest as _;

const REDIRECT: &str = "http://localhost:53100/callback";
const VERIFIER: &str = "a-very-long-verifier-with-enough-entropy-0123456789abcdefghijklmno";

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn authorize_uri(extra: &[(&str, &str)]) -> String {
    let challenge = s256(VERIFIER);
    let mut pairs: Vec<(&str, &str)> = vec![
        ("client_id", CLIENT),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", SCOPE),
        ("state", "st-123"),
        ("nonce", "n-456"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        pairs.retain(|(pk, _)| pk != k);
        pairs.push((k, v));
    }
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("/common/oauth2/v2.0/authorize?{query}")
}

/// The value of `name="{name}" value="..."` in a page.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn step_of(html: &str) -> String {
    field(
        &html.replace("data-step=", "name=\"data-step\" value="),
        "data-step",
    )
}

async fn post_step(router: &axum::Router, page: &str, fields: &[(&str, &str)]) -> Answer {
    let flow = field(page, "flow");
    let step = field(page, "step");
    let mut pairs: Vec<(&str, &str)> = vec![("flow", &flow), ("step", &step)];
    pairs.extend_from_slice(fields);
    post_form(router, "/common/oauth2/v2.0/authorize", &pairs).await
}

/// The query parameters of a redirect.
fn redirect_params(answer: &Answer) -> std::collections::HashMap<String, String> {
    assert_eq!(answer.status, StatusCode::FOUND, "{}", answer.text);
    let location = answer.headers["location"].to_str().expect("location");
    assert!(location.starts_with(REDIRECT), "{location}");
    let url = url::Url::parse(location).expect("url");
    url.query_pairs().into_owned().collect()
}

/// Walks the page for alice: pick, password, (MFA), (consent). Returns the final redirect.
async fn sign_in(router: &axum::Router, uri: &str) -> Answer {
    let mut answer = get(router, uri).await;
    for _ in 0..5 {
        if answer.status != StatusCode::OK {
            return answer;
        }
        let page = answer.text.clone();
        answer = match step_of(&page).as_str() {
            "user" => post_step(router, &page, &[("pick", ALICE)]).await,
            "password" => {
                post_step(router, &page, &[("password", "any"), ("action", "sign-in")]).await
            }
            "mfa" => post_step(router, &page, &[("action", "approve")]).await,
            "consent" => post_step(router, &page, &[("action", "accept")]).await,
            other => panic!("unexpected step {other}: {page}"),
        };
    }
    answer
}

async fn redeem(router: &axum::Router, code: &str, verifier: &str, redirect: &str) -> Answer {
    post_form(
        router,
        "/common/oauth2/v2.0/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("code", code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
            ("client_info", "1"),
        ],
    )
    .await
}

#[tokio::test]
async fn full_sign_in_walks_every_step_and_the_code_works_once() {
    let (router, state) = sim();
    let first = get(&router, &authorize_uri(&[])).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(step_of(&first.text), "user");
    for id in [
        "id=\"username\"",
        "id=\"next\"",
        "id=\"pick-0\"",
        "data-upn=\"alice@contoso.test\"",
        "id=\"cancel\"",
    ] {
        assert!(first.text.contains(id), "{id} missing");
    }
    assert!(!first.text.contains("<script"), "no JavaScript");
    let password = post_step(
        &router,
        &first.text,
        &[("username", ALICE), ("action", "next")],
    )
    .await;
    assert_eq!(step_of(&password.text), "password");
    assert!(password.text.contains("id=\"password\"") && password.text.contains("id=\"sign-in\""));
    let consent = post_step(
        &router,
        &password.text,
        &[("password", "secret"), ("action", "sign-in")],
    )
    .await;
    assert_eq!(
        step_of(&consent.text),
        "consent",
        "first sign-in asks for consent"
    );
    assert!(consent.text.contains("id=\"accept\"") && consent.text.contains("User.Read"));
    let done = post_step(&router, &consent.text, &[("action", "accept")]).await;
    let params = redirect_params(&done);
    assert_eq!(params["state"], "st-123");
    let code = params["code"].clone();

    let tokens = redeem(&router, &code, VERIFIER, REDIRECT).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.text);
    let body = tokens.json();
    let id = claims(body["id_token"].as_str().expect("id_token"));
    assert_eq!(id["nonce"], "n-456");
    assert_eq!(id["preferred_username"], ALICE);
    assert!(body["refresh_token"].is_string() && body["client_info"].is_string());
    assert_eq!(refresh(&router, &rt(&body)).await.status, StatusCode::OK);

    let again = redeem(&router, &code, VERIFIER, REDIRECT).await;
    entra_error(&again, 400, "invalid_grant", 54005);

    let second = sign_in(&router, &authorize_uri(&[])).await;
    assert!(
        redirect_params(&second).contains_key("code"),
        "no consent step the second time"
    );
    let log = state.log();
    let last_authorize = log
        .iter()
        .rev()
        .find(|e| e.endpoint == "authorize")
        .expect("logged");
    assert_eq!(last_authorize.status, 302);
    assert_eq!(last_authorize.user.as_deref(), Some(ALICE));
}

#[tokio::test]
async fn pkce_mismatches_get_501481_for_s256_and_50148_for_plain() {
    let (router, _state) = sim();
    let code = redirect_params(&sign_in(&router, &authorize_uri(&[])).await)["code"].clone();
    entra_error(
        &redeem(&router, &code, "wrong-verifier", REDIRECT).await,
        400,
        "invalid_grant",
        501481,
    );
    assert_eq!(
        redeem(&router, &code, VERIFIER, REDIRECT).await.status,
        StatusCode::OK,
        "a failed check does not burn the code"
    );

    let plain = authorize_uri(&[
        ("code_challenge", "plain-challenge-value"),
        ("code_challenge_method", "plain"),
    ]);
    let code = redirect_params(&sign_in(&router, &plain).await)["code"].clone();
    entra_error(
        &redeem(&router, &code, "other", REDIRECT).await,
        400,
        "invalid_grant",
        50148,
    );
    assert_eq!(
        redeem(&router, &code, "plain-challenge-value", REDIRECT)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn loopback_redirect_port_is_ignored_but_not_the_path() {
    let (router, _state) = sim();
    let code = redirect_params(&sign_in(&router, &authorize_uri(&[])).await)["code"].clone();
    entra_error(
        &redeem(&router, &code, VERIFIER, "http://localhost:53100/elsewhere").await,
        400,
        "invalid_request",
        50011,
    );
    assert_eq!(
        redeem(&router, &code, VERIFIER, "http://localhost:60000/callback")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn cancel_redirects_with_access_denied_cancel() {
    let (router, state) = sim();
    let page = get(&router, &authorize_uri(&[])).await;
    let password = post_step(&router, &page.text, &[("pick", BOB)]).await;
    let cancelled = post_step(&router, &password.text, &[("action", "cancel")]).await;
    let params = redirect_params(&cancelled);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["error_subcode"], "cancel");
    assert_eq!(params["state"], "st-123");
    assert!(!params.contains_key("code"));
    assert_eq!(
        state.log().last().and_then(|e| e.error.clone()).as_deref(),
        Some("access_denied")
    );
}

#[tokio::test]
async fn codes_expire_after_ten_minutes() {
    let (router, state) = sim();
    let code = redirect_params(&sign_in(&router, &authorize_uri(&[])).await)["code"].clone();
    state.advance_clock(601).expect("clock");
    entra_error(
        &redeem(&router, &code, VERIFIER, REDIRECT).await,
        400,
        "invalid_grant",
        70008,
    );
}

#[tokio::test]
async fn mfa_step_clears_the_mfa_policy_and_the_log_shows_the_claims_challenge() {
    let (router, state) = sim();
    let old = grant(&router, ALICE, serde_json::json!({})).await;
    post_json(
        &router,
        "/_sim/users/alice@contoso.test/state",
        serde_json::json!({"mfa_required": true}),
    )
    .await;
    let failed = entra_error(
        &refresh(&router, &rt(&old)).await,
        400,
        "invalid_grant",
        50076,
    );
    let challenge = failed["claims"].as_str().expect("claims").to_owned();

    let uri = authorize_uri(&[("claims", &challenge), ("login_hint", ALICE)]);
    let page = get(&router, &uri).await;
    assert_eq!(
        step_of(&page.text),
        "password",
        "login_hint skips the picker"
    );
    let mfa = post_step(
        &router,
        &page.text,
        &[("password", "pw"), ("action", "sign-in")],
    )
    .await;
    assert_eq!(step_of(&mfa.text), "mfa");
    assert!(mfa.text.contains("id=\"approve\""));
    let done = post_step(&router, &mfa.text, &[("action", "approve")]).await;
    let code = redirect_params(&done)["code"].clone();
    let fresh = redeem(&router, &code, VERIFIER, REDIRECT).await.json();
    assert_eq!(
        claims(fresh["access_token"].as_str().unwrap_or_default())["amr"],
        serde_json::json!(["pwd", "mfa"])
    );
    assert_eq!(
        refresh(&router, &rt(&fresh)).await.status,
        StatusCode::OK,
        "MFA passed: refresh works again"
    );
    entra_error(
        &refresh(&router, &rt(&old)).await,
        400,
        "invalid_grant",
        50076,
    );

    let finished = state
        .log()
        .into_iter()
        .find(|e| e.endpoint == "authorize" && e.status == 302)
        .expect("logged");
    assert!(
        finished.claims_passed,
        "the log records the claims challenge on authorize"
    );
    assert_eq!(finished.mfa, Some(true));
}

#[tokio::test]
async fn auto_approve_redirects_at_once_with_mfa_and_consent_done() {
    let (router, state) = sim();
    state.set_auto_approve(Some(ALICE));
    post_json(
        &router,
        "/_sim/users/alice@contoso.test/state",
        serde_json::json!({"mfa_required": true}),
    )
    .await;
    let answer = get(&router, &authorize_uri(&[])).await;
    let code = redirect_params(&answer)["code"].clone();
    let tokens = redeem(&router, &code, VERIFIER, REDIRECT).await.json();
    assert_eq!(
        claims(tokens["id_token"].as_str().unwrap_or_default())["preferred_username"],
        ALICE
    );
    assert_eq!(refresh(&router, &rt(&tokens)).await.status, StatusCode::OK);
    // Another user's hint still gets the page.
    let other = get(&router, &authorize_uri(&[("login_hint", BOB)])).await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(step_of(&other.text), "password");
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_stay_on_the_page() {
    let (router, _state) = sim();
    post_json(
        &router,
        "/_sim/users",
        serde_json::json!({"upn": "carol@contoso.test", "password": "right"}),
    )
    .await;
    let page = get(&router, &authorize_uri(&[])).await;
    let unknown = post_step(&router, &page.text, &[("username", "zed@contoso.test")]).await;
    assert_eq!(step_of(&unknown.text), "user");
    assert!(unknown.text.contains("id=\"error\"") && unknown.text.contains("50034"));
    let password = post_step(
        &router,
        &unknown.text,
        &[("username", "carol@contoso.test")],
    )
    .await;
    let wrong = post_step(&router, &password.text, &[("password", "wrong")]).await;
    assert_eq!(step_of(&wrong.text), "password");
    assert!(wrong.text.contains("50126"));
    let consent = post_step(&router, &wrong.text, &[("password", "right")]).await;
    assert_eq!(step_of(&consent.text), "consent");
}

#[tokio::test]
async fn disabled_and_blocked_users_are_sent_back_with_the_code() {
    let (router, _state) = sim();
    post_json(
        &router,
        "/_sim/users/bob@contoso.test/state",
        serde_json::json!({"disabled": true}),
    )
    .await;
    post_json(
        &router,
        "/_sim/users/alice@contoso.test/state",
        serde_json::json!({"ca_blocked": true}),
    )
    .await;
    for (upn, code) in [(BOB, "AADSTS50057"), (ALICE, "AADSTS53003")] {
        let page = get(&router, &authorize_uri(&[("login_hint", upn)])).await;
        let answer = post_step(&router, &page.text, &[("password", "pw")]).await;
        let params = redirect_params(&answer);
        assert_eq!(params["error"], "access_denied");
        assert!(
            params["error_description"].starts_with(code),
            "{}",
            params["error_description"]
        );
        assert!(params["error_description"].contains("\r\nTrace ID: "));
    }
}

#[tokio::test]
async fn prompt_none_and_prompt_consent() {
    let (router, _state) = sim();
    let none = get(&router, &authorize_uri(&[("prompt", "none")])).await;
    let params = redirect_params(&none);
    assert_eq!(params["error"], "login_required");
    assert!(params["error_description"].starts_with("AADSTS50058"));
    let first = sign_in(&router, &authorize_uri(&[])).await;
    assert!(redirect_params(&first).contains_key("code"));
    let page = get(
        &router,
        &authorize_uri(&[("prompt", "consent"), ("login_hint", ALICE)]),
    )
    .await;
    let consent = post_step(&router, &page.text, &[("password", "pw")]).await;
    assert_eq!(
        step_of(&consent.text),
        "consent",
        "prompt=consent asks again"
    );
    let select = get(
        &router,
        &authorize_uri(&[("prompt", "select_account"), ("login_hint", ALICE)]),
    )
    .await;
    assert_eq!(
        step_of(&select.text),
        "user",
        "select_account shows the picker"
    );
}

#[tokio::test]
async fn revoked_consent_is_restored_by_the_consent_step() {
    let (router, _state) = sim();
    let old = grant(&router, ALICE, serde_json::json!({})).await;
    post_json(
        &router,
        "/_sim/users/alice@contoso.test/state",
        serde_json::json!({"consent_revoked": true}),
    )
    .await;
    entra_error(
        &refresh(&router, &rt(&old)).await,
        400,
        "invalid_grant",
        65001,
    );
    let page = get(&router, &authorize_uri(&[("login_hint", ALICE)])).await;
    let consent = post_step(&router, &page.text, &[("password", "pw")]).await;
    assert_eq!(step_of(&consent.text), "consent");
    let done = post_step(&router, &consent.text, &[("action", "accept")]).await;
    let code = redirect_params(&done)["code"].clone();
    assert_eq!(
        redeem(&router, &code, VERIFIER, REDIRECT).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn bad_authorize_requests() {
    let (router, state) = sim();
    let no_client = get(
        &router,
        "/common/oauth2/v2.0/authorize?response_type=code&redirect_uri=http://localhost/cb",
    )
    .await;
    assert_eq!(no_client.status, StatusCode::BAD_REQUEST);
    assert!(no_client.text.contains("AADSTS900144"));
    let token_type = get(&router, &authorize_uri(&[("response_type", "token")])).await;
    assert_eq!(
        redirect_params(&token_type)["error"],
        "unsupported_response_type"
    );
    let mut only = reconnect_sim::AppRegistration::desktop(CLIENT);
    only.redirect_uris[0].uri = "http://localhost/registered".into();
    state.register_app(only).expect("register");
    let unregistered = get(&router, &authorize_uri(&[])).await;
    assert_eq!(unregistered.status, StatusCode::BAD_REQUEST);
    assert!(unregistered.text.contains("AADSTS50011"));
    let stale = post_form(
        &router,
        "/common/oauth2/v2.0/authorize",
        &[("flow", "nope"), ("step", "user")],
    )
    .await;
    assert_eq!(stale.status, StatusCode::BAD_REQUEST);
    let hostile = get(
        &router,
        &authorize_uri(&[("login_hint", "<script>x</script>")]),
    )
    .await;
    assert!(!hostile.text.contains("<script>"), "hints are escaped");
}

#[tokio::test]
async fn authorize_requests_may_also_arrive_as_a_post() {
    let (router, state) = sim();
    state.set_auto_approve(Some(ALICE));
    let uri = authorize_uri(&[]);
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let answer = post_form(&router, "/common/oauth2/v2.0/authorize", &borrowed).await;
    let params = redirect_params(&answer);
    assert_eq!(params["state"], "st-123");
    assert_eq!(
        redeem(&router, &params["code"], VERIFIER, REDIRECT)
            .await
            .status,
        StatusCode::OK
    );
}
