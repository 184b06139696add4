//! Our client against the strict simulator, end to end (the real CLI, a real
//! keychain, real sockets): it signs in through `/common` and
//! `/organizations` with a work account and through `/consumers` with a
//! personal one, validating each id_token's issuer against the filled-in
//! `{tenantid}` template; and where a tenant's app registration is wrong,
//! what the person is told names what to change in the registration.

mod signin_support;

use reconnect_sim::{AppRegistration, Audience, Platform, RedirectUri};
use signin_support::{BrowserScript, SigninWorld, stderr};

const ALICE: &str = "alice@contoso.test";
const DANA: &str = "dana@outlook.com";

/// Registers `app` and adds account `name` for it at `tenant`.
async fn account_for(world: &SigninWorld, name: &str, app: AppRegistration, tenant: &str) {
    let client_id = app.client_id.clone();
    world.sim.state.register_app(app).expect("register");
    let out = world
        .reconnect(&[
            "add",
            name,
            "--authority",
            &world.sim.http_url,
            "--client-id",
            &client_id,
            "--tenant",
            tenant,
        ])
        .await;
    assert!(out.status.success(), "add: {}", stderr(&out));
}

fn registration(id: &str, f: impl FnOnce(&mut AppRegistration)) -> AppRegistration {
    let mut app = AppRegistration::desktop(id);
    f(&mut app);
    app
}

/// Signs `name` in with a browser that follows every redirect.
async fn signin(world: &SigninWorld, name: &str) -> std::process::Output {
    let (browser, _) = world.browser(BrowserScript::Curl);
    world
        .reconnect(&["signin", name, "--browser", &browser, "--timeout", "20"])
        .await
}

/// Starts a sign-in whose browser only records the URL, then opens that URL
/// as a browser would and returns the text of the page the sign-in ended on.
async fn error_page(world: &SigninWorld, name: &str) -> String {
    let (browser, urls) = world.browser(BrowserScript::RecordOnly);
    let out = world
        .reconnect(&["signin", name, "--browser", &browser, "--timeout", "2"])
        .await;
    assert_eq!(
        out.status.code(),
        Some(5),
        "no answer came back: {}",
        stderr(&out)
    );
    let url = SigninWorld::last_url(&urls).expect("the browser was given a URL");
    let page = reqwest::get(url)
        .await
        .expect("GET")
        .text()
        .await
        .expect("text");
    let start = page.find("AADSTS").expect("an AADSTS code on the page");
    let line = &page[start..];
    let line = &line[..line.find("</p>").unwrap_or(line.len())];
    html_escape::decode_html_entities(line).into_owned()
}

/// `reconnect decode --json TEXT`.
async fn decode(world: &SigninWorld, text: &str) -> serde_json::Value {
    let out = world.reconnect(&["decode", "--json", text]).await;
    serde_json::from_slice(&out.stdout).expect("decode --json")
}

/// The tenant the account signed in to, checked against the issuer it
/// stored (the id_token's, which the client validated against the
/// discovery document's issuer, a `{tenantid}` template for `/common` and
/// `/organizations`).
async fn tenant_of(world: &SigninWorld, name: &str) -> String {
    let status = world.status(name).await;
    assert_eq!(status["health"]["state"], "healthy", "{status}");
    let out = world.reconnect(&["accounts", "--json"]).await;
    let accounts: serde_json::Value = serde_json::from_slice(&out.stdout).expect("accounts --json");
    let account = accounts
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["name"] == name)
        .expect("the account is listed");
    let tid = account["identity"]["tid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        account["identity"]["issuer"],
        format!("{}/{tid}/v2.0", world.sim.http_url),
        "{account}"
    );
    tid
}

#[tokio::test]
async fn work_accounts_through_common_and_organizations_and_a_personal_one_through_consumers() {
    let world = SigninWorld::start(Some(ALICE)).await;
    let both = registration("both-kinds", |a| {
        a.sign_in_audience = Audience::MultiAndPersonal
    });
    world.sim.state.register_app(both).expect("register");
    let contoso = world.sim.state.tenant_of(ALICE);
    for tenant in ["common", "organizations"] {
        let out = world
            .reconnect(&[
                "add",
                tenant,
                "--authority",
                &world.sim.http_url,
                "--client-id",
                "both-kinds",
                "--tenant",
                tenant,
            ])
            .await;
        assert!(out.status.success(), "add: {}", stderr(&out));
        let out = signin(&world, tenant).await;
        assert!(out.status.success(), "{tenant}: {}", stderr(&out));
        assert_eq!(tenant_of(&world, tenant).await, contoso, "{tenant}");
    }
    world.sim.state.add_user(DANA, None).expect("dana");
    world.sim.state.set_auto_approve(Some(DANA));
    let out = world
        .reconnect(&[
            "add",
            "personal",
            "--authority",
            &world.sim.http_url,
            "--client-id",
            "both-kinds",
            "--tenant",
            "consumers",
        ])
        .await;
    assert!(out.status.success(), "add: {}", stderr(&out));
    let out = signin(&world, "personal").await;
    assert!(out.status.success(), "consumers: {}", stderr(&out));
    assert_eq!(
        tenant_of(&world, "personal").await,
        reconnect_sim::CONSUMERS_TENANT_ID
    );
    let refreshed = world.reconnect(&["refresh", "personal", "--force"]).await;
    assert!(refreshed.status.success(), "{}", stderr(&refreshed));
}

