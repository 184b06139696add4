//! The refresh engine across real processes: `reconnect token`, `refresh`,
//! `status` and `events` as scripts run them, against the simulator, with the
//! real SQLite database and the real Secret Service (run inside
//! `scripts/with-session.sh`).
//!
//! How an access token is made "expired" here: processes read the real clock
//! while the simulator's tokens carry virtual times, so the tests start the
//! CLI with `RECONNECT_TEST_CLOCK_OFFSET=<seconds>` (an engine test hook): a
//! process two hours "ahead" sees the one-hour access token as expired and
//! must refresh. Kills land at chosen points through the engine's
//! `RECONNECT_TEST_PAUSE_AT` hook, and mid-request through the simulator's
//! `slow` outage.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use reconnect_e2e::grants::{self, CLIENT_ID as CLIENT};
use reconnect_e2e::harness::{TempHome, assert_success as assert_ok, binary};
use reconnect_sim::{RunningSim, SimConfig, Simulator};

const ALICE: &str = "alice@contoso.test";

struct Setup {
    home: TempHome,
    sim: RunningSim,
    runtime: tokio::runtime::Runtime,
}

impl Setup {
    /// A simulator, a data dir, and account `work` imported for alice.
    fn new() -> Self {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let sim = runtime
            .block_on(Simulator::start(SimConfig {
                apps: vec![grants::app()],
                ..SimConfig::default()
            }))
            .expect("simulator starts");
        let setup = Self {
            home: TempHome::new(),
            sim,
            runtime,
        };
        setup.add("work", ALICE);
        setup
    }

    fn add(&self, name: &str, upn: &str) {
        let out = self.run(
            &[
                "add",
                name,
                "--authority",
                &self.sim.http_url,
                "--tenant",
                "common",
                "--client-id",
                CLIENT,
            ],
            &[],
        );
        assert_ok(&out, "add");
        grants::import(self.home.command(binary("reconnect")), &self.sim, name, upn);
    }

    fn command(&self, args: &[&str], env: &[(&str, String)]) -> Command {
        let mut cmd = self.home.command(binary("reconnect"));
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, args: &[&str], env: &[(&str, String)]) -> Output {
        self.command(args, env).output().expect("run reconnect")
    }

    fn refreshes(&self) -> Vec<Option<u32>> {
        self.sim
            .state
            .log()
            .iter()
            .filter(|e| e.grant_type.as_deref() == Some("refresh_token"))
            .map(|e| e.code)
            .collect()
    }

    fn fault(&self, json: serde_json::Value) {
        let request = serde_json::from_value(json).expect("fault");
        self.sim.state.add_fault(request).expect("fault added");
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = &self.runtime;
    }
}

fn offset(seconds: i64) -> (&'static str, String) {
    ("RECONNECT_TEST_CLOCK_OFFSET", seconds.to_string())
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A JWT-shaped line and nothing else.
fn assert_only_a_token(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "stdout must be the token alone: {text:?}");
    assert_eq!(lines[0].split('.').count(), 3, "a JWT: {text:?}");
    lines[0].to_owned()
}

