//! A real git (Debian's) authenticates with `reconnect credential` to a
//! local HTTP git server that only takes the simulator's access tokens for
//! Azure DevOps, the way `dev.azure.com` takes Entra's.
//!
//! The server is git's own `git http-backend` behind a small HTTP front
//! that checks Basic credentials: the password must be an ES256 token signed
//! by the simulator's published key, for Azure DevOps, not expired on the
//! simulator's clock. git is configured once, exactly as the README says
//! (`credential.<url>.helper "reconnect credential"`, `useHttpPath`), and
//! the route comes from the profile's `config.toml`.
//!
//! The story: a push works; the user's grant is revoked and the access
//! token runs out, so the next push fails with Reconnect's reason and no
//! password prompt; after `reconnect signin` the next push works with
//! git's configuration untouched.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reconnect_e2e::harness::{TempHome, assert_success, binary, curl_browser};
use reconnect_sim::{AppRegistration, GrantRequest, RunningSim, SimConfig, SimState, Simulator};
use tokio::io::AsyncWriteExt;

const ALICE: &str = "alice@contoso.test";
const CLIENT_ID: &str = "0a0b0c0d-1111-2222-3333-444455556666";
/// Azure DevOps' resource id, as its tokens carry it in `aud`.
const DEVOPS: &str = "499b84ac-1321-427f-aa17-267ca6975798";
const GIT: &str = "/usr/bin/git";

/// The git server's view of who pushed.
#[derive(Clone)]
struct Front {
    root: PathBuf,
    sim: SimState,
    keys: Arc<JwkSet>,
    users: Arc<Mutex<Vec<String>>>,
}

impl Front {
    /// The user behind a valid DevOps token in the Basic credentials, or
    /// why there is none (printed, so a failure says what the server saw).
    fn user(&self, headers: &HeaderMap) -> Result<String, String> {
        let basic = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .ok_or("no Basic credentials")?;
        let pair = base64::engine::general_purpose::STANDARD
            .decode(basic)
            .map_err(|e| e.to_string())?;
        let pair = String::from_utf8(pair).map_err(|e| e.to_string())?;
        let (_, token) = pair.split_once(':').ok_or("no password")?;
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("header: {e}"))?;
        let kid = header.kid.ok_or("no kid")?;
        let jwk = self.keys.find(&kid).ok_or("unknown kid")?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
        let mut rules = Validation::new(Algorithm::ES256);
        rules.set_audience(&[DEVOPS]);
        rules.validate_exp = false;
        rules.required_spec_claims = HashSet::new();
        let claims = jsonwebtoken::decode::<serde_json::Value>(token, &key, &rules)
            .map_err(|e| format!("token: {e}"))?
            .claims;
        if claims["exp"]
            .as_i64()
            .is_none_or(|exp| exp <= self.sim.now())
        {
            return Err("expired".into());
        }
        let user = claims
            .get("upn")
            .or_else(|| claims.get("preferred_username"));
        user.and_then(|u| u.as_str())
            .map(str::to_owned)
            .ok_or_else(|| "no user in the token".into())
    }
}

async fn serve(State(front): State<Front>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let user = match front.user(&parts.headers) {
        Ok(user) => user,
        Err(why) => {
            eprintln!("git server: 401 for {}: {why}", parts.uri);
            return (
                StatusCode::UNAUTHORIZED,
                [("www-authenticate", "Basic realm=\"reconnect-test\"")],
            )
                .into_response();
        }
    };
    front.users.lock().unwrap().push(user.clone());
    let Ok(body) = axum::body::to_bytes(body, 64 << 20).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let mut cgi = tokio::process::Command::new(GIT);
    cgi.arg("http-backend")
        .env("GIT_PROJECT_ROOT", &front.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("PATH_INFO", parts.uri.path())
        .env("QUERY_STRING", parts.uri.query().unwrap_or(""))
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .env("GIT_PROTOCOL", header("git-protocol"))
        .env("REMOTE_USER", &user)
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cgi.spawn().expect("git http-backend starts");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(&body).await.expect("request body");
    drop(stdin);
    let out = child
        .wait_with_output()
        .await
        .expect("git http-backend ends");
    cgi_response(&out.stdout)
}

/// Turns CGI output (headers, a blank line, the body) into a response.
fn cgi_response(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4))
        .or_else(|| {
            raw.windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, i + 2))
        })
        .expect("CGI headers end");
    let head = String::from_utf8_lossy(&raw[..split.0]).into_owned();
    let mut response = Response::builder();
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value.split(' ').next().unwrap_or("200");
            response = response.status(code.parse::<u16>().expect("status"));
        } else {
            response = response.header(name.trim(), value);
        }
    }
    response
        .body(Body::from(raw[split.1..].to_vec()))
        .expect("response")
}

