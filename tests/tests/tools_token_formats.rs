//! `reconnect token --format` for the tools people already use, against the
//! simulator: the real binary, real SQLite and the session's keyring.
//!
//! - `json` and `az` carry the same token and expiry as the bare token, in
//!   the names their consumers read.
//! - `xoauth2` decodes to the SASL string for the account's user (or
//!   `--user`).
//! - `--min-ttl` longer than the token has left refreshes first.
//! - Every format exits with `token`'s code for a broken account, prints
//!   nothing on stdout, and never puts a token on stderr.
//!
//! The ExecCredential is checked by Kubernetes' own client library in
//! `scripts/ci/kube.sh`; git's helper protocol by a real git in
//! `tools_git.rs`.

use base64::Engine as _;
use reconnect_e2e::harness::assert_success;
use reconnect_e2e::world::{ALICE, Connect, Profile};
use serde_json::Value;

const FORMATS: [&str; 5] = ["raw", "json", "az", "exec-credential", "xoauth2"];

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
        Self(Profile::start(Connect::Signin))
    }

    fn token(&self, extra: &[&str]) -> String {
        let mut args = vec!["token", "work"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        assert_success(&out, &format!("token {extra:?}"));
        String::from_utf8(out.stdout)
            .expect("UTF-8")
            .trim_end()
            .to_owned()
    }

    fn json(&self, format: &str) -> Value {
        let text = self.token(&["--format", format]);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{format}: {e}: {text}"))
    }
}

#[test]
fn json_and_az_carry_the_same_token_and_expiry() {
    let world = World::start();
    let raw = world.token(&[]);
    assert_eq!(raw.split('.').count(), 3, "a JWT: {raw}");

    let json = world.json("json");
    assert_eq!(json["access_token"], raw.as_str(), "the cached token");
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["account"], "work");
    assert_eq!(json["tenant"], world.sim.state.tenant_of(ALICE));
    assert!(
        json["scope"].as_str().unwrap().contains("User.Read"),
        "{json}"
    );
    let expires_on = json["expires_on"].as_i64().expect("Unix expiry");
    assert!(expires_on > world.sim.state.now() + 300, "{json}");
    let at: jiff::Timestamp = json["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .expect("RFC 3339");
    assert_eq!(at.as_second(), expires_on);

    let az = world.json("az");
    assert_eq!(az["accessToken"], raw.as_str());
    assert_eq!(az["expires_on"], expires_on);
    assert_eq!(az["tokenType"], "Bearer");
    assert_eq!(az["tenant"], world.sim.state.tenant_of(ALICE));
    let local = az["expiresOn"].as_str().expect("expiresOn");
    let parsed = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S.%f", local)
        .expect("az's local time format");
    let back = parsed
        .to_zoned(jiff::tz::TimeZone::system())
        .expect("a local time")
        .timestamp();
    assert_eq!(back.as_second(), expires_on, "{local}");
}

#[test]
fn xoauth2_is_the_sasl_string_for_the_accounts_user() {
    let world = World::start();
    let raw = world.token(&[]);
    let decode = |text: String| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .expect("base64");
        String::from_utf8(bytes).expect("UTF-8")
    };
    let sasl = decode(world.token(&["--format", "xoauth2"]));
    assert_eq!(sasl, format!("user={ALICE}\x01auth=Bearer {raw}\x01\x01"));
    let other = decode(world.token(&["--format", "xoauth2", "--user", "shared@contoso.test"]));
    assert!(
        other.starts_with("user=shared@contoso.test\x01auth=Bearer "),
        "{other:?}"
    );

    let out = world.run(&["token", "work", "--user", "x@y.test"]);
    assert_eq!(out.status.code(), Some(1), "--user belongs to xoauth2");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_longer_min_ttl_refreshes_first() {
    let world = World::start();
    let first = world.json("json");
    let left = first["expires_on"].as_i64().unwrap() - world.sim.state.now();
    let refreshes = || {
        world
            .sim
            .state
            .log()
            .iter()
            .filter(|e| e.endpoint == "token")
            .count()
    };
    let before = refreshes();
    let same = world.json("json");
    assert_eq!(same["access_token"], first["access_token"]);
    let ttl = format!("{}s", left + 60);
    let again = world.token(&["--min-ttl", &ttl]);
    assert_ne!(again, first["access_token"].as_str().unwrap());
    assert_eq!(refreshes(), before + 1, "exactly one refresh");

    let bad = world.run(&["token", "work", "--min-ttl", "soon"]);
    assert_eq!(bad.status.code(), Some(2), "clap rejects the value");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("90s"));
}

#[test]
fn every_format_fails_with_the_token_exit_code_and_no_token_anywhere() {
    let world = World::start();
    let raw = world.token(&[]);
    world.sim.state.revoke(ALICE).expect("revoked");
    // Past the access token's life, so a refresh is needed and refused;
    // the refused refresh and its one retry (after the 60 s floor) leave the
    // account at "reconnect needed".
    world.sim.state.advance_clock(2 * 3_600).expect("clock");
    let at = |offset: i64, args: &[&str]| {
        let mut cmd = world.command(args);
        cmd.env("RECONNECT_TEST_CLOCK_OFFSET", offset.to_string());
        cmd.output().expect("run")
    };
    for offset in [2 * 3_600, 2 * 3_600 + 61] {
        let out = at(offset, &["refresh", "work", "--force"]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for format in FORMATS {
        let out = at(2 * 3_600 + 120, &["token", "work", "--format", format]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{format}: reconnect needed: {stderr}"
        );
        assert!(stderr.contains("reconnect"), "{format}: says why: {stderr}");
        assert!(out.stdout.is_empty(), "{format}: nothing on stdout");
        assert!(!stderr.contains(&raw), "{format}: no token on stderr");
        assert!(
            !stderr.contains("eyJ"),
            "{format}: no JWT on stderr: {stderr}"
        );
    }
}
