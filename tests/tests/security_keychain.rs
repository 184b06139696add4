//! Keychain trouble in the middle of a run: the Secret Service disappears
//! (gnome-keyring killed, even while a refresh holds new tokens), or its
//! collection gets locked. The CLI must say so clearly, never crash or hang,
//! never fall back to plaintext, never mark the connection "reconnect
//! needed" (the grant is fine), and work again once the keychain is back.
//! `reconnect status` keeps answering throughout: it says the keychain is
//! unavailable or locked and that tokens cannot be refreshed until it is
//! back, and shows the stored health unchanged, marked "last known".
//!
//! Each case runs on its own D-Bus bus with its own gnome-keyring, so killing
//! it leaves the session other tests use alone. Needs `dbus-daemon`,
//! `gnome-keyring-daemon` and `gdbus`.

mod security_support;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use reconnect_e2e::keyring::Keyring;
use reconnect_e2e::secrets::announce;
use security_support::{World, health};

/// Waits for a child, failing the test if it hangs (an unlock prompt, a
/// D-Bus call without a timeout).
fn wait_bounded(mut child: Child, what: &str) -> Output {
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("`reconnect {what}` hung for 60 s with the keychain gone");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

/// Runs `reconnect ARGS` bounded, keeping its output for the scan.
fn run(world: &World, args: &[&str]) -> Output {
    let child = world
        .command(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn reconnect");
    let out = wait_bounded(child, &args.join(" "));
    world.keep(&args.join(" "), &out);
    out
}

/// The failure must be a clean exit with a message about the keychain: no
/// panic (exit 101), no signal, no token on stdout.
fn clean_keychain_failure(out: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code();
    assert!(
        code.is_some(),
        "`{what}` died from a signal: {:?}",
        out.status
    );
    assert_ne!(code, Some(101), "`{what}` panicked: {stderr}");
    assert_ne!(code, Some(0), "`{what}` claimed success without a keychain");
    assert!(!stderr.contains("panicked"), "`{what}` panicked: {stderr}");
    let lower = stderr.to_lowercase();
    assert!(
        ["keychain", "secret service", "keyring"]
            .iter()
            .any(|w| lower.contains(w)),
        "`{what}` does not say the keychain is the problem: {stderr}"
    );
    assert!(
        out.stdout.is_empty() || !String::from_utf8_lossy(&out.stdout).contains('.'),
        "`{what}` printed a token"
    );
    security_support::messages(&out.stderr)
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// `reconnect status` while the keychain cannot be used: it still answers
/// (exit 0, no crash), says the keychain is `expect` (JSON `keychain`, plus a
/// human line that tokens cannot be refreshed until it is back), and shows
/// the last stored health, which must not be "broken". Returns the health.
fn status_during_outage(world: &World, name: &str, when: &str, expect: &str) -> String {
    let out = run(world, &["status", name, "--json"]);
    assert!(
        out.status.success(),
        "{when}: `status --json` failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let entry: serde_json::Value = serde_json::from_str(&text).expect("status --json is JSON");
    assert_eq!(
        entry["keychain"], expect,
        "{when}: status --json must say the keychain is {expect}: {text}"
    );
    let message = entry["keychain_message"].as_str().unwrap_or_default();
    assert!(
        message.contains("cannot be read or refreshed"),
        "{when}: keychain_message must say tokens cannot be refreshed: {text}"
    );
    let state = health(&entry);
    assert!(!state.is_empty(), "{when}: status shows no health: {text}");
    assert!(
        !["reconnect_needed", "needs_admin", "app_misconfigured"].contains(&state.as_str()),
        "{when}: a keychain outage marked the connection {state}"
    );
    let human = run(world, &["status", name]);
    assert!(human.status.success(), "{when}: `status` failed");
    let human = String::from_utf8_lossy(&human.stdout).into_owned();
    let first = human.lines().next().unwrap_or_default().to_owned();
    assert!(
        first.starts_with("Keychain") && first.contains("cannot be read or refreshed"),
        "{when}: `status` must open with the keychain problem: {human}"
    );
    assert!(
        human.contains("(last known)"),
        "{when}: the health must be marked as the last known: {human}"
    );
    format!("{state} (last known), keychain {expect}: \"{first}\"")
}

/// The keychain is usable again: `status --json` says so and has no message.
fn keychain_available(world: &World, name: &str, when: &str) {
    let status = world.status(name);
    assert_eq!(status["keychain"], "available", "{when}: {status}");
    assert!(status.get("keychain_message").is_none(), "{when}: {status}");
}

fn no_plaintext(world: &World, when: &str) {
    // The profile's own tokens were noted when minted; nothing else may hold them.
    let report = world.scan();
    report.assert_clean(when);
}

fn data_dir_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_service_vanishing_or_locking_mid_run_is_reported_and_recovered() {
    let mut keyring = Keyring::start();
    let mut world = World::start().await;
    world.env.push((
        "DBUS_SESSION_BUS_ADDRESS".into(),
        keyring.address().to_owned(),
    ));
    tokio::task::block_in_place(|| world.connect("alice", "alice@contoso.test", None));
    let first =
        tokio::task::block_in_place(|| world.token("alice")).expect("works with the keychain up");
    assert!(!first.is_empty());
    let stored = tokio::task::block_in_place(|| world.status("alice"));
    assert_eq!(
        stored["keychain"], "available",
        "the keychain is up: {stored}"
    );
    let stored = health(&stored);
    let mut cases = Vec::new();

    // 1. The Secret Service disappears between runs.
    keyring.kill();
    let (token, refresh) = tokio::task::block_in_place(|| {
        (
            run(&world, &["token", "alice"]),
            run(&world, &["refresh", "alice"]),
        )
    });
    let said = clean_keychain_failure(&token, "token alice");
    clean_keychain_failure(&refresh, "refresh alice");
    let state = tokio::task::block_in_place(|| {
        status_during_outage(&world, "alice", "keychain gone", "unavailable")
    });
    assert!(
        state.starts_with(&format!("{stored} ")),
        "the stored health ({stored}) must be shown unchanged: {state}"
    );
    cases.push(format!(
        "gone: token/refresh fail cleanly (\"{said}\"), status {state}"
    ));
    keyring.up();
    tokio::task::block_in_place(|| keychain_available(&world, "alice", "after gone"));
    let again = tokio::task::block_in_place(|| world.token("alice"))
        .expect("works again once the keychain is back");
    assert!(!again.is_empty());

    // 2. It disappears while a refresh holds new tokens not yet saved.
    let mut child = world
        .command(&["refresh", "alice", "--force"])
        .env("RECONNECT_TEST_PAUSE_AT", "response")
        .env("RECONNECT_TEST_PAUSE_MS", "1500")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut early = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !early.contains("reconnect-test-paused response") {
        assert!(
            Instant::now() < deadline,
            "the refresh never reached its response: {early}"
        );
        if stderr.read_line(&mut early).expect("read stderr") == 0 {
            panic!("the refresh ended before its response: {early}");
        }
    }
    keyring.kill();
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut stderr, &mut rest).expect("rest of stderr");
    let mut out = wait_bounded(child, "refresh alice --force (keychain killed mid-refresh)");
    out.stderr = [early.into_bytes(), rest].concat();
    world.keep("refresh alice --force (keychain killed mid-refresh)", &out);
    let code = out.status.code();
    assert!(
        code.is_some() && code != Some(101),
        "killed mid-refresh: {:?}",
        out.status
    );
    let text = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(
        code != Some(0)
            || text.contains("keychain")
            || text.contains("unsaved")
            || text.contains("not saved"),
        "new tokens that could not be saved must be reported"
    );
    let state = tokio::task::block_in_place(|| {
        status_during_outage(
            &world,
            "alice",
            "keychain killed mid-refresh",
            "unavailable",
        )
    });
    cases.push(format!("killed mid-refresh: exit {code:?}, status {state}"));
    keyring.up();
    let again = tokio::task::block_in_place(|| world.token("alice"))
        .expect("works again after the mid-refresh loss");
    assert!(!again.is_empty());

    // 3. The collection gets locked.
    keyring.lock();
    let token = tokio::task::block_in_place(|| run(&world, &["token", "alice"]));
    let said = clean_keychain_failure(&token, "token alice (locked)");
    let state = tokio::task::block_in_place(|| {
        status_during_outage(&world, "alice", "collection locked", "locked")
    });
    cases.push(format!(
        "locked: token fails cleanly (\"{said}\"), status {state}"
    ));
    keyring.kill();
    keyring.up();
    let again =
        tokio::task::block_in_place(|| world.token("alice")).expect("works again once unlocked");
    assert!(!again.is_empty());
    let status = tokio::task::block_in_place(|| world.status("alice"));
    assert_eq!(
        health(&status),
        "healthy",
        "after every keychain outage: {status}"
    );
    tokio::task::block_in_place(|| keychain_available(&world, "alice", "after every outage"));

    assert!(
        data_dir_files(&world.data_dir()) > 0,
        "the scan below covers a real data dir"
    );
    no_plaintext(&world, "after the keychain outages");
    announce(&format!(
        "keychain trouble: {}/3 cases clear, no crash, no plaintext, recovered: {}",
        cases.len(),
        cases.join("; ")
    ));
}

/// gnome-keyring 42 aborts when a client disappears while a Secret Service
/// session is being negotiated for it. With one session per process and a
/// probe that opens none, a storm of our processes killed at random moments
/// (40 at a time, each 10–90 ms after it starts: `status` probing and
/// reading, `token` reading) must leave the daemon running, and every stored
/// token set whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_killed_mid_call_never_take_the_keyring_down() {
    use rand::Rng as _;
    const ROUNDS: usize = 5;
    const AT_ONCE: usize = 40;
    let mut keyring = Keyring::start();
    let mut world = World::start().await;
    world.env.push((
        "DBUS_SESSION_BUS_ADDRESS".into(),
        keyring.address().to_owned(),
    ));
    let names = ["alice", "bob", "carol"];
    tokio::task::block_in_place(|| {
        for name in names {
            world.connect(name, "alice@contoso.test", None);
            world.token(name).expect("works before the storm");
        }
    });
    let mut rng = rand::rng();
    for round in 1..=ROUNDS {
        let mut children = Vec::new();
        for i in 0..AT_ONCE {
            let name = names[i % names.len()];
            let args: &[&str] = if i % 2 == 0 {
                &["status", "--json"]
            } else {
                &["token", name]
            };
            let child = world
                .command(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn reconnect");
            children.push((child, Duration::from_millis(rng.random_range(10..90))));
        }
        let started = Instant::now();
        for (child, at) in &mut children {
            if let Some(wait) = at.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
            let _ = child.kill();
        }
        for (mut child, _) in children {
            let _ = child.wait();
        }
        // The daemon notices a dead client a moment later.
        std::thread::sleep(Duration::from_millis(300));
        if let Some(death) = keyring.death() {
            panic!("round {round} of {AT_ONCE} killed processes: {death}");
        }
    }
    tokio::task::block_in_place(|| {
        for name in names {
            let token = world
                .token(name)
                .unwrap_or_else(|e| panic!("{name}'s stored set after the storm: {e}"));
            assert!(!token.is_empty());
            let status = world.status(name);
            assert_eq!(health(&status), "healthy", "{name}: {status}");
        }
    });
    announce(&format!(
        "keychain kill storm: {ROUNDS} rounds of {AT_ONCE} processes killed 10-90 ms in; \
         gnome-keyring stayed up, {} stored sets intact",
        names.len()
    ));
}

/// Each process negotiates at most one Secret Service session, however many
/// keychain calls it makes (a refresh makes about a dozen), and the status
/// probe none: counted on the bus itself with `dbus-monitor`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_opens_at_most_one_keychain_session() {
    let keyring = Keyring::start();
    let mut world = World::start().await;
    world.env.push((
        "DBUS_SESSION_BUS_ADDRESS".into(),
        keyring.address().to_owned(),
    ));
    tokio::task::block_in_place(|| world.connect("alice", "alice@contoso.test", None));
    let mut monitor = reconnect_e2e::harness::KillOnDrop(
        keyring
            .command("dbus-monitor")
            .args(["--address", keyring.address()])
            .arg("type='method_call',interface='org.freedesktop.Secret.Service'")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-monitor (package dbus-bin)"),
    );
    let mut lines = BufReader::new(monitor.0.stdout.take().expect("stdout"));
    let mut first = String::new();
    lines
        .read_line(&mut first)
        .expect("the monitor is listening");
    let counted = std::thread::spawn(move || {
        let mut all = String::new();
        std::io::Read::read_to_string(&mut lines, &mut all).expect("monitor output");
        (
            all.matches("member=OpenSession").count(),
            all.matches("member=SearchItems").count(),
        )
    });
    tokio::task::block_in_place(|| {
        for args in [
            &["refresh", "alice", "--force"][..],
            &["token", "alice"],
            &["status", "--json"],
        ] {
            let out = run(&world, args);
            assert!(out.status.success(), "`{}` failed", args.join(" "));
        }
    });
    // Let the last calls reach the monitor, then stop it.
    std::thread::sleep(Duration::from_millis(500));
    drop(monitor);
    let (sessions, searches) = counted.join().expect("counter");
    assert!(
        searches >= 3,
        "the monitor saw the keychain reads: {searches}"
    );
    assert_eq!(
        sessions, 2,
        "refresh and token open one session each, status none ({searches} item searches)"
    );
    announce(&format!(
        "keychain sessions: refresh + token + status opened {sessions} sessions for {searches} item searches"
    ));
}
