//! The one guarded way tokens are written, across real processes: the
//! `reconnect` binary, the simulator, real SQLite and a real gnome-keyring on
//! a bus of the test's own (so the test can lock it).
//!
//! - A sign-in that completes while a slow refresh of the same account is in
//!   flight keeps its grant; the late refresh writes nothing and the timeline
//!   says so; the next refresh redeems the sign-in's grant.
//! - Removing an account during a slow refresh leaves no keychain entry.
//! - When the keychain refuses the tokens of a refresh that rotated the
//!   refresh token, `reconnect token` prints no token and fails; the account
//!   shows "unsaved credentials" until a later save succeeds.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use reconnect_e2e::grants::{self, CLIENT_ID as CLIENT};
use reconnect_e2e::harness::{Paused, TempHome, assert_success as ok, binary, curl_browser};
use reconnect_e2e::keyring::Keyring;
use reconnect_sim::{RunningSim, SimConfig, Simulator};
use serde_json::Value;

const ALICE: &str = "alice@contoso.test";
/// How long the simulator holds the refresh that the test races against.
const SLOW_MS: u64 = 6_000;

struct World {
    keyring: Keyring,
    home: TempHome,
    sim: RunningSim,
    _runtime: tokio::runtime::Runtime,
    browser: std::path::PathBuf,
}

