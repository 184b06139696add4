//! What a user is told when no keychain can be used, for each case: no D-Bus
//! session, no Secret Service provider, a locked collection, access denied.
//! Each case gets its own throwaway D-Bus bus (and gnome-keyring where the
//! case needs one), so nothing here touches the session other tests use.
//! In every case `reconnect import` fails closed: a clear message, a non-zero
//! exit, no token stored anywhere, and no hang on an unlock prompt.
//!
//! Needs `dbus-daemon`, `gnome-keyring-daemon` and `gdbus` on PATH.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use reconnect_e2e::harness::{KillOnDrop, TempHome, binary};

const TOKEN: &str = "0.AXkA-store-keychain-errors-refresh-token-7d1e";

/// Bus configuration: a session bus with no service files (so nothing is
/// auto-started) and `extra` policy lines.
fn bus_config(dir: &Path, extra: &str) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
    {extra}
  </policy>
</busconfig>
"#,
        dir.display()
    )
}

/// A private D-Bus session bus, optionally with gnome-keyring on it.
struct PrivateBus {
    address: String,
    dir: tempfile::TempDir,
    _daemons: Vec<KillOnDrop>,
}

impl PrivateBus {
    fn start(extra_policy: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("bus.conf");
        std::fs::write(&config, bus_config(dir.path(), extra_policy)).expect("write bus.conf");
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon must be installed");
        let mut line = String::new();
        BufReader::new(daemon.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("bus address");
        let address = line.trim().to_owned();
        assert!(address.starts_with("unix:"), "bus address: {address:?}");
        Self {
            address,
            dir,
            _daemons: vec![KillOnDrop(daemon)],
        }
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        let d = self.dir.path();
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("HOME", d)
            .env("XDG_DATA_HOME", d.join("data"))
            .env("XDG_RUNTIME_DIR", d)
            .env_remove("DISPLAY");
        cmd
    }

    /// Starts gnome-keyring (secrets only) with a fresh, unlocked login
    /// keyring; waits for the login collection if the policy lets us ask.
    fn start_keyring(&mut self, wait_for_login: bool) {
        let mut keyring = self
            .command("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon must be installed");
        let mut stdin = keyring.stdin.take().expect("stdin");
        stdin.write_all(b"test-keyring-pw").expect("password");
        drop(stdin);
        self._daemons.push(KillOnDrop(keyring));
        let waited = self
            .command("gdbus")
            .args([
                "wait",
                "--session",
                "--timeout",
                "10",
                "org.freedesktop.secrets",
            ])
            .status()
            .expect("gdbus must be installed");
        assert!(waited.success(), "gnome-keyring did not appear on the bus");
        if !wait_for_login {
            return;
        }
        // The login collection appears a moment after the name.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self
            .gdbus_call(&["org.freedesktop.Secret.Service.ReadAlias", "default"])
            .contains("collection/login")
        {
            assert!(Instant::now() < deadline, "no login collection");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn gdbus_call(&self, method_and_args: &[&str]) -> String {
        let out = self
            .command("gdbus")
            .args([
                "call",
                "--session",
                "--dest",
                "org.freedesktop.secrets",
                "--object-path",
                "/org/freedesktop/secrets",
                "--method",
            ])
            .args(method_and_args)
            .output()
            .expect("gdbus");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn lock_login(&self) {
        let out = self.gdbus_call(&[
            "org.freedesktop.Secret.Service.Lock",
            "['/org/freedesktop/secrets/collection/login']",
        ]);
        assert!(out.contains("collection/login"), "lock answer: {out}");
    }
}

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
            cmd.env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
                .env_remove("DISPLAY");
        },
        &["no keychain", "no Secret Service provider", "gnome-keyring"],
    );
}

#[test]
fn a_locked_collection() {
    let home = TempHome::new();
    let mut bus = PrivateBus::start("");
    bus.start_keyring(true);
    bus.lock_login();
    import_fails_with(
        &home,
        |cmd| {
            cmd.env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
                .env_remove("DISPLAY");
        },
        &["keychain locked", "Unlock it"],
    );
}

#[test]
fn access_denied_by_bus_policy() {
    let home = TempHome::new();
    let mut bus = PrivateBus::start(
        r#"<deny send_destination="org.freedesktop.secrets" send_interface="org.freedesktop.Secret.Service"/>"#,
    );
    bus.start_keyring(false);
    import_fails_with(
        &home,
        |cmd| {
            cmd.env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
                .env_remove("DISPLAY");
        },
        &["keychain access denied", "Allow Reconnect"],
    );
}
