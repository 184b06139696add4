//! A gnome-keyring the test controls: a D-Bus session bus of its own with
//! the real Secret Service on it, which a test can lock, kill (the service
//! vanishes) and bring back unlocked over the same keyring files. Used by the
//! keychain-trouble suites of the CLI and the app. Needs `dbus-daemon`,
//! `gnome-keyring-daemon` and `gdbus`.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::KillOnDrop;

/// A D-Bus session bus of our own with a gnome-keyring we can kill and restart.
#[derive(Debug)]
pub struct Keyring {
    address: String,
    dir: tempfile::TempDir,
    _bus: KillOnDrop,
    daemon: Option<KillOnDrop>,
}

impl Keyring {
    /// The bus address to give the processes under test.
    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n<busconfig><type>session</type>\
                 <listen>unix:dir={}</listen><auth>EXTERNAL</auth><policy context=\"default\">\
                 <allow send_destination=\"*\" eavesdrop=\"true\"/><allow eavesdrop=\"true\"/><allow own=\"*\"/>\
                 </policy></busconfig>\n",
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
        let mut keyring = Self {
            address: address.trim().to_owned(),
            dir,
            _bus: KillOnDrop(bus),
            daemon: None,
        };
        keyring.up();
        keyring
    }

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

    /// Starts (or restarts, over the same keyring files) gnome-keyring, unlocked.
    pub fn up(&mut self) {
        let mut daemon = self
            .command("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon must be installed");
        let mut stdin = daemon.stdin.take().expect("stdin");
        stdin.write_all(b"security-suite-pw").expect("password");
        drop(stdin);
        self.daemon = Some(KillOnDrop(daemon));
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

    /// Kills gnome-keyring outright (SIGKILL): the Secret Service vanishes.
    pub fn kill(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            let _ = d.0.kill();
            let _ = d.0.wait();
        }
    }

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

    pub fn lock(&self) {
        let out = self.call(&[
            "org.freedesktop.Secret.Service.Lock",
            "['/org/freedesktop/secrets/collection/login']",
        ]);
        assert!(out.contains("collection/login"), "lock answer: {out}");
    }
}
