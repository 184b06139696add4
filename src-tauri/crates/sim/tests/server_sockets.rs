//! The simulator on real loopback sockets: HTTP, HTTPS with the generated CA,
//! dropped connections, loopback-only binding and shutdown.

use reconnect_sim::{AppRegistration, SimConfig, SimError, Simulator};

/// The simulator's defaults with the tests' app registered.
fn config() -> SimConfig {
    SimConfig {
        apps: vec![AppRegistration::desktop(CLIENT)],
        ..SimConfig::default()
    }
}

const CLIENT: &str = "11111111-2222-3333-4444-555555555555";

async fn mint(client: &reqwest::Client, base: &str) -> serde_json::Value {
    client
        .post(format!("{base}/_sim/grants"))
        .json(&serde_json::json!({"upn": "alice@contoso.test", "client_id": CLIENT, "scope": "openid offline_access User.Read"}))
        .send()
        .await
        .expect("grant")
        .json()
        .await
        .expect("json")
}

async fn refresh(
    client: &reqwest::Client,
    base: &str,
    rt: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{base}/common/oauth2/v2.0/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT),
            ("refresh_token", rt),
        ])
        .send()
        .await
}

#[tokio::test]
async fn serves_http_on_an_ephemeral_loopback_port() {
    let sim = Simulator::start(config()).await.expect("start");
    assert!(sim.http_url.starts_with("http://127.0.0.1:"));
    assert!(sim.https_url.is_none() && sim.ca_pem.is_none());
    let client = reqwest::Client::new();
    let doc: serde_json::Value = client
        .get(format!(
            "{}/common/v2.0/.well-known/openid-configuration",
            sim.http_url
        ))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert_eq!(
        doc["token_endpoint"],
        format!("{}/common/oauth2/v2.0/token", sim.http_url)
    );
    let tokens = mint(&client, &sim.http_url).await;
    let rt = tokens["refresh_token"].as_str().expect("rt");
    // The handle drives the same state the server uses.
    sim.state.advance_clock(91 * 86_400).expect("clock");
    let answer = refresh(&client, &sim.http_url, rt).await.expect("answer");
    assert_eq!(answer.status(), 400);
    let body: serde_json::Value = answer.json().await.expect("json");
    assert_eq!(body["error_codes"], serde_json::json!([700082]));
    assert_eq!(sim.state.log().len(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn serves_https_trusted_through_the_generated_ca() {
    let sim = Simulator::start(SimConfig {
        tls: true,
        ..config()
    })
    .await
    .expect("start");
    let https = sim.https_url.clone().expect("https url");
    let ca = reqwest::Certificate::from_pem(sim.ca_pem.as_deref().expect("ca").as_bytes())
        .expect("ca pem");
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .expect("client");
    let tokens = mint(&client, &https).await;
    let id_token = tokens["id_token"].as_str().expect("id_token");
    assert!(!id_token.is_empty());
    let answer = refresh(
        &client,
        &https,
        tokens["refresh_token"].as_str().expect("rt"),
    )
    .await
    .expect("answer");
    assert_eq!(answer.status(), 200);
    let doc: serde_json::Value = client
        .get(format!(
            "{https}/organizations/v2.0/.well-known/openid-configuration"
        ))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert!(
        doc["issuer"]
            .as_str()
            .is_some_and(|i| i.starts_with(&https))
    );
    // A client that does not trust the CA is refused.
    let untrusting = reqwest::Client::new();
    assert!(
        untrusting
            .get(format!("{https}/_sim/clock"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn drop_outage_closes_the_connection_without_an_answer() {
    let sim = Simulator::start(config()).await.expect("start");
    let client = reqwest::Client::new();
    let tokens = mint(&client, &sim.http_url).await;
    let rt = tokens["refresh_token"].as_str().expect("rt");
    sim.state
        .add_fault(serde_json::from_value(serde_json::json!({"outage": "drop"})).expect("fault"))
        .expect("add");
    let dropped = match refresh(&client, &sim.http_url, rt).await {
        Err(_) => true,
        Ok(response) => response.bytes().await.is_err(),
    };
    assert!(dropped, "the client saw no complete answer");
    let ok = refresh(&client, &sim.http_url, rt).await.expect("answer");
    assert_eq!(ok.status(), 200, "one drop only");
    let statuses: Vec<(u16, Option<String>)> = sim
        .state
        .log()
        .into_iter()
        .map(|e| (e.status, e.fault))
        .collect();
    assert_eq!(statuses, vec![(0, Some("drop".to_owned())), (200, None)]);
}

#[tokio::test]
async fn refuses_non_loopback_addresses() {
    let config = SimConfig {
        addr: "0.0.0.0:0".parse().expect("addr"),
        ..SimConfig::default()
    };
    match Simulator::start(config).await {
        Err(SimError::NotLoopback(addr)) => assert_eq!(addr.to_string(), "0.0.0.0:0"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn dropping_the_handle_stops_serving() {
    let sim = Simulator::start(config()).await.expect("start");
    let url = format!("{}/_sim/clock", sim.http_url);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    assert!(client.get(&url).send().await.is_ok());
    drop(sim);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(client.get(&url).send().await.is_err());
}

#[tokio::test]
async fn refuses_seed_users_that_are_not_upns() {
    let config = SimConfig {
        users: vec!["not a upn".into()],
        ..SimConfig::default()
    };
    assert!(matches!(
        Simulator::start(config).await,
        Err(SimError::Invalid(_))
    ));
    let config = SimConfig {
        auto_approve: Some("nobody".into()),
        ..SimConfig::default()
    };
    assert!(matches!(
        Simulator::start(config).await,
        Err(SimError::Invalid(_))
    ));
}
