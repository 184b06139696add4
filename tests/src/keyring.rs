//! Keychains a test controls: a D-Bus session bus of its own (optionally with
//! extra policy lines), and on it the real Secret Service (gnome-keyring),
//! which a test can lock, kill (the service vanishes) and bring back unlocked
//! over the same keyring files. Used by the keychain-trouble suites of the
//! store, the CLI and the app, so none of them touches the session bus other
//! tests use. Needs `dbus-daemon`, `gnome-keyring-daemon` and `gdbus`.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::KillOnDrop;

/// A private D-Bus session bus with no service files (nothing is started
/// on demand), killed when dropped.
#[derive(Debug)]
pub struct PrivateBus {
    address: String,
    dir: tempfile::TempDir,
    _daemon: KillOnDrop,
}

impl PrivateBus {
    /// Starts a bus whose default policy allows everything, plus
    /// `extra_policy` lines (e.g. a `<deny …/>`).
    pub fn start(extra_policy: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n<busconfig><type>session</type>\
                 <listen>unix:dir={}</listen><auth>EXTERNAL</auth><policy context=\"default\">\
                 <allow send_destination=\"*\" eavesdrop=\"true\"/><allow eavesdrop=\"true\"/><allow own=\"*\"/>\
                 {extra_policy}</policy></busconfig>\n",
                dir.path().display()
            ),
        )
        .expect("bus config");
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon must be installed");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().expect("stdout"))
            .read_line(&mut address)
            .expect("bus address");
        let address = address.trim().to_owned();
        assert!(address.starts_with("unix:"), "bus address: {address:?}");
        Self {
            address,
            dir,
            _daemon: KillOnDrop(bus),
        }
    }

    /// The bus address to give the processes under test.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// A command on this bus, with HOME and XDG dirs of the bus's own.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        let d = self.dir.path();
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("HOME", d)
            .env("XDG_DATA_HOME", d.join("data"))
            .env("XDG_RUNTIME_DIR", d)
            .env_remove("DISPLAY");
        cmd
    }

    /// Calls a Secret Service method with `gdbus`; returns its stdout.
    pub fn call(&self, method_and_args: &[&str]) -> String {
        let out = self
            .command("gdbus")
            .args([
                "call",
                "--session",
                "--dest",
                "org.freedesktop.secrets",
                "--object-path",
                "/org/freedesktop/secrets",
            ])
            .arg("--method")
            .args(method_and_args)
            .output()
            .expect("gdbus must be installed");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// gnome-keyring on a private bus, which a test can lock, kill and restart.
#[derive(Debug)]
pub struct Keyring {
    // Dropped first: the daemon goes before its bus.
    daemon: Option<KillOnDrop>,
    bus: PrivateBus,
}

impl Keyring {
    /// A fresh bus with gnome-keyring on it, unlocked, its login collection
    /// ready.
    pub fn start() -> Self {
        Self::on(PrivateBus::start(""), true)
    }

    /// gnome-keyring on `bus`; waits for the login collection when
    /// `wait_for_login` (a bus policy may forbid asking).
    pub fn on(bus: PrivateBus, wait_for_login: bool) -> Self {
        let mut keyring = Self { daemon: None, bus };
        keyring.launch(wait_for_login);
        keyring
    }

    /// The bus address to give the processes under test.
    pub fn address(&self) -> &str {
        self.bus.address()
    }

    /// A command on the keyring's bus.
    pub fn command(&self, program: &str) -> Command {
        self.bus.command(program)
    }

    /// Starts (or restarts, over the same keyring files) gnome-keyring, unlocked.
    pub fn up(&mut self) {
        self.launch(true);
    }

    fn launch(&mut self, wait_for_login: bool) {
        let mut daemon = self
            .bus
            .command("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(self.log_file())
            .spawn()
            .expect("gnome-keyring-daemon must be installed");
        let mut stdin = daemon.stdin.take().expect("stdin");
        stdin.write_all(b"test-keyring-pw").expect("password");
        drop(stdin);
        self.daemon = Some(KillOnDrop(daemon));
        let waited = self
            .bus
            .command("gdbus")
            .args(["wait", "--session", "--timeout", "15"])
            .arg("org.freedesktop.secrets")
            .status()
            .expect("gdbus must be installed");
        assert!(waited.success(), "gnome-keyring did not appear on the bus");
        if !wait_for_login {
            return;
        }
        // The login collection appears a moment after the name.
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self
            .call(&["org.freedesktop.Secret.Service.ReadAlias", "default"])
            .contains("collection/login")
        {
            assert!(
                Instant::now() < deadline,
                "gnome-keyring did not come up with a login collection"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_file(&self) -> Stdio {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.bus.dir.path().join("keyring.log"))
            .map_or_else(|_| Stdio::null(), Stdio::from)
    }

    /// `None` while the daemon runs; once it has died, how (its exit status)
    /// and the last lines it logged, for a test to report exactly that.
    pub fn death(&mut self) -> Option<String> {
        let daemon = self.daemon.as_mut()?;
        let status = daemon.0.try_wait().ok()??;
        let log =
            std::fs::read_to_string(self.bus.dir.path().join("keyring.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().filter(|l| !l.is_empty()).collect();
        let tail = tail[tail.len().saturating_sub(8)..].join("\n  | ");
        Some(format!(
            "gnome-keyring-daemon died ({status}); its log:\n  | {tail}"
        ))
    }

    /// Kills gnome-keyring outright (SIGKILL): the Secret Service vanishes.
    pub fn kill(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            let _ = d.0.kill();
            let _ = d.0.wait();
        }
    }

    /// Calls a Secret Service method with `gdbus`; returns its stdout.
    pub fn call(&self, method_and_args: &[&str]) -> String {
        self.bus.call(method_and_args)
    }

    /// Locks the login collection (no prompt can unlock it here).
    pub fn lock(&self) {
        let out = self.call(&[
            "org.freedesktop.Secret.Service.Lock",
            "['/org/freedesktop/secrets/collection/login']",
        ]);
        assert!(out.contains("collection/login"), "lock answer: {out}");
    }
}
