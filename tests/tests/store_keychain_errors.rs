//! What a user is told when no keychain can be used, for each case: no D-Bus
//! session, no Secret Service provider, a locked collection, access denied.
//! Each case gets its own throwaway D-Bus bus (and gnome-keyring where the
//! case needs one), so nothing here touches the session other tests use.
//! In every case `reconnect import` fails closed: a clear message, a non-zero
//! exit, no token stored anywhere, and no hang on an unlock prompt.
//!
//! Needs `dbus-daemon`, `gnome-keyring-daemon` and `gdbus` on PATH.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use reconnect_e2e::harness::{TempHome, binary};
use reconnect_e2e::keyring::{Keyring, PrivateBus};

const TOKEN: &str = "0.AXkA-store-keychain-errors-refresh-token-7d1e";

/// Runs the CLI, feeding `stdin`, failing the test if it takes over 60 s
/// (a hang on an unlock prompt would be a bug).
fn run(mut cmd: Command, stdin: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn reconnect");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("reconnect hung for 60 s instead of failing closed");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Adds an account (no keychain needed), then imports under `env` and
/// checks the import failed closed with a message containing `expect`.
fn import_fails_with(home: &TempHome, env: impl Fn(&mut Command), expect: &[&str]) -> String {
    let reconnect = binary("reconnect");
    let mut add = home.command(&reconnect);
    add.args(["add", "work", "--client-id", "cid"]);
    env(&mut add);
    let out = run(add, "");
    assert!(
        out.status.success(),
        "add: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut import = home.command(&reconnect);
    import.args(["import", "work", "--refresh-token-stdin"]);
    env(&mut import);
    let out = run(import, TOKEN);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "import must fail: {stdout}{stderr}"
    );
    for phrase in expect {
        assert!(stderr.contains(phrase), "missing {phrase:?} in: {stderr}");
    }
    assert!(!stderr.contains(TOKEN) && !stdout.contains(TOKEN));

    // Nothing claims a token exists, and no file holds it.
    let mut list = home.command(&reconnect);
    list.args(["accounts", "--json"]);
    env(&mut list);
    let out = run(list, "");
    let accounts: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(accounts[0]["name"], "work");
    assert!(
        accounts[0]["token"].is_null(),
        "no token facts after a failed import"
    );
    assert_no_token_under(home.path());
    stderr
}

fn assert_no_token_under(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            assert_no_token_under(&path);
        } else if let Ok(bytes) = std::fs::read(&path) {
            assert!(
                !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
                "the token reached {}",
                path.display()
            );
        }
    }
}

#[test]
fn no_dbus_session_at_all() {
    let home = TempHome::new();
    let runtime = tempfile::tempdir().expect("temp dir");
    let stderr = import_fails_with(
        &home,
        |cmd| {
            cmd.env_remove("DBUS_SESSION_BUS_ADDRESS")
                .env_remove("DISPLAY")
                .env("XDG_RUNTIME_DIR", runtime.path());
        },
        &["no keychain", "no D-Bus session bus", "dbus-run-session"],
    );
    assert!(stderr.contains("never written to disk"), "{stderr}");
}

#[test]
fn dbus_session_address_pointing_at_a_dead_socket() {
    let home = TempHome::new();
    let dead = home.path().join("no-bus-here");
    import_fails_with(
        &home,
        |cmd| {
            cmd.env(
                "DBUS_SESSION_BUS_ADDRESS",
                format!("unix:path={}", dead.display()),
            )
            .env_remove("DISPLAY");
        },
        &["no keychain", "no D-Bus session bus"],
    );
}

#[test]
fn a_session_without_a_secret_service_provider() {
    let home = TempHome::new();
    let bus = PrivateBus::start("");
    import_fails_with(
        &home,
        |cmd| {
            cmd.env("DBUS_SESSION_BUS_ADDRESS", bus.address())
                .env_remove("DISPLAY");
        },
        &["no keychain", "no Secret Service provider", "gnome-keyring"],
    );
}

#[test]
fn a_locked_collection() {
    let home = TempHome::new();
    let bus = Keyring::start();
    bus.lock();
    import_fails_with(
        &home,
        |cmd| {
            cmd.env("DBUS_SESSION_BUS_ADDRESS", bus.address())
                .env_remove("DISPLAY");
        },
        &["keychain locked", "Unlock it"],
    );
}

#[test]
fn access_denied_by_bus_policy() {
    let home = TempHome::new();
    let bus = Keyring::on(
        PrivateBus::start(
            r#"<deny send_destination="org.freedesktop.secrets" send_interface="org.freedesktop.Secret.Service"/>"#,
        ),
        false,
    );
    import_fails_with(
        &home,
        |cmd| {
            cmd.env("DBUS_SESSION_BUS_ADDRESS", bus.address())
                .env_remove("DISPLAY");
        },
        &["keychain access denied", "Allow Reconnect"],
    );
}