/// Runs 32 `reconnect token work` processes at once, `clock` seconds ahead;
/// returns the one token they all printed.
fn thirty_two_at_once(setup: &Setup, clock: i64, round: usize) -> String {
    let children: Vec<Child> = (0..32)
        .map(|_| {
            setup
                .command(&["token", "work"], &[offset(clock)])
                .spawn()
                .expect("spawn token")
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect();
    let mut tokens = std::collections::BTreeSet::new();
    for out in &outputs {
        assert_ok(out, &format!("round {round}: token"));
        let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
        assert!(
            !err.contains("keychain") && !err.contains("keyring"),
            "round {round}: a process saw a keychain problem: {err}"
        );
        tokens.insert(assert_only_a_token(&stdout(out)));
    }
    assert_eq!(
        tokens.len(),
        1,
        "round {round}: all 32 printed the same token"
    );
    tokens.into_iter().next().expect("one token")
}

/// 32 processes × 10 rounds against one gnome-keyring, each round two hours
/// after the last (the access token has expired for them): exactly one
/// refresh per round reaches the simulator, nobody sees a keychain error,
/// and gnome-keyring stays up.
#[test]
fn thirty_two_token_processes_on_an_expired_token_cause_one_refresh() {
    let setup = Setup::new();
    let restarts = reconnect_e2e::harness::keyring_restarts();
    // First use: no access token yet, one refresh.
    let first = setup.run(&["token", "work"], &[]);
    assert_ok(&first, "first token");
    let mut previous = assert_only_a_token(&stdout(&first));
    assert_eq!(setup.refreshes().len(), 1);
    for round in 1..=10 {
        let token = thirty_two_at_once(&setup, i64::try_from(round).unwrap() * 2 * 3600, round);
        assert_ne!(
            token, previous,
            "round {round}: a fresh token, not the expired one"
        );
        previous = token;
        assert_eq!(
            setup.refreshes(),
            vec![None; round + 1],
            "round {round}: exactly one more refresh reached the simulator"
        );
    }
    assert_eq!(
        reconnect_e2e::harness::keyring_restarts(),
        restarts,
        "gnome-keyring stayed up{}",
        reconnect_e2e::harness::keyring_note()
    );
}

/// Starts `reconnect refresh work` paused at `point` and kills it there.
fn kill_at_pause(setup: &Setup, point: &str, clock: i64) {
    let mut child = setup
        .command(
            &["refresh", "work"],
            &[
                ("RECONNECT_TEST_PAUSE_AT", point.to_owned()),
                ("RECONNECT_TEST_PAUSE_MS", "60000".to_owned()),
                offset(clock),
            ],
        )
        .spawn()
        .expect("spawn refresh");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let wanted = format!("reconnect-test-paused {point}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "never reached {point}");
        match lines.next() {
            Some(Ok(line)) if line.trim() == wanted => break,
            Some(Ok(_)) => {}
            _ => panic!("refresh ended before pausing at {point}"),
        }
    }
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
}

fn assert_still_connected(setup: &Setup, clock: i64, what: &str) {
    let out = setup.run(&["token", "work"], &[offset(clock)]);
    assert_ok(&out, what);
    assert_only_a_token(&stdout(&out));
    let status = setup.run(&["status", "work", "--json"], &[offset(clock)]);
    assert_ok(&status, "status");
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    assert_eq!(json["health"]["state"], "healthy", "{what}: {json}");
}

#[test]
fn kill_9_mid_refresh_never_loses_the_connection() {
    let setup = Setup::new();
    assert_ok(&setup.run(&["token", "work"], &[]), "first token");
    let mut clock = 0;
    let points = ["locked", "response", "vault_written", "metadata_written"];
    for round in 0..2 {
        for point in points {
            clock += 2 * 3600;
            kill_at_pause(&setup, point, clock);
            // The lock died with the process; the next run refreshes (the
            // access token is expired at this clock) and all is well.
            assert_still_connected(&setup, clock, &format!("round {round}, killed at {point}"));
        }
    }
    // Kills while the request is in flight, at different moments.
    for delay_ms in [30_u64, 120, 250, 500, 900] {
        clock += 2 * 3600;
        setup.fault(serde_json::json!({"outage": "slow", "count": 1, "delay_ms": 1500}));
        let mut child = setup
            .command(&["refresh", "work"], &[offset(clock)])
            .spawn()
            .expect("spawn refresh");
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().expect("kill -9");
        child.wait().expect("reaped");
        std::thread::sleep(Duration::from_millis(1_600)); // let the slow answer drain
        assert_still_connected(
            &setup,
            clock,
            &format!("killed {delay_ms} ms into a slow request"),
        );
    }
    let failures: Vec<_> = setup.refreshes().into_iter().flatten().collect();
    assert!(failures.is_empty(), "no refresh ever failed: {failures:?}");
}

#[test]
fn exit_codes_and_stderr_follow_the_decoded_verdict() {
    let setup = Setup::new();
    setup.add("admin", "bob@contoso.test");
    let expired = [offset(2 * 3600)];

    // Transient: 503 → exit 4, nothing on stdout.
    setup.fault(serde_json::json!({"outage": "503", "count": 1}));
    let out = setup.run(&["token", "work"], &expired);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());

    // Reconnect needed: revoked → exit 2 with the decoded reason.
    setup.runtime.block_on(async {
        tokio::time::sleep(Duration::from_millis(1_100)).await;
    });
    setup.sim.state.advance_clock(2).expect("clock");
    setup.sim.state.revoke(ALICE).expect("revoke");
    let out = setup.run(&["token", "work"], &[offset(3 * 3600)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("AADSTS50173"), "{err}");
    assert!(err.contains("Correlation ID"), "{err}");

    // Needs admin: Conditional Access block → exit 3.
    let patch = serde_json::from_value(serde_json::json!({"ca_blocked": true})).expect("patch");
    setup
        .sim
        .state
        .set_user_state("bob@contoso.test", &patch)
        .expect("state");
    let out = setup.run(&["token", "admin"], &expired);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AADSTS53003"));

    // Anything else: an unknown account → exit 1.
    let out = setup.run(&["token", "nobody"], &[]);
    assert_eq!(out.status.code(), Some(1));

    // status --json carries the decoder's verdict; events show the attempts.
    let out = setup.run(&["status", "--json"], &expired);
    assert_ok(&out, "status");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let admin = json["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["name"] == "admin")
        .expect("admin listed");
    assert_eq!(admin["health"]["state"], "needs_admin");
    assert_eq!(admin["last_failure"]["primary_code"], 53003);
    assert_eq!(admin["last_failure"]["who_acts"], "admin");
    let out = setup.run(&["events", "work", "--json", "--since", "1h"], &[]);
    assert_ok(&out, "events");
    let events: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let outcomes: Vec<&str> = events
        .as_array()
        .expect("array")
        .iter()
        .filter(|e| e["kind"] == "refresh")
        .filter_map(|e| e["outcome"].as_str())
        .collect();
    assert_eq!(
        outcomes,
        vec!["failed", "failed"],
        "newest first: revoked, then 503"
    );
    let out = setup.run(&["events", "--since", "soon"], &[]);
    assert_eq!(out.status.code(), Some(2), "clap rejects a bad duration");
}
