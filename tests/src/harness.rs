//! Process and environment helpers used by every end-to-end test.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// The cargo target directory the tests were built into.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return if dir.is_absolute() {
            dir
        } else {
            workspace_root().join(dir)
        };
    }
    workspace_root().join("target")
}

/// Path of a binary built by `cargo build` in the debug profile.
pub fn binary(name: &str) -> PathBuf {
    let path = target_dir().join("debug").join(name);
    assert!(
        path.exists(),
        "{} is missing: build it first (`cargo build --workspace --bins`)",
        path.display()
    );
    path
}

/// An isolated home: HOME, XDG dirs and RECONNECT_HOME under one temp dir.
#[derive(Debug)]
pub struct TempHome {
    dir: tempfile::TempDir,
}

impl TempHome {
    /// Creates the directories.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["home", "config", "data", "cache", "state", "reconnect"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        Self { dir }
    }

    /// The root of the temp dir.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The data directory handed to Reconnect as RECONNECT_HOME.
    pub fn reconnect_home(&self) -> PathBuf {
        self.dir.path().join("reconnect")
    }

    /// A command with the isolated environment applied.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        let p = self.dir.path();
        cmd.env("HOME", p.join("home"))
            .env("XDG_CONFIG_HOME", p.join("config"))
            .env("XDG_DATA_HOME", p.join("data"))
            .env("XDG_CACHE_HOME", p.join("cache"))
            .env("XDG_STATE_HOME", p.join("state"))
            .env("RECONNECT_HOME", self.reconnect_home());
        cmd
    }
}

impl Default for TempHome {
    fn default() -> Self {
        Self::new()
    }
}

/// Writes a "browser" script into `dir` that fetches the sign-in URL with
/// curl and follows every redirect (the simulator approves its auto-approve
/// user without a page); returns its path, for `signin --browser`.
pub fn curl_browser(dir: &Path) -> PathBuf {
    let path = dir.join("browser-curl.sh");
    std::fs::write(&path, "#!/bin/sh\nexec curl -s -L -o /dev/null \"$1\"\n")
        .expect("write the browser script");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("make the browser script executable");
    path
}

/// Runs `command` with `stdin` written to its standard input (then closed)
/// and its output collected.
pub fn output_with_stdin(command: &mut Command, stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the command");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for the command")
}

/// Fails the test with the process's exit code and output unless it
/// succeeded.
pub fn assert_success(out: &std::process::Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({:?}): {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A `reconnect` process started with `RECONNECT_TEST_PAUSE_AT` that has
/// reached its pause point (it printed `reconnect-test-paused <point>`); its
/// stderr is collected while it runs.
#[derive(Debug)]
pub struct Paused {
    child: Child,
    stderr: std::thread::JoinHandle<String>,
}

impl Paused {
    pub fn spawn(command: &mut Command, point: &str) -> Self {
        let mut child = command.spawn().expect("spawn reconnect");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        let marker = format!("reconnect-test-paused {point}");
        let reader = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.starts_with(&marker) {
                    let _ = tx.send(());
                }
                seen.push(line);
            }
            seen.join("\n")
        });
        rx.recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("the process never reached the pause point {point}"));
        Self {
            child,
            stderr: reader,
        }
    }

    pub fn wait(self) -> Output {
        let mut out = self.child.wait_with_output().expect("process ends");
        out.stderr = self.stderr.join().expect("stderr reader").into_bytes();
        out
    }
}

/// A child process that is killed when dropped.
#[derive(Debug)]
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How often the session's gnome-keyring has died and been restarted so far
/// (`scripts/with-session.sh` restarts it unlocked and counts); 0 outside
/// such a session.
pub fn keyring_restarts() -> usize {
    std::env::var_os("RECONNECT_SESSION_SCRATCH")
        .and_then(|dir| std::fs::read_to_string(Path::new(&dir).join("keyring-restarts")).ok())
        .map_or(0, |text| text.lines().count())
}

/// For a failing test's message: whether the session's keyring died under
/// it (then that, not the element or state waited for, is the news).
pub fn keyring_note() -> String {
    match keyring_restarts() {
        0 => String::new(),
        n => format!(
            " [note: the session's gnome-keyring-daemon died {n} time(s) during this test \
             binary and was restarted; see the with-session report]"
        ),
    }
}
