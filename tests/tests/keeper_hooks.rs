//! The profile's `on_event` program, run by `reconnect keep`: once for each
//! event (`refreshed`, `expiring_soon`, `recovered`, `reconnect_needed`,
//! `needs_admin` with the decoded code and title, `unsaved_credentials`),
//! never holding up the keeper (a hanging program is stopped at its timeout
//! and logged while refreshes go on), and never seeing a token in its
//! environment. Run inside `scripts/with-session.sh`.

mod keeper_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use keeper_support::{ALICE, BOB, DAY, PATIENCE, World};
use reconnect_e2e::harness::assert_success;
use reconnect_e2e::keyring::Keyring;
use reconnect_e2e::secrets::{SecretScanner, token_shapes};

/// Configures a program that dumps its environment to
/// `DIR/<event>.<account>.<pid>`; returns DIR.
fn dump_env_hook(world: &World) -> PathBuf {
    let dir = world.home.path().join("hook-runs");
    std::fs::create_dir_all(&dir).expect("dir");
    world.config(&format!(
        "on_event = [\"sh\", \"-c\", 'env > \"$0/$RECONNECT_EVENT.$RECONNECT_ACCOUNT.$$\"', \
         '{}']\n",
        dir.display()
    ));
    dir
}

/// The program's runs so far: `event.account` → its environment.
fn runs(dir: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let key = name
            .rsplit_once('.')
            .map_or(name.clone(), |(k, _)| k.to_owned());
        let env = std::fs::read_to_string(entry.path()).expect("env dump");
        found.insert(key, env);
    }
    found
}

fn var<'a>(env: &'a str, name: &str) -> Option<&'a str> {
    env.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
}

