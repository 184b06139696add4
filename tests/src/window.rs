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
    pub fn start(home: &TempHome, extra_env: &[(&str, &str)]) -> anyhow::Result<Self> {
        anyhow::ensure!(
            std::env::var_os("DISPLAY").is_some(),
            "no X display: run the window tests under xvfb-run (scripts/test.sh does)"
        );
        let application = binary("reconnect-app");
        let port = free_port();
        let native_port = free_port();
        let log = std::fs::File::create(artifacts_dir().join(format!("tauri-driver-{port}.log")))?;
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
        let driver = KillOnDrop(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "tauri-driver did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(Self {
            url: format!("http://127.0.0.1:{port}"),
            application,
            _driver: driver,
        })
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
