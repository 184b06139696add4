//! What work networks put between Reconnect and the sign-in service, with
//! the real binary, the simulator over real sockets and the session's
//! keyring:
//!
//! - a TLS-inspection CA known only to the operating system's trust store
//!   (here `SSL_CERT_FILE`, which the OS lookup reads): with it the refresh
//!   works; without it the refresh fails as network trouble, waited out,
//!   never "reconnect needed"; when that lasts over an hour of attempts the
//!   account "can't reach the sign-in service" (you or your IT act), and
//!   the first refresh with the CA back clears it;
//! - a proxy that answers 403 with an OAuth-looking JSON body: the body is
//!   not the grant's verdict, so the account waits (long) instead of
//!   stopping, and works again once the proxy is out of the way.

use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use reconnect_e2e::grants;
use reconnect_e2e::harness::{TempHome, assert_success, binary};
use reconnect_sim::{RunningSim, SimConfig, Simulator};
use serde_json::Value;

const ALICE: &str = "alice@contoso.test";

struct World {
    home: TempHome,
    sim: RunningSim,
    runtime: tokio::runtime::Runtime,
}

impl World {
    fn start(tls: bool) -> Self {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let sim = runtime
            .block_on(Simulator::start(SimConfig {
                tls,
                apps: vec![grants::app()],
                ..SimConfig::default()
            }))
            .expect("simulator starts");
        Self {
            home: TempHome::new(),
            sim,
            runtime,
        }
    }

