//! `reconnect signin` against a generic OpenID Connect provider known only by
//! its issuer URL: discovery finds the endpoints and keys, the id_token is
//! validated against them, and the user is recorded by issuer + subject. The
//! simulator's `{base}/{tenant}/v2.0` issuer stands in for the provider.

mod signin_support;

use signin_support::{BrowserScript, SigninWorld, stderr};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openid_provider_given_only_its_issuer_connects() {
    let world = SigninWorld::start(Some("alice@contoso.test")).await;
    let tenant = world.sim.state.tenant_of("alice@contoso.test");
    let issuer = format!("{}/{tenant}/v2.0", world.sim.http_url);
    let out = world
        .reconnect(&[
            "add",
            "idp",
            "--provider",
            "oidc",
            "--authority",
            &issuer,
            "--client-id",
            signin_support::CLIENT_ID,
        ])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let (browser, urls) = world.browser(BrowserScript::Curl);
    let out = world
        .reconnect(&["signin", "idp", "--browser", &browser])
        .await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");

    let url = SigninWorld::last_url(&urls).unwrap();
    let discovered = format!("{}/{tenant}/oauth2/v2.0/authorize", world.sim.http_url);
    assert!(
        url.as_str().starts_with(&discovered),
        "the discovered endpoint was used: {url}"
    );
    assert!(
        !url.query_pairs().any(|(k, _)| k == "claims"),
        "no Entra-only parameters: {url}"
    );
    let log = world.sim.state.log();
    assert!(log.iter().any(|e| e.endpoint == "discovery"), "{log:?}");
    assert!(log.iter().any(|e| e.endpoint == "keys"), "{log:?}");

    let accounts = world.reconnect(&["accounts", "--json"]).await;
    let list: serde_json::Value = serde_json::from_slice(&accounts.stdout).unwrap();
    let identity = &list[0]["identity"];
    assert_eq!(
        identity["issuer"].as_str(),
        Some(issuer.as_str()),
        "{list:#}"
    );
    assert!(
        identity["subject"].as_str().is_some_and(|s| !s.is_empty()),
        "{list:#}"
    );
    assert_eq!(list[0]["health"]["state"], "healthy", "{list:#}");
}