struct World {
    home: TempHome,
    sim: RunningSim,
    runtime: tokio::runtime::Runtime,
    url: String,
    users: Arc<Mutex<Vec<String>>>,
    work: PathBuf,
    offset: Mutex<i64>,
}

impl World {
    fn start() -> Self {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let config = SimConfig {
            auto_approve: Some(ALICE.to_owned()),
            apps: vec![AppRegistration::desktop(CLIENT_ID)],
            ..SimConfig::default()
        };
        let sim = runtime
            .block_on(Simulator::start(config))
            .expect("simulator starts");
        let home = TempHome::new();
        let root = home.path().join("served");
        std::fs::create_dir_all(root.join("team")).expect("mkdir");
        let keys: JwkSet = serde_json::from_value(sim.state.jwks()).expect("JWKS");
        let users = Arc::new(Mutex::new(Vec::new()));
        let front = Front {
            root: root.clone(),
            sim: sim.state.clone(),
            keys: Arc::new(keys),
            users: users.clone(),
        };
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let app = axum::Router::new().fallback(serve).with_state(front);
        runtime.spawn(async move { axum::serve(listener, app).await });
        let world = Self {
            url: format!("http://127.0.0.1:{port}"),
            work: home.path().join("work"),
            home,
            sim,
            runtime,
            users,
            offset: Mutex::new(0),
        };
        world.git_ok(&["init", "--bare", "-b", "main", "team/app.git"], &root);
        world
    }

    fn reconnect(&self, args: &[&str]) -> Output {
        self.with_env(self.home.command(binary("reconnect")))
            .args(args)
            .output()
            .expect("run reconnect")
    }

