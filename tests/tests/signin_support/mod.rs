//! Helpers for the sign-in end-to-end tests: a simulator running in the test
//! process, an isolated profile, `reconnect` commands against both, and
//! scripted "browsers" (shell scripts run with the sign-in URL as their last
//! argument) that record the URL and optionally fetch it like a browser.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Output;

use std::process::Stdio;

use reconnect_sim::{AppRegistration, GrantRequest, RunningSim, SimConfig, Simulator};
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
            apps: vec![AppRegistration::desktop(CLIENT_ID)],
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
        // Reconnect's clock follows the simulator's virtual one, as the
        // id_token's `iat` and `nbf` are checked against it.
        cmd.args(args)
            .env_remove("RECONNECT_BROWSER")
            .env(
                "RECONNECT_TEST_CLOCK_OFFSET",
                self.sim.state.clock_offset().to_string(),
            )
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

/// A `reconnect` process running in the profile: stdin piped, and its
/// stderr and stdout lines collected as they come, so a test can act on
/// what it printed (a URL, a code) while it still runs.
#[derive(Debug)]
pub struct Running {
    child: tokio::process::Child,
    stdin: Option<tokio::process::ChildStdin>,
    stderr: tokio::sync::mpsc::UnboundedReceiver<String>,
    stdout: tokio::sync::mpsc::UnboundedReceiver<String>,
    seen_stderr: Vec<String>,
    seen_stdout: Vec<String>,
}

/// How a [`Running`] process ended.
#[derive(Debug)]
pub struct Ended {
    /// Its exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Everything it wrote on stderr.
    pub stderr: String,
    /// Everything it wrote on stdout.
    pub stdout: String,
}

fn forward<R>(reader: R) -> tokio::sync::mpsc::UnboundedReceiver<String>
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
{
    use tokio::io::AsyncBufReadExt as _;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(reader).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// How long a test waits for a line or for the process to end.
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(40);

impl Running {
    /// The process id (for signals).
    pub fn pid(&self) -> u32 {
        self.child.id().expect("still running")
    }

    /// Waits for the first stderr line (seen or to come) that `pred` accepts.
    pub async fn stderr_line(&mut self, pred: impl Fn(&str) -> bool) -> String {
        if let Some(found) = self.seen_stderr.iter().find(|l| pred(l)) {
            return found.clone();
        }
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let next = tokio::time::timeout_at(deadline, self.stderr.recv()).await;
            match next {
                Ok(Some(line)) => {
                    self.seen_stderr.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Ok(None) | Err(_) => panic!(
                    "no such line on stderr; so far:\n{}",
                    self.seen_stderr.join("\n")
                ),
            }
        }
    }

    /// The next stdout line.
    pub async fn stdout_line(&mut self) -> String {
        let next = tokio::time::timeout(PATIENCE, self.stdout.recv()).await;
        let line = next.ok().flatten().unwrap_or_else(|| {
            panic!(
                "nothing on stdout; stderr so far:\n{}",
                self.seen_stderr.join("\n")
            )
        });
        self.seen_stdout.push(line.clone());
        line
    }

    /// Writes `text` to the process's standard input.
    pub async fn type_in(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(text.as_bytes()).await.expect("write stdin");
        stdin.flush().await.expect("flush stdin");
    }

    /// Waits for the end (bounded) and gathers the rest of the output.
    pub async fn finish(mut self) -> Ended {
        let status = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the process did not end; stderr so far:\n{}",
                    self.seen_stderr.join("\n")
                )
            })
            .expect("wait");
        drop(self.stdin.take());
        while let Some(line) = self.stderr.recv().await {
            self.seen_stderr.push(line);
        }
        while let Some(line) = self.stdout.recv().await {
            self.seen_stdout.push(line);
        }
        Ended {
            code: status.code(),
            stderr: self.seen_stderr.join("\n"),
            stdout: self.seen_stdout.join("\n"),
        }
    }
}

impl SigninWorld {
    /// Starts `reconnect ARGS…` in the profile with `env` applied (a value of
    /// `None` removes the variable) and RECONNECT_BROWSER removed.
    pub fn spawn(&self, args: &[&str], env: &[(&str, Option<&str>)]) -> Running {
        let mut cmd = tokio::process::Command::from(self.home.command(binary("reconnect")));
        cmd.args(args)
            .env_remove("RECONNECT_BROWSER")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (name, value) in env {
            match value {
                Some(v) => cmd.env(name, v),
                None => cmd.env_remove(name),
            };
        }
        let mut child = cmd.spawn().expect("reconnect starts");
        let stderr = forward(child.stderr.take().expect("stderr"));
        let stdout = forward(child.stdout.take().expect("stdout"));
        Running {
            stdin: child.stdin.take(),
            child,
            stderr,
            stdout,
            seen_stderr: Vec::new(),
            seen_stdout: Vec::new(),
        }
    }

    /// The device code the simulator issued (waits for it).
    pub async fn issued_device_code(&self) -> reconnect_sim::DeviceCodeInfo {
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            if let Some(code) = self.sim.state.device_codes().into_iter().last() {
                return code;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no device code was requested"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The token endpoint's answers to the polls of `user_code`, in order.
    pub fn device_polls(&self, user_code: &str) -> Vec<reconnect_sim::LogEntry> {
        self.sim
            .state
            .log()
            .into_iter()
            .filter(|e| e.endpoint == "token" && e.user_code.as_deref() == Some(user_code))
            .collect()
    }

    /// Waits until `user_code` has been polled `count` times.
    pub async fn wait_for_polls(&self, user_code: &str, count: usize) {
        let deadline = std::time::Instant::now() + PATIENCE;
        while self.device_polls(user_code).len() < count {
            assert!(
                std::time::Instant::now() < deadline,
                "{user_code} was polled {} times, not {count}",
                self.device_polls(user_code).len()
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// Every opener the system browser falls back to (`xdg-open` and the like).
const OPENERS: [&str; 6] = [
    "xdg-open",
    "gio",
    "gnome-open",
    "kde-open",
    "wslview",
    "sensible-browser",
];

/// A directory of stand-ins for every opener the system browser is tried
/// with: each records its call in the returned file and, with `visit`,
/// then fetches its last argument like a browser. Put it first on `PATH`.
pub fn stand_in_openers(world: &SigninWorld, visit: bool) -> (PathBuf, PathBuf) {
    let dir = world.home.path().join("openers");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let record = world.home.path().join("opened.txt");
    let then = if visit {
        "for last; do :; done\nexec curl -s -L --max-time 30 -o /dev/null \"$last\"\n"
    } else {
        ""
    };
    for name in OPENERS {
        let path = dir.join(name);
        let script = format!(
            "#!/bin/sh\necho \"$0 $*\" >> '{}'\n{then}",
            record.display()
        );
        std::fs::write(&path, script).expect("write opener");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    (dir, record)
}
