//! Continuous access evaluation with the real `reconnect` binary, the
//! session's keyring and the simulator:
//!
//! - every refresh request declares the client capability `cp1`;
//! - a resource's claims challenge (`reconnect token NAME --claims …`, as the
//!   base64 of a `WWW-Authenticate` header) that asks for MFA the grant
//!   lacks is refused: exit 2, "reconnect needed", in every `--format`;
//! - ONE `reconnect signin` carries the challenge to the sign-in page, and
//!   then the same `token --claims` succeeds and the account is healthy;
//! - a challenge that is neither JSON nor base64 of it is refused with
//!   exit 1 before anything is sent.

use base64::Engine as _;
use reconnect_e2e::harness::{assert_success, curl_browser};
use reconnect_e2e::world::{Connect, Profile};
use reconnect_sim::LogEntry;
use serde_json::Value;

const FORMATS: [&str; 5] = ["raw", "json", "az", "exec-credential", "xoauth2"];
/// What a resource behind an authentication context asks for.
const CHALLENGE: &str = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;

/// The shared profile ([`Profile`]) with this file's helpers.
struct World(Profile);

impl std::ops::Deref for World {
    type Target = Profile;

    fn deref(&self) -> &Profile {
        &self.0
    }
}

impl World {
    fn start() -> Self {
        Self(Profile::start(Connect::Import))
    }

    fn status(&self) -> Value {
        let out = self.run(&["status", "work", "--json"]);
        let text = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("status --json: {e}: {text}"))
    }

    fn log(&self, endpoint: &str, grant_type: Option<&str>) -> Vec<LogEntry> {
        self.sim
            .state
            .log()
            .into_iter()
            .filter(|e| e.endpoint == endpoint && e.grant_type.as_deref() == grant_type)
            .collect()
    }
}

fn health(status: &Value) -> String {
    let h = &status["health"];
    h.as_str()
        .or_else(|| h["state"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| h.to_string())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The challenge as a resource sends it: base64 in `WWW-Authenticate`.
fn header_value() -> String {
    base64::engine::general_purpose::STANDARD.encode(CHALLENGE)
}

#[test]
fn every_refresh_request_declares_cp1() {
    let world = World::start();
    let out = world.run(&["token", "work"]);
    assert_success(&out, "token");
    let out = world.run(&["refresh", "work"]);
    assert_success(&out, "refresh");

    let refreshes = world.log("token", Some("refresh_token"));
    assert!(refreshes.len() >= 2, "{refreshes:?}");
    for entry in &refreshes {
        assert_eq!(entry.client_capabilities, ["cp1"], "{entry:?}");
        assert!(!entry.claims_passed, "no challenge was given: {entry:?}");
    }
}

#[test]
fn a_challenge_round_trip_ends_healthy_after_one_signin_that_passed_the_claims() {
    let world = World::start();
    let challenge = header_value();
    let tokens_before = world.run(&["token", "work"]);
    assert_success(&tokens_before, "token without a challenge");
    let held = text(&tokens_before.stdout);

    // The grant has no MFA: the challenge is refused, in every format.
    for format in FORMATS {
        let out = world.run(&["token", "work", "--claims", &challenge, "--format", format]);
        let err = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{format}: reconnect needed: {err}"
        );
        assert!(out.stdout.is_empty(), "{format}: nothing on stdout");
        assert!(!err.contains(held.trim()), "{format}: no token on stderr");
        if format == "raw" {
            assert!(err.contains("50076"), "the provider's reason: {err}");
        }
    }
    let refused = world.log("token", Some("refresh_token"));
    let challenged: Vec<_> = refused.iter().filter(|e| e.claims_passed).collect();
    assert_eq!(
        challenged.len(),
        1,
        "one request, then stopped: {refused:?}"
    );
    assert_eq!(challenged[0].code, Some(50076), "{refused:?}");
    assert_eq!(challenged[0].client_capabilities, ["cp1"], "{refused:?}");
    let status = world.status();
    assert_eq!(health(&status), "reconnect_needed", "{status:#}");
    let kept = status["last_failure"]["claims_challenge"]
        .as_str()
        .unwrap_or_else(|| panic!("the challenge is kept: {status:#}"));
    assert!(kept.contains("acrs"), "{kept}");

    // One sign-in, which asks for what the resource wants.
    world.sim.state.clear_log();
    let browser = curl_browser(world.home.path());
    let signin = world.run(&[
        "signin",
        "work",
        "--browser",
        &browser.display().to_string(),
    ]);
    assert_success(&signin, "signin");
    let authorize = world.log("authorize", None);
    assert!(!authorize.is_empty(), "a sign-in page was opened");
    assert!(
        authorize.iter().all(|e| e.claims_passed),
        "the sign-in carried the challenge: {authorize:?}"
    );
    let exchange = world.log("token", Some("authorization_code"));
    assert_eq!(exchange.len(), 1, "{exchange:?}");
    assert!(exchange[0].claims_passed, "{exchange:?}");
    assert_eq!(exchange[0].client_capabilities, ["cp1"], "{exchange:?}");
    assert_eq!(health(&world.status()), "healthy");

    // The same challenge is now answered, in every format.
    for format in FORMATS {
        let out = world.run(&["token", "work", "--claims", &challenge, "--format", format]);
        assert_success(&out, &format!("token --claims --format {format}"));
        assert!(!out.stdout.is_empty(), "{format}");
    }
    let answered = world.log("token", Some("refresh_token"));
    assert_eq!(
        answered.len(),
        FORMATS.len(),
        "each call refreshed: {answered:?}"
    );
    assert!(
        answered.iter().all(|e| e.claims_passed && e.code.is_none()),
        "{answered:?}"
    );
    let status = world.status();
    assert_eq!(health(&status), "healthy", "{status:#}");
    assert!(status["last_failure"].is_null(), "{status:#}");
}

#[test]
fn a_challenge_that_is_not_one_is_refused_before_anything_is_sent() {
    let world = World::start();
    world.sim.state.clear_log();
    for bad in ["not-a-challenge", "[1,2]", "eyJub3QiOg"] {
        let out = world.run(&["token", "work", "--claims", bad]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{bad}: {err}");
        assert!(err.contains("--claims"), "{bad}: names the option: {err}");
        assert!(err.contains("JSON"), "{bad}: says what is expected: {err}");
        assert!(out.stdout.is_empty(), "{bad}");
    }
    assert!(world.sim.state.log().is_empty(), "nothing was sent");
    assert_eq!(health(&world.status()), "healthy");
}