impl World {
    fn start() -> Self {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let config = SimConfig {
            auto_approve: Some(ALICE.to_owned()),
            apps: vec![grants::app()],
            ..SimConfig::default()
        };
        let sim = runtime
            .block_on(Simulator::start(config))
            .expect("simulator starts");
        let home = TempHome::new();
        // The "browser": fetches the sign-in URL and follows the redirects
        // (the simulator approves alice without a page).
        let browser = curl_browser(home.path());
        Self {
            keyring: Keyring::start(),
            home,
            sim,
            _runtime: runtime,
            browser,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.home.command(binary("reconnect"));
        cmd.env("DBUS_SESSION_BUS_ADDRESS", self.keyring.address())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run reconnect")
    }

    /// Adds `name` (Microsoft, or an OpenID provider at the simulator's
    /// issuer) and imports a grant minted for alice without MFA.
    fn connect(&self, name: &str, oidc: bool) {
        let issuer = format!(
            "{}/{}/v2.0",
            self.sim.http_url,
            self.sim.state.tenant_of(ALICE)
        );
        let mut args = vec!["add", name, "--client-id", CLIENT];
        if oidc {
            args.extend(["--provider", "oidc", "--authority", &issuer]);
        } else {
            args.extend(["--authority", &self.sim.http_url, "--tenant", "common"]);
        }
        ok(&self.run(&args), "add");
        let mut command = self.home.command(binary("reconnect"));
        command.env("DBUS_SESSION_BUS_ADDRESS", self.keyring.address());
        grants::import(command, &self.sim, name, ALICE);
    }

    /// Makes the next token request hang for [`SLOW_MS`].
    fn slow_next_refresh(&self) {
        let fault = serde_json::json!({"outage": "slow", "count": 1, "delay_ms": SLOW_MS});
        let request = serde_json::from_value(fault).expect("fault");
        self.sim.state.add_fault(request).expect("fault added");
    }

    /// Starts `reconnect refresh NAME` and returns once its request is
    /// being held at the simulator (which took the queued `slow` outage).
    fn refresh_in_flight(&self, name: &str) -> Paused {
        let paused = Paused::spawn(
            self.command(&["refresh", name])
                .env("RECONNECT_TEST_PAUSE_AT", "locked")
                .env("RECONNECT_TEST_PAUSE_MS", "1"),
            "locked",
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !self.sim.state.faults().is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "the refresh never reached the simulator"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        paused
    }

    fn status(&self, name: &str) -> Value {
        let out = self.run(&["status", name, "--json"]);
        ok(&out, "status");
        serde_json::from_slice(&out.stdout).expect("status JSON")
    }

    fn events(&self) -> String {
        let out = self.run(&["events"]);
        ok(&out, "events");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The keychain items of this data directory, locked or not.
    fn keychain_items(&self) -> usize {
        let home = reconnect_store::Home::at(self.home.reconnect_home()).expect("home");
        let query = format!("{{'service': '{}'}}", home.keychain_service());
        let answer = self
            .keyring
            .call(&["org.freedesktop.Secret.Service.SearchItems", &query]);
        answer
            .matches("/org/freedesktop/secrets/collection/")
            .count()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_sign_in_during_a_slow_refresh_is_kept_and_used_next() {
    let world = World::start();
    world.connect("work", false);
    world.slow_next_refresh();
    let refresh = world.refresh_in_flight("work");

    let browser = world.browser.to_string_lossy().into_owned();
    let signin = world.run(&["signin", "work", "--browser", &browser, "--timeout", "30"]);
    ok(&signin, "sign-in while a refresh is in flight");

    let late = refresh.wait();
    assert!(
        !late.status.success(),
        "the late refresh must not claim success"
    );
    assert!(
        stderr(&late).contains("reconnected while this refresh was in flight"),
        "{}",
        stderr(&late)
    );
    let events = world.events();
    assert!(
        events.contains("discarded") && events.contains("new sign-in kept"),
        "the timeline says the refresh was dropped:\n{events}"
    );
    let status = world.status("work");
    assert_eq!(status["health"]["state"], "healthy", "{status:#}");

    // The next refresh redeems the sign-in's grant: the simulator recorded
    // MFA in it (the imported grant had none).
    ok(&world.run(&["refresh", "work"]), "the next refresh");
    let last = world
        .sim
        .state
        .log()
        .into_iter()
        .rfind(|e| e.grant_type.as_deref() == Some("refresh_token") && e.status == 200)
        .expect("a successful refresh");
    assert_eq!(
        last.mfa,
        Some(true),
        "the refresh used the old grant: {last:?}"
    );
}

#[test]
fn removing_an_account_during_a_slow_refresh_leaves_no_keychain_entry() {
    let world = World::start();
    world.connect("work", false);
    assert!(world.keychain_items() > 0, "the import is in the keychain");
    world.slow_next_refresh();
    let refresh = world.refresh_in_flight("work");

    ok(&world.run(&["remove", "work"]), "remove during the refresh");
    assert_eq!(
        world.keychain_items(),
        0,
        "removal empties the keychain at once"
    );

    let late = refresh.wait();
    assert!(!late.status.success(), "{}", stderr(&late));
    assert_eq!(
        world.keychain_items(),
        0,
        "the late refresh wrote nothing back: {}",
        stderr(&late)
    );
    let accounts = world.run(&["accounts", "--json"]);
    ok(&accounts, "accounts");
    let list: Value = serde_json::from_slice(&accounts.stdout).expect("JSON");
    assert_eq!(list.as_array().map(Vec::len), Some(0), "{list:#}");
    assert!(
        world
            .events()
            .contains("removed while this refresh was in flight")
    );
}

/// Runs `reconnect token NAME` two hours ahead (its access token expired),
/// and locks the keyring while the provider's answer is being handled.
fn token_with_the_keyring_locked_mid_refresh(world: &World, name: &str) -> Output {
    let paused = Paused::spawn(
        world
            .command(&["token", name])
            .env("RECONNECT_TEST_CLOCK_OFFSET", "7200")
            .env("RECONNECT_TEST_PAUSE_AT", "response")
            .env("RECONNECT_TEST_PAUSE_MS", "3000"),
        "response",
    );
    world.keyring.lock();
    paused.wait()
}

#[test]
fn a_rotated_refresh_token_the_keychain_refuses_is_never_handed_out_as_saved() {
    let mut world = World::start();
    world.connect("idp", true);
    let out = token_with_the_keyring_locked_mid_refresh(&world, "idp");
    let err = stderr(&out);
    assert!(!out.status.success(), "token must fail: {err}");
    assert!(
        out.stdout.is_empty(),
        "no token on stdout: {:?}",
        out.stdout
    );
    assert!(err.contains("new tokens could not be saved"), "{err}");

    // Another process sees it: "unsaved credentials", needing attention.
    world.keyring.kill();
    world.keyring.up();
    let status = world.status("idp");
    assert_eq!(status["unsaved_credentials"], true, "{status:#}");
    assert_eq!(status["needs_attention"], true, "{status:#}");

    // The next successful save clears it.
    ok(&world.run(&["refresh", "idp"]), "refresh after unlocking");
    let status = world.status("idp");
    assert_eq!(status["unsaved_credentials"], false, "{status:#}");
    assert_eq!(status["needs_attention"], false, "{status:#}");
}

#[test]
fn entra_answers_despite_an_unsaved_rotation_and_says_so() {
    let mut world = World::start();
    world.connect("work", false);
    let out = token_with_the_keyring_locked_mid_refresh(&world, "work");
    let err = stderr(&out);
    ok(&out, "token for an Entra account");
    assert!(!out.stdout.is_empty());
    assert!(err.contains("unsaved credentials"), "{err}");
    world.keyring.kill();
    world.keyring.up();
    assert_eq!(world.status("work")["unsaved_credentials"], true);
}