#[tokio::test]
async fn an_unregistered_redirect_uri_ends_on_50011_and_decodes_to_the_fix() {
    let world = SigninWorld::start(Some(ALICE)).await;
    let app = registration("ip-only", |a| {
        a.redirect_uris[0].uri = "http://127.0.0.1".into()
    });
    account_for(&world, "work", app, "organizations").await;
    let page = error_page(&world, "work").await;
    assert!(page.starts_with("AADSTS50011"), "{page}");
    let verdict = decode(&world, &page).await;
    assert_eq!(verdict["who_acts"], "developer");
    let advice = verdict["admin_message"].as_str().unwrap_or_default();
    assert!(
        advice.contains("Mobile and desktop applications"),
        "{advice}"
    );
}

#[tokio::test]
async fn a_single_tenant_app_on_organizations_ends_on_50194_naming_the_tenant_fix() {
    let world = SigninWorld::start(Some(ALICE)).await;
    let app = registration("single", |a| a.sign_in_audience = Audience::Single);
    account_for(&world, "work", app, "organizations").await;
    let page = error_page(&world, "work").await;
    assert!(page.starts_with("AADSTS50194"), "{page}");
    let advice = decode(&world, &page).await["admin_message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        advice.contains("tenant") && advice.contains("supported account types"),
        "{advice}"
    );
    let contoso = world.sim.state.tenant_of(ALICE);
    let out = world
        .reconnect(&[
            "add",
            "own-tenant",
            "--authority",
            &world.sim.http_url,
            "--client-id",
            "single",
            "--tenant",
            &contoso,
        ])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let out = signin(&world, "own-tenant").await;
    assert!(
        out.status.success(),
        "the app's own tenant works: {}",
        stderr(&out)
    );
}

#[tokio::test]
async fn a_personal_account_on_a_work_only_app_ends_on_50020() {
    let world = SigninWorld::start(Some(DANA)).await;
    world.sim.state.add_user(DANA, None).ok();
    account_for(
        &world,
        "work",
        AppRegistration::desktop("work-only"),
        "common",
    )
    .await;
    let page = error_page(&world, "work").await;
    assert!(page.starts_with("AADSTS50020"), "{page}");
    let advice = decode(&world, &page).await["admin_message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(advice.contains("supported account types"), "{advice}");
}

#[tokio::test]
async fn a_spa_or_web_redirect_fails_the_redemption_and_says_which_platform_to_use() {
    let world = SigninWorld::start(Some(ALICE)).await;
    let spa = registration("spa-app", |a| a.redirect_uris[0].platform = Platform::Spa);
    account_for(&world, "spa", spa, "organizations").await;
    let out = signin(&world, "spa").await;
    assert!(
        !out.status.success(),
        "a SPA redirect cannot be redeemed by a native client"
    );
    let said = stderr(&out);
    assert!(
        said.contains("9002327") && said.contains("Mobile and desktop applications"),
        "{said}"
    );

    let web = registration("web-app", |a| {
        a.redirect_uris = vec![RedirectUri {
            uri: "http://localhost".into(),
            platform: Platform::Web,
        }];
        a.client_secret = Some("not-ours".into());
    });
    account_for(&world, "web", web, "organizations").await;
    let out = signin(&world, "web").await;
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(
        said.contains("7000218") && said.contains("Allow public client flows"),
        "{said}"
    );
    let status = world.status("web").await;
    assert_eq!(
        status["health"]["state"], "never_connected",
        "nothing was stored: {status}"
    );
}

#[tokio::test]
async fn a_deleted_app_registration_stops_refreshes_with_700016_for_the_developer() {
    let world = SigninWorld::start(Some(ALICE)).await;
    account_for(
        &world,
        "work",
        AppRegistration::desktop("short-lived"),
        "organizations",
    )
    .await;
    let out = signin(&world, "work").await;
    assert!(out.status.success(), "{}", stderr(&out));
    world.sim.state.remove_app("short-lived").expect("remove");
    let out = world.reconnect(&["refresh", "work", "--force"]).await;
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(said.contains("700016"), "{said}");
    let status = world.status("work").await;
    let verdict = &status["last_failure"];
    assert_eq!(verdict["who_acts"], "developer", "{status}");
    assert!(
        verdict["admin_message"]
            .as_str()
            .is_some_and(|m| m.contains("client ID")),
        "{status}"
    );
}

#[tokio::test]
async fn under_strict_rotation_each_refresh_uses_the_newest_token_and_the_grant_survives() {
    let world = SigninWorld::start(Some(ALICE)).await;
    let app = registration("rotating", |a| a.rotation = reconnect_sim::Rotation::Strict);
    account_for(&world, "work", app, "organizations").await;
    let out = signin(&world, "work").await;
    assert!(out.status.success(), "{}", stderr(&out));
    for round in 0..3 {
        let out = world.reconnect(&["refresh", "work", "--force"]).await;
        assert!(out.status.success(), "refresh {round}: {}", stderr(&out));
    }
    let status = world.status("work").await;
    assert_eq!(status["health"]["state"], "healthy", "{status}");
    let refused = world
        .sim
        .state
        .log()
        .iter()
        .filter(|e| e.endpoint == "token" && e.status != 200)
        .count();
    assert_eq!(refused, 0, "no used refresh token was ever sent again");
}
