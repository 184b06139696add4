//! Sign-in against an independent OpenID Connect server: panva's
//! `oidc-provider` from the npm registry (`tests/peers/oidc-provider`,
//! installed by `scripts/install-deps.sh --test`), not our simulator.
//!
//! - The peer itself: a device authorization request, its approval through
//!   the provider's own verification pages (driven over HTTP with a cookie
//!   jar by `reconnect_e2e::oidc_peer`), the token endpoint's answers while
//!   pending and once approved, an RS256 id_token that verifies with the JWKS,
//!   and refresh token rotation. This proves the peer and the approval
//!   automation on their own.
//! - `reconnect signin --device-code` against it: the code is printed as
//!   JSON, approved like a person would, and the account is connected; then
//!   `reconnect token`, a real (rotating) `reconnect refresh` and `status`.
//! - `reconnect signin` through the browser (authorization code + PKCE): the
//!   "browser" hands the sign-in URL to the test, which walks the provider's
//!   login and consent pages and delivers the redirect to the loopback listener.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use reconnect_e2e::harness::{TempHome, binary};
use reconnect_e2e::oidc_peer::{self, OidcPeer, SCOPES, approve_device, walk_sign_in};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

async fn discovery(peer: &OidcPeer) -> Value {
    http()
        .get(peer.url("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery answers")
        .json()
        .await
        .expect("discovery is JSON")
}

/// A token endpoint answer: the HTTP status and the JSON body.
async fn token_request(endpoint: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = http()
        .post(endpoint)
        .form(form)
        .send()
        .await
        .expect("the token endpoint answers");
    let status = response.status().as_u16();
    let body = response
        .json()
        .await
        .expect("the token endpoint speaks JSON");
    (status, body)
}

async fn device_authorization(peer: &OidcPeer, config: &Value) -> Value {
    let endpoint = config["device_authorization_endpoint"]
        .as_str()
        .expect("the peer advertises device authorization");
    let response = http()
        .post(endpoint)
        .form(&[("client_id", peer.client_id.as_str()), ("scope", SCOPES)])
        .send()
        .await
        .expect("device authorization answers");
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.expect("device authorization is JSON")
}

/// Polls the token endpoint like a device would until it stops saying
/// `authorization_pending`.
async fn poll_for_tokens(peer: &OidcPeer, token_endpoint: &str, device_code: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = token_request(
            token_endpoint,
            &[
                ("grant_type", DEVICE_GRANT),
                ("device_code", device_code),
                ("client_id", &peer.client_id),
            ],
        )
        .await;
        if status == 200 {
            return body;
        }
        assert_eq!(
            body["error"],
            "authorization_pending",
            "polling: {status} {body}\n{}",
            peer.log()
        );
        assert!(Instant::now() < deadline, "still pending after 30 s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Verifies an id_token's RS256 signature with the peer's JWKS and returns
/// its claims.
async fn verified_id_token(peer: &OidcPeer, config: &Value, id_token: &str) -> Value {
    let header = jsonwebtoken::decode_header(id_token).expect("an id_token header");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let kid = header.kid.expect("the id_token names its key");
    let jwks: jsonwebtoken::jwk::JwkSet = http()
        .get(config["jwks_uri"].as_str().expect("a jwks_uri"))
        .send()
        .await
        .expect("the JWKS answers")
        .json()
        .await
        .expect("the JWKS is JSON");
    let jwk = jwks.find(&kid).expect("the signing key is published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).expect("an RSA key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[&peer.client_id]);
    validation.set_issuer(&[&peer.issuer]);
    jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .expect("the id_token verifies with the JWKS")
        .claims
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_peer_completes_a_device_grant_approved_through_its_own_pages() {
    let peer = OidcPeer::start().expect("the OpenID provider peer starts");
    let config = discovery(&peer).await;
    assert_eq!(config["issuer"].as_str(), Some(peer.issuer.as_str()));
    let token_endpoint = config["token_endpoint"].as_str().unwrap().to_owned();

    let device = device_authorization(&peer, &config).await;
    for field in ["device_code", "user_code", "verification_uri", "expires_in"] {
        assert!(!device[field].is_null(), "{field} in {device}");
    }
    assert_eq!(device["interval"], 1, "{device}");
    let device_code = device["device_code"].as_str().unwrap();
    let user_code = device["user_code"].as_str().unwrap();

    // Before anyone approved: pending.
    let (status, body) = token_request(
        &token_endpoint,
        &[
            ("grant_type", DEVICE_GRANT),
            ("device_code", device_code),
            ("client_id", &peer.client_id),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending"))
    );

    // A wrong code is refused on the page, and the right one still works after.
    let wrong = approve_device(
        device["verification_uri"].as_str().unwrap(),
        "BCDF-GHJK",
        "alice@peer.test",
    )
    .await
    .expect_err("a wrong code is refused");
    assert!(wrong.to_string().contains("incorrect"), "{wrong:#}");

    let approval = approve_device(
        device["verification_uri"].as_str().unwrap(),
        user_code,
        "alice@peer.test",
    )
    .await
    .unwrap_or_else(|e| panic!("approval: {e:#}\n{}", peer.log()));
    assert_eq!(
        approval.steps,
        ["code", "confirm", "login", "consent"],
        "{approval:?}"
    );
    assert!(approval.text.contains("success"), "{approval:?}");

    let tokens = poll_for_tokens(&peer, &token_endpoint, device_code).await;
    assert_eq!(tokens["token_type"], "Bearer", "{tokens}");
    assert!(
        tokens["access_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let scope = tokens["scope"].as_str().unwrap_or_default();
    assert!(scope.split(' ').any(|s| s == "offline_access"), "{tokens}");
    let first_refresh = tokens["refresh_token"]
        .as_str()
        .expect("offline_access gives a refresh token")
        .to_owned();
    let claims = verified_id_token(
        &peer,
        &config,
        tokens["id_token"].as_str().expect("an id_token"),
    )
    .await;
    assert_eq!(claims["sub"], "alice@peer.test", "{claims}");

    // Refresh tokens rotate: the answer carries a new one, and the spent one
    // is refused (which, as reuse, also ends the grant).
    let refresh = |rt: String| {
        let endpoint = token_endpoint.clone();
        let client_id = peer.client_id.clone();
        async move {
            token_request(
                &endpoint,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &rt),
                    ("client_id", &client_id),
                ],
            )
            .await
        }
    };
    let (status, renewed) = refresh(first_refresh.clone()).await;
    assert_eq!(status, 200, "{renewed}\n{}", peer.log());
    let second_refresh = renewed["refresh_token"]
        .as_str()
        .expect("a rotated refresh token");
    assert_ne!(second_refresh, first_refresh);
    verified_id_token(&peer, &config, renewed["id_token"].as_str().unwrap()).await;
    let (status, reused) = refresh(first_refresh).await;
    assert_eq!(
        (status, reused["error"].as_str()),
        (400, Some("invalid_grant")),
        "{reused}"
    );

    // A device code is good for one grant only (its reuse ends the grant too).
    let (status, body) = token_request(
        &token_endpoint,
        &[
            ("grant_type", DEVICE_GRANT),
            ("device_code", device_code),
            ("client_id", &peer.client_id),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_complete_verification_uri_skips_typing_the_code() {
    let peer = OidcPeer::start().expect("the OpenID provider peer starts");
    let config = discovery(&peer).await;
    let device = device_authorization(&peer, &config).await;
    let approval = approve_device(
        device["verification_uri_complete"].as_str().unwrap(),
        device["user_code"].as_str().unwrap(),
        "bob",
    )
    .await
    .unwrap_or_else(|e| panic!("approval: {e:#}\n{}", peer.log()));
    assert_eq!(
        approval.steps,
        ["submit", "confirm", "login", "consent"],
        "{approval:?}"
    );
    let tokens = poll_for_tokens(
        &peer,
        config["token_endpoint"].as_str().unwrap(),
        device["device_code"].as_str().unwrap(),
    )
    .await;
    assert!(tokens["refresh_token"].is_string(), "{tokens}");

    // The same code cannot be approved twice.
    let again = approve_device(
        device["verification_uri"].as_str().unwrap(),
        device["user_code"].as_str().unwrap(),
        "bob",
    )
    .await
    .expect_err("a used code is refused");
    assert!(again.to_string().contains("incorrect"), "{again:#}");
}

/// An isolated Reconnect profile with an `oidc` account `idp` at the peer.
struct World {
    home: TempHome,
    peer: OidcPeer,
}

impl World {
    async fn start() -> Self {
        Self::start_with_client(oidc_peer::CLIENT_ID).await
    }

    /// The account `idp` uses `client_id` (one of the peer's clients).
    async fn start_with_client(client_id: &str) -> Self {
        let world = Self {
            home: TempHome::new(),
            peer: OidcPeer::start().expect("the OpenID provider peer starts"),
        };
        let out = world
            .reconnect(&[
                "add",
                "idp",
                "--provider",
                "oidc",
                "--authority",
                &world.peer.issuer,
                "--client-id",
                client_id,
                "--scopes",
                SCOPES,
            ])
            .await;
        assert_eq!(out.status.code(), Some(0), "add: {}", text(&out.stderr));
        world
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::from(self.home.command(binary("reconnect")));
        cmd.args(args)
            .env_remove("RECONNECT_BROWSER")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    async fn reconnect(&self, args: &[&str]) -> Output {
        self.command(args).output().await.expect("reconnect runs")
    }

    /// `token`, `refresh` and `status` all agree the account works.
    /// How many refresh token grants the peer has made so far.
    async fn refreshes(&self) -> usize {
        let grants = self.peer.grants().await.expect("the peer lists its grants");
        grants
            .iter()
            .filter(|g| g.grant_type == "refresh_token")
            .inspect(|g| assert!(g.gave_refresh_token(), "a rotated refresh token: {g:?}"))
            .count()
    }

    /// `reconnect ARGS…` must exit 0; returns its stdout.
    async fn ok(&self, args: &[&str]) -> String {
        let out = self.reconnect(args).await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "reconnect {}: {}{}\npeer: {}",
            args.join(" "),
            text(&out.stdout),
            text(&out.stderr),
            self.peer.log()
        );
        text(&out.stdout)
    }

    /// `token`, `refresh` and `status` all agree the account works.
    async fn assert_connected(&self, login: &str) {
        let token = self.ok(&["token", "idp"]).await.trim().to_owned();
        assert!(
            !token.is_empty() && !token.contains(char::is_whitespace),
            "{token:?}"
        );

        // Each refresh is a real one at the provider, which rotates the
        // refresh token: the second works only if the first's new refresh
        // token was stored (the spent one would have ended the grant).
        for round in 1..=2 {
            let before = self.refreshes().await;
            self.ok(&["refresh", "idp"]).await;
            assert_eq!(
                self.refreshes().await,
                before + 1,
                "refresh {round} reached the provider\npeer: {}",
                self.peer.log()
            );
        }
        let renewed = self.ok(&["token", "idp"]).await.trim().to_owned();
        assert_ne!(token, renewed, "the refreshes brought a new access token");

        let status = self.reconnect(&["status", "--json"]).await;
        assert_eq!(
            status.status.code(),
            Some(0),
            "status: {}",
            text(&status.stderr)
        );
        let all: Value = serde_json::from_slice(&status.stdout)
            .unwrap_or_else(|e| panic!("status --json: {e}: {}", text(&status.stdout)));
        let account = all["accounts"]
            .as_array()
            .and_then(|list| list.iter().find(|a| a["name"] == "idp"))
            .unwrap_or_else(|| panic!("idp in {all:#}"));
        assert_eq!(health(account), "healthy", "{account:#}");
        assert_eq!(account["needs_attention"], false, "{account:#}");
        assert_eq!(all["needs_attention"], 0, "{all:#}");

        let accounts = self.reconnect(&["accounts", "--json"]).await;
        let list: Value = serde_json::from_slice(&accounts.stdout).expect("accounts --json");
        let identity = &list[0]["identity"];
        assert_eq!(
            identity["issuer"].as_str(),
            Some(self.peer.issuer.as_str()),
            "{list:#}"
        );
        assert_eq!(identity["subject"].as_str(), Some(login), "{list:#}");
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn health(status: &Value) -> String {
    let h = &status["health"];
    h.as_str()
        .or_else(|| h["state"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| h.to_string())
}

/// Runs `reconnect signin idp --device-code --json`, checks the code it
/// prints, approves it at the peer as `login`, and returns how the sign-in
/// ended with everything it printed.
async fn device_signin(world: &World, login: &str) -> (std::process::ExitStatus, String) {
    let mut child = world
        .command(&["signin", "idp", "--device-code", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("reconnect signin runs");
    let mut stderr = child.stderr.take().expect("stderr");
    let errors = tokio::spawn(async move {
        let mut all = String::new();
        let _ = stderr.read_to_string(&mut all).await;
        all
    });
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));

    // The code comes first, as one JSON object on a line of its own.
    let mut line = String::new();
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            line.clear();
            if stdout.read_line(&mut line).await? == 0 {
                return Err(anyhow!("stdout ended before the device code"));
            }
            if !line.trim().is_empty() {
                return Ok(());
            }
        }
    })
    .await
    .map_err(|_| anyhow!("no device code on stdout within 60 s"))
    .and_then(|r| r);
    if let Err(e) = read {
        let _ = child.start_kill();
        let _ = child.wait().await;
        panic!("{e}; stderr: {}", errors.await.unwrap_or_default());
    }
    let code: Value = serde_json::from_str(line.trim())
        .unwrap_or_else(|e| panic!("the first line is JSON ({e}): {line}"));
    let verification_uri = code["verification_uri"].as_str().expect("verification_uri");
    let user_code = code["user_code"].as_str().expect("user_code");
    assert!(code["expires_in"].as_u64().is_some_and(|s| s > 0), "{code}");
    assert!(code["interval"].as_u64().is_some(), "{code}");
    assert!(
        verification_uri.starts_with(&world.peer.issuer),
        "the peer's page: {code}"
    );

    let approval = approve_device(verification_uri, user_code, login)
        .await
        .unwrap_or_else(|e| panic!("approval: {e:#}\n{}", world.peer.log()));
    assert_eq!(approval.steps, ["code", "confirm", "login", "consent"]);

    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("reconnect connects within 60 s of the approval")
        .expect("reconnect ends");
    let mut rest = String::new();
    let _ = stdout.read_to_string(&mut rest).await;
    let err = errors.await.unwrap_or_default();
    (status, format!("{rest}{err}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_signs_in_with_a_device_code_at_an_independent_provider() {
    let world = World::start().await;
    let (status, said) = device_signin(&world, "carol@peer.test").await;
    assert_eq!(
        status.code(),
        Some(0),
        "signin --device-code: {said}\n{}",
        world.peer.log()
    );

    let grants = world
        .peer
        .grants()
        .await
        .expect("the peer lists its grants");
    assert!(
        matches!(grants.as_slice(), [g] if g.grant_type == DEVICE_GRANT
            && g.issued == ["access_token", "refresh_token", "id_token"]),
        "one device grant with a refresh token and an id_token: {grants:?}"
    );
    world.assert_connected("carol@peer.test").await;
}

/// A `--browser` command that hands the sign-in URL to the test (it appends
/// it to a file) and exits: the test plays the person at the browser.
fn handing_browser(dir: &Path) -> (String, PathBuf) {
    let urls = dir.join("browser-urls.txt");
    let script = dir.join("browser-hand-over.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", urls.display()),
    )
    .expect("write the browser script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (script.display().to_string(), urls)
}

async fn handed_url(urls: &Path) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(line) = std::fs::read_to_string(urls)
            .ok()
            .and_then(|t| t.lines().last().map(str::to_owned))
        {
            return Ok(line);
        }
        anyhow::ensure!(Instant::now() < deadline, "no sign-in URL within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_signs_in_through_the_browser_at_an_independent_provider() {
    let world = World::start().await;
    let (browser, urls) = handing_browser(world.home.path());
    let child = world
        .command(&["signin", "idp", "--browser", &browser, "--timeout", "90"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("reconnect signin runs");

    let walked = async {
        let url = handed_url(&urls).await?;
        let (steps, landed) = walk_sign_in(&url, "dave@peer.test").await?;
        anyhow::ensure!(steps == ["login", "consent"], "steps {steps:?}");
        anyhow::ensure!(
            landed.query_pairs().any(|(k, _)| k == "code"),
            "the provider answered without a code: {landed}"
        );
        // The browser follows the redirect to Reconnect's loopback listener.
        let page = http()
            .get(landed.clone())
            .send()
            .await
            .with_context(|| format!("delivering {landed}"))?;
        anyhow::ensure!(
            page.status().is_success(),
            "the listener said {}",
            page.status()
        );
        Ok::<_, anyhow::Error>(url)
    }
    .await;

    let out = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
        .await
        .expect("reconnect signin ends")
        .expect("reconnect signin ends");
    let url = walked.unwrap_or_else(|e| {
        panic!(
            "walking the sign-in: {e:#}\n{}\n{}",
            text(&out.stderr),
            world.peer.log()
        )
    });
    let url = url::Url::parse(&url).expect("a URL");
    assert!(url.as_str().starts_with(&world.peer.url("/auth")), "{url}");
    let param = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(
        param("code_challenge_method").as_deref(),
        Some("S256"),
        "{url}"
    );
    assert!(
        param("scope").is_some_and(|s| s.split(' ').any(|s| s == "offline_access")),
        "{url}"
    );
    // OpenID Connect Core 1.0 section 11: offline_access is granted only to
    // an authorization request with prompt=consent; oidc-provider follows
    // it (and drops the scope otherwise), so without it there is no
    // refresh token and nothing to keep alive.
    let grants = world
        .peer
        .grants()
        .await
        .expect("the peer lists its grants");
    let log = world.peer.log();
    assert!(
        grants
            .iter()
            .any(|g| g.grant_type == "authorization_code" && g.gave_refresh_token()),
        "the provider issued no refresh token for the browser sign-in (grants: {grants:?}; \
         prompt in the request: {:?}; OpenID Connect Core 1.0 section 11 grants offline_access \
         only with prompt=consent). reconnect signin exited {:?}: {}{}\npeer: {log}",
        param("prompt"),
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "signin: {}{}\n{log}",
        text(&out.stdout),
        text(&out.stderr),
    );

    world.assert_connected("dave@peer.test").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_issues_no_refresh_token_leaves_nothing_stored() {
    let world = World::start_with_client(oidc_peer::NO_REFRESH_CLIENT_ID).await;
    let (status, said) = device_signin(&world, "dora@peer.test").await;
    assert_eq!(
        status.code(),
        Some(3),
        "the client's registration must change: {said}"
    );
    assert!(
        said.contains("no refresh token") && said.contains("offline_access"),
        "{said}"
    );
    let token = world.reconnect(&["token", "idp"]).await;
    assert_ne!(token.status.code(), Some(0), "nothing was stored");
    assert!(token.stdout.is_empty());
}