    fn command(&self, env: &[(&str, &str)], args: &[&str]) -> Command {
        let mut cmd = self.home.command(binary("reconnect"));
        cmd.args(args)
            .env_remove("HTTPS_PROXY")
            .env_remove("HTTP_PROXY")
            .env_remove("ALL_PROXY")
            .env_remove("https_proxy")
            .env_remove("http_proxy")
            .env_remove("all_proxy")
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn run(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        self.command(env, args).output().expect("run reconnect")
    }

    /// Adds `work` at `authority` and imports a fresh grant for alice.
    fn connect(&self, authority: &str, env: &[(&str, &str)]) {
        let add = self.run(
            env,
            &[
                "add",
                "work",
                "--client-id",
                grants::CLIENT_ID,
                "--authority",
                authority,
                "--tenant",
                "common",
            ],
        );
        assert_success(&add, "add");
        grants::import(self.command(env, &[]), &self.sim, "work", ALICE);
    }

    fn status(&self) -> Value {
        let out = self.run(&[], &["status", "work", "--json"]);
        serde_json::from_slice(&out.stdout).expect("status --json")
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_ca_only_the_os_trust_store_knows_is_trusted_and_its_absence_is_network_trouble() {
    let world = World::start(true);
    let https = world.sim.https_url.clone().expect("TLS listener");
    let ca = world.home.path().join("corporate-ca.pem");
    std::fs::write(&ca, world.sim.ca_pem.as_deref().expect("CA")).expect("write CA");
    let empty = world.home.path().join("no-extra-roots.pem");
    std::fs::write(&empty, "").expect("write empty bundle");
    let with_ca = [("SSL_CERT_FILE", ca.to_str().expect("path"))];
    let without = [("SSL_CERT_FILE", empty.to_str().expect("path"))];

    world.connect(&https, &with_ca);
    let out = world.run(&with_ca, &["refresh", "work"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = world.run(&without, &["refresh", "work"]);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(4),
        "transient, not the grant: {err}"
    );
    assert!(
        err.contains("Secure connection failed"),
        "the cause is named: {err}"
    );
    let entry = world.status();
    let status = &entry;
    assert_eq!(entry["standing"], "retrying", "{status:#}");
    assert_eq!(entry["last_failure"]["category"], "network", "{status:#}");
    assert_eq!(
        entry["needs_attention"], false,
        "a first failure waits: {status:#}"
    );

    // The trouble lasts: more attempts over more than an hour of the
    // engine's clock, each one network trouble, never the grant.
    for offset in ["900", "2400", "3900"] {
        let at = [
            ("SSL_CERT_FILE", empty.to_str().expect("path")),
            ("RECONNECT_TEST_CLOCK_OFFSET", offset),
        ];
        let out = world.run(&at, &["refresh", "work", "--force"]);
        assert_eq!(
            out.status.code(),
            Some(4),
            "at +{offset} s: {}",
            stderr(&out)
        );
    }
    let entry = world.status();
    let status = &entry;
    assert_eq!(entry["health"]["state"], "unreachable", "{status:#}");
    assert_eq!(entry["standing"], "needs_attention", "{status:#}");
    assert_eq!(entry["needs_attention"], true, "{status:#}");
    assert_eq!(
        entry["last_failure"]["title"], "Secure connection failed",
        "the cause in words: {status:#}"
    );
    assert_eq!(
        entry["health"]["streak"]["network"]["attempts"], 4,
        "{status:#}"
    );
    let text = world.run(&[], &["status", "work"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.starts_with("work: can't reach the sign-in service"),
        "{text}"
    );
    assert!(text.contains("you or your IT"), "{text}");
    assert!(text.contains("Secure connection failed"), "{text}");
    assert!(!text.contains("reconnect needed"), "{text}");

    // The CA back in the trust store: one refresh works and clears it.
    let later = [
        ("SSL_CERT_FILE", ca.to_str().expect("path")),
        ("RECONNECT_TEST_CLOCK_OFFSET", "4000"),
    ];
    let out = world.run(&later, &["refresh", "work"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let entry = world.status();
    let status = &entry;
    assert_eq!(entry["health"]["state"], "healthy", "{status:#}");
    assert_eq!(entry["needs_attention"], false, "{status:#}");
    assert!(entry["last_failure"].is_null(), "{status:#}");
    drop(world.runtime);
}

/// A "proxy" that answers every request 403 with an Entra-looking body.
async fn refusing_proxy(seen: Arc<AtomicUsize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let app = axum::Router::new().fallback(move || {
        let seen = seen.clone();
        async move {
            seen.fetch_add(1, Ordering::SeqCst);
            let body = r#"{"error":"invalid_grant","error_description":"AADSTS70000: The provided grant is invalid.","error_codes":[70000]}"#;
            (
                axum::http::StatusCode::FORBIDDEN,
                [("content-type", "application/json")],
                body,
            )
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[test]
fn a_proxy_answering_403_in_json_is_waited_out_not_believed() {
    let world = World::start(false);
    world.connect(&world.sim.http_url.clone(), &[]);
    let seen = Arc::new(AtomicUsize::new(0));
    let proxy = world.runtime.block_on(refusing_proxy(seen.clone()));

    let through = [
        ("HTTP_PROXY", proxy.as_str()),
        ("http_proxy", proxy.as_str()),
    ];
    let out = world.run(&through, &["refresh", "work"]);
    let err = stderr(&out);
    assert!(
        seen.load(Ordering::SeqCst) > 0,
        "the request went through the proxy"
    );
    assert_eq!(out.status.code(), Some(4), "transient: {err}");
    assert!(err.contains("Can't reach the sign-in service"), "{err}");
    assert!(err.contains("HTTP 403"), "{err}");

    let entry = world.status();
    let status = &entry;
    assert_eq!(entry["standing"], "retrying", "{status:#}");
    assert_eq!(entry["last_failure"]["category"], "network", "{status:#}");
    let failed = entry["last_failure_at"].as_i64().expect("failure time");
    let next = entry["next_attempt"].as_i64().expect("next attempt");
    assert!(next - failed >= 15 * 60, "a long wait: {} s", next - failed);

    // Without the proxy in the way (and past the wait) the grant still works.
    let later = [("RECONNECT_TEST_CLOCK_OFFSET", "3600")];
    let out = world.run(&later, &["refresh", "work"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// The `client-request-id` each refresh sent, as the simulator logged it.
fn sent_ids(world: &World) -> Vec<String> {
    world
        .sim
        .state
        .log()
        .iter()
        .filter(|e| e.endpoint == "token")
        .map(|e| {
            e.client_request_id
                .clone()
                .expect("every token request carries an id")
        })
        .collect()
}

#[test]
fn each_attempts_request_id_is_the_one_the_provider_logged() {
    let world = World::start(false);
    world.connect(&world.sim.http_url.clone(), &[]);
    let out = world.run(&[], &["refresh", "work"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    world.sim.state.revoke(ALICE).expect("revoked");
    let out = world.run(
        &[("RECONNECT_TEST_CLOCK_OFFSET", "120")],
        &["refresh", "work", "--force"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let sent = sent_ids(&world);
    assert!(sent.len() >= 2, "{sent:?}");
    let unique: std::collections::HashSet<&String> = sent.iter().collect();
    assert_eq!(unique.len(), sent.len(), "a fresh id per request: {sent:?}");
    for id in &sent {
        assert!(uuid_like(id), "a UUID: {id}");
    }
    let out = world.run(&[], &["events", "work", "--json"]);
    let events: Value = serde_json::from_slice(&out.stdout).expect("events --json");
    let refreshes: Vec<&Value> = events
        .as_array()
        .expect("a list")
        .iter()
        .filter(|e| e["kind"] == "refresh")
        .collect();
    let last_two: Vec<&str> = sent[sent.len() - 2..].iter().map(String::as_str).collect();
    for id in last_two {
        assert!(
            refreshes.iter().any(|e| e["correlation_id"] == id),
            "{id} is in the timeline: {events:#}"
        );
    }
    let failed = refreshes
        .iter()
        .find(|e| e["outcome"] == "failed")
        .expect("the refused refresh");
    assert_eq!(failed["correlation_id"], sent[sent.len() - 1].as_str());
}

fn uuid_like(id: &str) -> bool {
    let groups: Vec<usize> = id.split('-').map(str::len).collect();
    groups == [8, 4, 4, 4, 12] && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}
