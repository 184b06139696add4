//! The token client over real loopback sockets: it refuses to follow
//! redirects, cuts oversized answers, times out, trusts an extra CA only when
//! given one, and talks to the simulator (discovery, refresh, error verdicts).

use std::time::Duration;

use reconnect_core::secret::RefreshToken;
use reconnect_oauth::FetchError;
use reconnect_oauth::endpoints::{EndpointError, ProviderEndpoints};
use reconnect_oauth::{
    ProviderMetadata, TokenClient, TokenClientConfig, TokenError, TransportKind,
};
use reconnect_sim::{AppRegistration, GrantRequest, SimConfig, Simulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

/// A one-shot HTTP server answering every connection with `answer`
/// (after `delay`). Returns its URL.
async fn canned(answer: Vec<u8>, delay: Duration) -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let _ = stream.read(&mut buf).await;
                tokio::time::sleep(delay).await;
                let _ = stream.write_all(&answer).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    Url::parse(&format!("http://{addr}/tenant/oauth2/v2.0/token")).unwrap()
}

fn client(config: TokenClientConfig) -> TokenClient {
    TokenClient::new(config).unwrap()
}

async fn refresh(
    client: &TokenClient,
    url: &Url,
) -> Result<reconnect_oauth::TokenResponse, TokenError> {
    client
        .refresh(url, "app", &RefreshToken::new("rt-secret"), "openid", None)
        .await
}

#[tokio::test]
async fn a_redirect_is_reported_not_followed() {
    let target = canned(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}".to_vec(),
        Duration::ZERO,
    )
    .await;
    let answer = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nlocation: {target}\r\ncontent-length: 0\r\n\r\n"
    )
    .into_bytes();
    let url = canned(answer, Duration::ZERO).await;
    let err = refresh(&client(TokenClientConfig::default()), &url)
        .await
        .unwrap_err();
    let failure = err.endpoint_failure().expect("an HTTP answer");
    assert_eq!(failure.status, 307);
    assert!(
        err.verdict(0).is_transient(),
        "a redirect is not a reason to reconnect"
    );
}

#[tokio::test]
async fn an_oversized_answer_is_cut_at_the_cap() {
    let body = format!(
        r#"{{"error":"invalid_grant","pad":"{}"}}"#,
        "x".repeat(10_000)
    );
    let answer = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes();
    let url = canned(answer, Duration::ZERO).await;
    let config = TokenClientConfig {
        max_response_bytes: 1_000,
        ..TokenClientConfig::default()
    };
    let err = refresh(&client(config), &url).await.unwrap_err();
    let failure = err.endpoint_failure().unwrap();
    assert!(failure.truncated);
    assert_eq!(failure.body.len(), 1_000);
    let verdict = err.verdict(0);
    assert!(
        verdict.is_transient() && !verdict.needs_reconnect(),
        "{verdict:?}"
    );
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let url = canned(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}".to_vec(),
        Duration::from_secs(5),
    )
    .await;
    let config = TokenClientConfig {
        timeout: Duration::from_millis(300),
        ..TokenClientConfig::default()
    };
    let err = refresh(&client(config), &url).await.unwrap_err();
    assert!(
        matches!(
            err,
            TokenError::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.verdict(0).is_transient());
}

#[tokio::test]
async fn a_closed_port_is_a_connect_failure_without_secrets_in_the_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = Url::parse(&format!("http://127.0.0.1:{port}/t/oauth2/v2.0/token")).unwrap();
    let err = refresh(&client(TokenClientConfig::default()), &url)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            TokenError::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!format!("{err:?} {err}").contains("rt-secret"));
}

#[tokio::test]
async fn the_simulators_tls_needs_its_ca_and_then_refresh_and_errors_work() {
    let sim = Simulator::start(SimConfig {
        tls: true,
        apps: vec![AppRegistration::desktop("app")],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let https = Url::parse(sim.https_url.as_deref().unwrap()).unwrap();
    let endpoints = ProviderEndpoints::microsoft(&https, "organizations").unwrap();

    let untrusting = client(TokenClientConfig::default());
    let err = ProviderMetadata::fetch(&untrusting, &endpoints.discovery, None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            EndpointError::Fetch(FetchError::Transport {
                kind: TransportKind::Tls,
                ..
            })
        ),
        "an untrusted certificate is a TLS failure: {err:?}"
    );

    let pem = sim.ca_pem.clone().unwrap().into_bytes();
    let trusting = client(TokenClientConfig {
        extra_root_ca_pem: Some(pem),
        ..TokenClientConfig::default()
    })
    .with_clock(std::sync::Arc::new(|| 1_000));
    let meta = ProviderMetadata::fetch(&trusting, &endpoints.discovery, None)
        .await
        .expect("discovery over TLS");
    assert_eq!(meta.token_endpoint, endpoints.token);

    let grant = GrantRequest {
        upn: "alice@contoso.test".into(),
        client_id: "app".into(),
        scope: "openid offline_access User.Read".into(),
        spa: false,
        mfa: false,
    };
    let minted = sim
        .state
        .mint_grant(&grant, sim.https_url.as_deref().unwrap())
        .unwrap();
    let rt = RefreshToken::new(minted["refresh_token"].as_str().unwrap());
    let fresh = trusting
        .refresh(
            &endpoints.token,
            "app",
            &rt,
            "openid offline_access User.Read",
            None,
        )
        .await
        .unwrap();
    let expires_in = fresh.expires_in.expect("expires_in");
    assert_eq!(fresh.tokens.access_expires_at, Some(1_000 + expires_in));
    assert!(fresh.tokens.refresh_token.is_some());
    assert_ne!(
        fresh.tokens.refresh_token.as_ref(),
        Some(&rt),
        "the refresh token rotated"
    );
    assert!(fresh.client_info.is_some(), "client_info decoded");

    sim.state.advance_clock(91 * 24 * 3600).unwrap();
    let new_rt = fresh.tokens.refresh_token.unwrap();
    let err = trusting
        .refresh(&endpoints.token, "app", &new_rt, "openid", None)
        .await
        .unwrap_err();
    let verdict = err.verdict(trusting.now());
    assert_eq!(verdict.primary_code, Some(700082), "{verdict:?}");
    assert!(verdict.needs_reconnect());
}
