//! Drives the real desktop window over WebDriver: starts `tauri-driver`
//! (which starts Debian's WebKitWebDriver) on free loopback ports and opens a
//! session on the built `reconnect-app` binary with an isolated environment.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::{KillOnDrop, TempHome, binary, workspace_root};

/// A running tauri-driver plus the WebDriver URL to connect to.
#[derive(Debug)]
pub struct WindowDriver {
    /// WebDriver endpoint, e.g. `http://127.0.0.1:4444`.
    pub url: String,
    /// The app binary the session should launch.
    pub application: PathBuf,
    _driver: KillOnDrop,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Where a test may save screenshots and logs for people to look at.
pub fn artifacts_dir() -> PathBuf {
    let dir = workspace_root().join("artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

impl WindowDriver {
    /// Starts tauri-driver with `home`'s environment (and `extra_env`).
    ///
    /// Ports are picked free, but another test may take one before
    /// tauri-driver binds it (then the port answers, for the *other* test):
    /// a driver that exits after the pick is started again on new ports.
    pub fn start(home: &TempHome, extra_env: &[(&str, &str)]) -> anyhow::Result<Self> {
        anyhow::ensure!(
            std::env::var_os("DISPLAY").is_some(),
            "no X display: run the window tests under xvfb-run (scripts/test.sh does)"
        );
        let mut last = None;
        for _ in 0..5 {
            match Self::try_start(home, extra_env)? {
                Ok(driver) => return Ok(driver),
                Err(why) => last = Some(why),
            }
        }
        anyhow::bail!("tauri-driver did not start: {}", last.unwrap_or_default())
    }

    /// One start on fresh ports: `Ok(Err(why))` when it lost a port race.
    fn try_start(
        home: &TempHome,
        extra_env: &[(&str, &str)],
    ) -> anyhow::Result<Result<Self, String>> {
        let application = binary("reconnect-app");
        let port = free_port();
        let native_port = free_port();
        let log_path = artifacts_dir().join(format!("tauri-driver-{port}.log"));
        let log = std::fs::File::create(&log_path)?;
        let mut cmd = home.command("tauri-driver");
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().map_err(|e| {
            anyhow::anyhow!(
                "could not start tauri-driver ({e}); install it with \
                 `cargo install tauri-driver --version ^2 --locked`"
            )
        })?;
        let mut driver = KillOnDrop(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if driver.0.try_wait()?.is_some() {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "tauri-driver did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // Still ours a moment later? (A driver that could not bind exits.)
        std::thread::sleep(Duration::from_millis(200));
        if let Some(status) = driver.0.try_wait()? {
            let said = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Ok(Err(format!("it exited ({status}): {}", said.trim())));
        }
        Ok(Ok(Self {
            url: format!("http://127.0.0.1:{port}"),
            application,
            _driver: driver,
        }))
    }

    /// WebDriver capabilities that launch the app.
    pub fn capabilities(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": self.application }),
        );
        caps
    }
}
