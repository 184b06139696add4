//! Helpers for the sign-in end-to-end tests: a simulator running in the test
//! process, an isolated profile, `reconnect` commands against both, and
//! scripted "browsers" (shell scripts run with the sign-in URL as their last
//! argument) that record the URL and optionally fetch it like a browser.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Output;

use std::process::Stdio;

use reconnect_sim::{GrantRequest, RunningSim, SimConfig, Simulator};
use tokio::io::AsyncWriteExt;

use reconnect_e2e::harness::{TempHome, binary};

/// The client id every sign-in test registers.
pub const CLIENT_ID: &str = "7f3a1c2e-0000-4000-8000-00000000e2e1";

/// A simulator plus an isolated Reconnect profile.
#[derive(Debug)]
pub struct SigninWorld {
    /// The isolated home (RECONNECT_HOME and XDG dirs).
    pub home: TempHome,
    /// The simulator, serving on 127.0.0.1.
    pub sim: RunningSim,
}

/// How a scripted browser behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserScript {
    /// Records the URL and follows every redirect with curl (auto-approve).
    Curl,
    /// Records the URL and exits without visiting it (a closed browser).
    RecordOnly,
    /// Sends a forged callback with a wrong state to the redirect URI first
    /// (recording the HTTP status it got), then follows the URL with curl.
    ForgedFirst,
}

impl SigninWorld {
    /// Starts a simulator (auto-approving `auto`, if given) and a fresh profile.
    pub async fn start(auto: Option<&str>) -> Self {
        let config = SimConfig {
            auto_approve: auto.map(str::to_owned),
            ..SimConfig::default()
        };
        let sim = Simulator::start(config).await.expect("simulator starts");
        Self {
            home: TempHome::new(),
            sim,
        }
    }

    /// Runs `reconnect ARGS…` in the profile and waits for it.
    pub async fn reconnect(&self, args: &[&str]) -> Output {
        let mut cmd = tokio::process::Command::from(self.home.command(binary("reconnect")));
        cmd.args(args)
            .env_remove("RECONNECT_BROWSER")
            .kill_on_drop(true);
        cmd.output().await.expect("reconnect runs")
    }

    /// Adds a Microsoft account `name` pointing at the simulator.
    pub async fn add_account(&self, name: &str, extra: &[&str]) {
        let mut args = vec![
            "add",
            name,
            "--authority",
            &self.sim.http_url,
            "--client-id",
            CLIENT_ID,
        ];
        args.extend_from_slice(extra);
        let out = self.reconnect(&args).await;
        assert!(
            out.status.success(),
            "add failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Writes a browser script; returns the `--browser` command and the file
    /// the URLs it was given are appended to.
    pub fn browser(&self, script: BrowserScript) -> (String, PathBuf) {
        let dir = self.home.path();
        let urls = dir.join("browser-urls.txt");
        let path = dir.join(match script {
            BrowserScript::Curl => "browser-curl.sh",
            BrowserScript::RecordOnly => "browser-record.sh",
            BrowserScript::ForgedFirst => "browser-forged.sh",
        });
        let forged = dir.join("forged-status.txt");
        let visit = match script {
            BrowserScript::Curl => {
                "exec curl -sS -L --max-time 60 -o /dev/null \"$1\"\n".to_owned()
            }
            BrowserScript::RecordOnly => "exit 0\n".to_owned(),
            BrowserScript::ForgedFirst => format!(
                r#"redirect=$(printf '%s' "$1" | sed -n 's/.*[?&]redirect_uri=\([^&]*\).*/\1/p' | sed 's/%3A/:/g; s/%2F/\//g')
curl -sS -o /dev/null -w '%{{http_code}}' "${{redirect}}?code=forged&state=not-the-state" > '{}'
exec curl -sS -L --max-time 60 -o /dev/null "$1"
"#,
                forged.display()
            ),
        };
        let text = format!(
            "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n{visit}",
            urls.display()
        );
        std::fs::write(&path, text).expect("write browser script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        (path.display().to_string(), urls)
    }

    /// The last URL a scripted browser was given.
    pub fn last_url(urls: &PathBuf) -> Option<url::Url> {
        let text = std::fs::read_to_string(urls).ok()?;
        text.lines().last().and_then(|l| url::Url::parse(l).ok())
    }

    /// Connects `name` with a refresh token minted for `upn` WITHOUT MFA
    /// (as if connected before an MFA policy existed), via `reconnect import`,
    /// and checks that it refreshes.
    pub async fn import_grant_without_mfa(&self, name: &str, upn: &str) {
        let grant = GrantRequest {
            upn: upn.into(),
            client_id: CLIENT_ID.into(),
            scope: "openid profile offline_access User.Read".into(),
            spa: false,
            mfa: false,
        };
        let minted = self
            .sim
            .state
            .mint_grant(&grant, &self.sim.http_url)
            .expect("grant minted");
        let refresh = minted["refresh_token"]
            .as_str()
            .expect("a refresh token")
            .to_owned();
        let mut cmd = tokio::process::Command::from(self.home.command(binary("reconnect")));
        cmd.args(["import", name, "--refresh-token-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("reconnect runs");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(refresh.as_bytes())
            .await
            .expect("write stdin");
        drop(stdin);
        let out = child.wait_with_output().await.expect("import ends");
        assert!(out.status.success(), "import: {}", stderr(&out));
        let works = self.reconnect(&["refresh", name, "--force"]).await;
        assert_eq!(
            works.status.code(),
            Some(0),
            "the imported grant works: {}",
            stderr(&works)
        );
    }

    /// `reconnect status NAME --json` as JSON.
    pub async fn status(&self, name: &str) -> serde_json::Value {
        let out = self.reconnect(&["status", name, "--json"]).await;
        let text = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("status --json: {e}: {text}"))
    }
}

/// stderr of a finished command, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