    fn with_env(&self, mut cmd: Command) -> Command {
        let bin_dir = binary("reconnect").parent().expect("dir").to_owned();
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.env("PATH", path)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("GIT_ASKPASS")
            .env_remove("SSH_ASKPASS")
            .env(
                "RECONNECT_TEST_CLOCK_OFFSET",
                self.offset.lock().unwrap().to_string(),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn git(&self, args: &[&str], dir: &Path) -> Output {
        self.with_env(self.home.command(GIT))
            .current_dir(dir)
            .args(args)
            .output()
            .expect("run git")
    }

    fn git_ok(&self, args: &[&str], dir: &Path) -> String {
        let out = self.git(args, dir);
        assert_success(&out, &format!("git {args:?}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Connects `work` for Azure DevOps with a grant minted for alice.
    fn connect(&self) {
        let scope = format!("{DEVOPS}/.default openid profile offline_access");
        let add = self.reconnect(&[
            "add",
            "work",
            "--client-id",
            CLIENT_ID,
            "--authority",
            &self.sim.http_url,
            "--tenant",
            "common",
            "--scopes",
            &scope,
        ]);
        assert_success(&add, "add");
        let grant = GrantRequest {
            upn: ALICE.into(),
            client_id: CLIENT_ID.into(),
            scope,
            spa: false,
            mfa: false,
        };
        let minted = self
            .sim
            .state
            .mint_grant(&grant, &self.sim.http_url)
            .expect("grant");
        let refresh = minted["refresh_token"].as_str().expect("refresh token");
        let mut import = self.with_env(self.home.command(binary("reconnect")));
        import
            .args(["import", "work", "--refresh-token-stdin"])
            .stdin(Stdio::piped());
        let mut child = import.spawn().expect("import");
        std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), refresh.as_bytes())
            .expect("write");
        assert_success(&child.wait_with_output().expect("import ends"), "import");
    }

    /// Edits, commits and pushes one file; returns git's output.
    fn push(&self, line: &str) -> Output {
        std::fs::write(self.work.join("notes.txt"), line).expect("edit");
        self.git_ok(&["add", "notes.txt"], &self.work);
        self.git_ok(&["commit", "-q", "-m", line], &self.work);
        self.git(&["push", "-q", "origin", "main"], &self.work)
    }

    fn global_config(&self) -> String {
        self.git_ok(&["config", "--global", "--list"], self.home.path())
    }
}

#[test]
fn git_pushes_with_reconnect_credential_and_recovers_after_a_reconnect() {
    let world = World::start();
    world.connect();
    let config = world.home.reconnect_home().join("config.toml");
    std::fs::write(
        &config,
        "[[route]]\nhost = \"127.0.0.1\"\npath = \"team/*\"\naccount = \"work\"\n\n\
         [[route]]\nhost = \"git.elsewhere.test\"\naccount = \"other\"\n",
    )
    .expect("config.toml");
    let helper_key = format!("credential.{}.helper", world.url);
    let path_key = format!("credential.{}.useHttpPath", world.url);
    let home = world.home.path().to_owned();
    world.git_ok(
        &["config", "--global", &helper_key, "reconnect credential"],
        &home,
    );
    world.git_ok(&["config", "--global", &path_key, "true"], &home);
    world.git_ok(&["config", "--global", "user.name", "Alice"], &home);
    world.git_ok(&["config", "--global", "user.email", ALICE], &home);
    let configured = world.global_config();

    let remote = format!("{}/team/app.git", world.url);
    let check = world.reconnect(&["credential", "--check", &remote]);
    assert_success(&check, "credential --check");
    assert!(String::from_utf8_lossy(&check.stdout).contains("account `work`"));

    world.git_ok(&["clone", "-q", &remote, "work"], &home);
    let first = world.push("first");
    assert_success(&first, "the first push");
    assert_eq!(
        world.users.lock().unwrap().last().map(String::as_str),
        Some(ALICE)
    );

    // The grant dies (a password reset) and the access token runs out.
    world.sim.state.revoke(ALICE).expect("revoked");
    world.sim.state.advance_clock(2 * 3_600).expect("clock");
    *world.offset.lock().unwrap() = 2 * 3_600;
    let refused = world.push("second");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "the push fails: {stderr}");
    assert!(stderr.contains("reconnect"), "Reconnect says why: {stderr}");
    assert!(
        !stderr.contains("eyJ"),
        "no token in git's output: {stderr}"
    );

    let browser = curl_browser(world.home.path());
    let signin = world.reconnect(&[
        "signin",
        "work",
        "--browser",
        &browser.display().to_string(),
    ]);
    assert_success(&signin, "signin");

    let after = world.git(&["push", "-q", "origin", "main"], &world.work);
    assert_success(&after, "the push after the reconnect");
    assert_eq!(
        world.global_config(),
        configured,
        "git's configuration is untouched"
    );
    let log = world.git_ok(
        &["log", "--format=%s", "main"],
        &world.home.path().join("served/team/app.git"),
    );
    assert_eq!(log.lines().collect::<Vec<_>>(), ["second", "first"]);
    drop(world.runtime);
}

#[test]
fn the_helper_explains_a_missing_route_and_a_missing_path() {
    let world = World::start();
    let remote = format!("{}/team/app.git", world.url);
    let none = world.reconnect(&["credential", "--check", &remote]);
    assert_eq!(none.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&none.stderr);
    assert!(
        stderr.contains("no route") && stderr.contains("[[route]]"),
        "{stderr}"
    );

    std::fs::write(
        world.home.reconnect_home().join("config.toml"),
        "[[route]]\nhost = \"127.0.0.1\"\npath = \"team/*\"\naccount = \"work\"\n",
    )
    .expect("config.toml");
    let mut get = world.with_env(world.home.command(binary("reconnect")));
    get.args(["credential", "get"]).stdin(Stdio::piped());
    let mut child = get.spawn().expect("spawn");
    std::io::Write::write_all(
        &mut child.stdin.take().expect("stdin"),
        b"protocol=http\nhost=127.0.0.1:9\n\n",
    )
    .expect("write");
    let out = child.wait_with_output().expect("ends");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("useHttpPath"), "{stderr}");
    assert!(out.stdout.is_empty());

    std::fs::write(
        world.home.reconnect_home().join("config.toml"),
        "[[route]]\nhost = 1\n",
    )
    .expect("config.toml");
    let bad = world.reconnect(&["credential", "--check", &remote]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("config.toml"));

    for action in ["store", "erase"] {
        let out = world.reconnect(&["credential", action]);
        assert_success(&out, action);
    }
}