fn once(world: &World) -> String {
    let out = world.run(&["keep", "--once"]);
    assert_success(&out, "keep --once");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_program_hears_refreshed_and_expiring_soon() {
    let world = World::start();
    world.connect("work", ALICE);
    let dir = dump_env_hook(&world);
    once(&world);
    let seen = runs(&dir);
    let env = &seen["refreshed.work"];
    assert_eq!(var(env, "RECONNECT_EVENT"), Some("refreshed"));
    assert_eq!(var(env, "RECONNECT_ACCOUNT"), Some("work"));
    assert_eq!(var(env, "RECONNECT_CODE"), None, "{env}");

    // Nobody kept it alive for 88 days: expiring soon (then the keep-alive
    // saves it).
    world.advance(88 * DAY);
    let log = once(&world);
    let seen = runs(&dir);
    assert!(
        seen.contains_key("expiring_soon.work"),
        "{:?}\n{log}",
        seen.keys()
    );
}

/// Waits until the program has run for each of `keys` (`event.account`).
fn wait_runs(dir: &Path, keys: &[&str], log: impl Fn() -> String) -> BTreeMap<String, String> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let seen = runs(dir);
        if keys.iter().all(|k| seen.contains_key(*k)) {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "runs {:?}, wanted {keys:?}\n{}",
            seen.keys(),
            log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_program_hears_failures_with_code_and_title_and_the_recovery() {
    let world = World::start();
    world.connect("work", ALICE);
    world.connect("crm", BOB);
    let dir = dump_env_hook(&world);
    let mut keeper = world.keeper(&[]);
    // Accounts are kept in name order.
    keeper.wait_for("crm's first refresh", |l| l.contains("crm: refreshed"));
    keeper.wait_for("work's first refresh", |l| l.contains("work: refreshed"));
    // Two refusals in a row make "reconnect needed"; one disabled user is
    // for an administrator at once.
    world.fault(serde_json::json!({"code": 700082, "upn": ALICE, "count": 2}));
    world.fault(serde_json::json!({"code": 50057, "upn": BOB}));
    world.advance(8 * DAY);
    keeper.wait_for("work retrying", |l| l.contains("work: retrying"));
    world.advance(DAY);
    keeper.wait_for("work needing a reconnect", |l| {
        l.contains("work: reconnect needed")
    });
    // The user fixes it from another process (after the minute in which the
    // same failing request is not repeated); the keeper hears of it.
    world.advance(120);
    assert_success(
        &world.run(&["refresh", "work", "--force"]),
        "refresh --force",
    );
    keeper.wait_for("work's recovery", |l| {
        l.contains("work: healthy (was reconnect_needed)")
    });
    let keys = ["reconnect_needed.work", "needs_admin.crm", "recovered.work"];
    let seen = wait_runs(&dir, &keys, || keeper.text());
    for (key, code) in [
        ("reconnect_needed.work", 700082),
        ("needs_admin.crm", 50057),
    ] {
        let env = &seen[key];
        let decoded = world.run(&["decode", &code.to_string(), "--json"]);
        let verdict: serde_json::Value = serde_json::from_slice(&decoded.stdout).expect("JSON");
        assert_eq!(var(env, "RECONNECT_CODE"), Some(&*format!("AADSTS{code}")));
        assert_eq!(
            var(env, "RECONNECT_TITLE"),
            verdict["title"].as_str(),
            "{key}"
        );
    }
    assert_eq!(var(&seen["recovered.work"], "RECONNECT_CODE"), None);
}

#[test]
fn the_program_hears_unsaved_credentials() {
    let keyring = Keyring::start();
    let mut world = World::start();
    world.env.push((
        "DBUS_SESSION_BUS_ADDRESS".into(),
        keyring.address().to_owned(),
    ));
    world.connect("work", ALICE);
    let dir = dump_env_hook(&world);
    // The first round refreshes; the keychain locks while the answer is in hand.
    let mut keeper = world.keeper(&[
        ("RECONNECT_TEST_PAUSE_AT", "response"),
        ("RECONNECT_TEST_PAUSE_MS", "3000"),
    ]);
    keeper.wait_for("the pause at `response`", |l| {
        l.starts_with("reconnect-test-paused response")
    });
    keyring.lock();
    keeper.wait_for("unsaved credentials", |l| l.contains("unsaved credentials"));
    wait_runs(&dir, &["unsaved_credentials.work"], || keeper.text());
}

#[test]
fn a_hanging_program_is_stopped_and_logged_while_the_keeper_keeps_refreshing() {
    let world = World::start();
    world.connect("work", ALICE);
    world.config("on_event = [\"sleep\", \"600\"]\nhook_timeout_seconds = 1\n");
    let mut keeper = world.keeper(&[]);
    keeper.wait_for("the first refresh", |l| l.contains("work: refreshed"));
    // The program for that refresh hangs; the next keep-alive still runs.
    world.advance(8 * DAY);
    keeper.wait_round(world.now());
    assert_eq!(world.refreshes().len(), 2, "{}", keeper.text());
    let line = keeper.wait_for("the timeout", |l| {
        l.contains("on_event `sleep` for refreshed of work was still running after 1 s")
    });
    assert!(line.contains("WARN"), "{line}");
}

#[test]
fn the_programs_environment_holds_no_token() {
    let world = World::start();
    let refresh_token = world.connect("work", ALICE);
    let dir = dump_env_hook(&world);
    let token = world.run(&["token", "work"]);
    assert_success(&token, "token");
    let access_token = String::from_utf8_lossy(&token.stdout).trim().to_owned();
    world.advance(8 * DAY);
    // Secrets the keeper inherits must not reach the program either.
    let out = world
        .command(&["keep", "--once"])
        .env("AZURE_ACCESS_TOKEN", &access_token)
        .env("SOME_SETTING", &access_token)
        .output()
        .expect("keep --once");
    assert_success(&out, "keep --once");
    let now = world.run(&["token", "work"]);
    assert_success(&now, "token");
    let newest = String::from_utf8_lossy(&now.stdout).trim().to_owned();
    assert_ne!(
        newest, access_token,
        "the keep-alive got a new access token"
    );

    let mut scanner = SecretScanner::new();
    scanner.add("the refresh token", &refresh_token);
    scanner.add("the first access token", &access_token);
    scanner.add("the newest access token", &newest);
    let seen = runs(&dir);
    assert!(seen.contains_key("refreshed.work"), "{:?}", seen.keys());
    for (run, env) in &seen {
        scanner.scan_bytes(run, env.as_bytes()).assert_clean(run);
        token_shapes(run, env.as_bytes()).assert_clean(run);
    }
    scanner
        .scan_bytes("keeper stderr", &out.stderr)
        .assert_clean("stderr");
}
