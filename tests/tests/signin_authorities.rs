//! Other Microsoft authorities end to end, against the strict simulator:
//! an Azure AD B2C user flow (its two-segment path, its issuer with B2C's
//! final slash, the client id asked for as a scope so B2C issues an access
//! token for the app), and an app with a custom signing key, whose id_tokens
//! verify only against the keys Entra publishes at `jwks_uri?appid=`.

mod signin_support;

use base64::Engine as _;
use reconnect_sim::AppRegistration;
use signin_support::{BrowserScript, SigninWorld, stderr};

const ALICE: &str = "alice@contoso.test";

async fn add(world: &SigninWorld, args: &[&str]) {
    let mut all = vec!["add"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--authority", &world.sim.http_url]);
    let out = world.reconnect(&all).await;
    assert!(out.status.success(), "add: {}", stderr(&out));
}

async fn signin(world: &SigninWorld, name: &str) {
    let (browser, _) = world.browser(BrowserScript::Curl);
    let out = world
        .reconnect(&["signin", name, "--browser", &browser, "--timeout", "20"])
        .await;
    assert!(out.status.success(), "signin {name}: {}", stderr(&out));
}

/// The account as `accounts --json` lists it.
async fn account(world: &SigninWorld, name: &str) -> serde_json::Value {
    let out = world.reconnect(&["accounts", "--json"]).await;
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).expect("accounts --json");
    all.as_array()
        .into_iter()
        .flatten()
        .find(|a| a["name"] == name)
        .cloned()
        .expect("listed")
}

/// How many times the simulator served a key set.
fn key_set_fetches(world: &SigninWorld) -> usize {
    let log = world.sim.state.log();
    log.iter().filter(|e| e.endpoint == "keys").count()
}

fn jwt_claims(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

#[tokio::test]
async fn a_b2c_user_flow_signs_in_and_its_access_token_is_for_the_app() {
    let world = SigninWorld::start(Some(ALICE)).await;
    let mut app = AppRegistration::desktop("b2c-shop");
    app.home_tenant = "fabrikamb2c.onmicrosoft.com".into();
    world.sim.state.register_app(app).expect("register");
    add(
        &world,
        &[
            "shop",
            "--client-id",
            "b2c-shop",
            "--b2c-tenant",
            "fabrikamb2c",
            "--b2c-policy",
            "B2C_1_signin",
        ],
    )
    .await;
    let stored = account(&world, "shop").await;
    assert_eq!(
        stored["tenant"], "fabrikamb2c.onmicrosoft.com/B2C_1_signin",
        "{stored}"
    );
    signin(&world, "shop").await;

    let stored = account(&world, "shop").await;
    let tid = reconnect_sim::tenant::tenant_id("fabrikamb2c");
    assert_eq!(stored["identity"]["tid"], tid.as_str(), "{stored}");
    assert_eq!(
        stored["identity"]["issuer"],
        format!("{}/{tid}/v2.0/", world.sim.http_url),
        "B2C's issuer, final slash and all"
    );
    let out = world
        .reconnect(&["token", "shop", "--format", "json", "--min-ttl", "99999"])
        .await;
    assert!(out.status.success(), "token: {}", stderr(&out));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let access = jwt_claims(answer["access_token"].as_str().expect("access_token"));
    assert_eq!(
        access["aud"], "b2c-shop",
        "the client id as a scope: a token for the app"
    );
}

#[tokio::test]
async fn an_app_with_a_custom_signing_key_signs_in_with_the_keys_for_its_id() {
    let world = SigninWorld::start(Some(ALICE)).await;
    let mut app = AppRegistration::desktop("claims-mapped");
    app.custom_signing_key = true;
    world.sim.state.register_app(app).expect("register");
    add(
        &world,
        &[
            "mapped",
            "--client-id",
            "claims-mapped",
            "--tenant",
            "organizations",
        ],
    )
    .await;
    signin(&world, "mapped").await;
    let keys_fetches = key_set_fetches(&world);
    assert!(
        keys_fetches >= 2,
        "the plain key set lacked the key, so the app's set was fetched too ({keys_fetches} fetches)"
    );
    let status = world.status("mapped").await;
    assert_eq!(status["health"]["state"], "healthy", "{status}");

    // The same app without the custom key registered: the plain set suffices.
    let world = SigninWorld::start(Some(ALICE)).await;
    world
        .sim
        .state
        .register_app(AppRegistration::desktop("plain"))
        .expect("register");
    add(
        &world,
        &["plain", "--client-id", "plain", "--tenant", "organizations"],
    )
    .await;
    signin(&world, "plain").await;
    let plain_fetches = key_set_fetches(&world);
    assert_eq!(
        plain_fetches, 1,
        "one key set is enough for a tenant-signed id_token"
    );
}
