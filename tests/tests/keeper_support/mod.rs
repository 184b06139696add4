//! Shared pieces of the keeper tests: the simulator in this process, whose
//! virtual clock the keeper follows (the engine's
//! `RECONNECT_TEST_CLOCK_FILE` hook: the test writes the simulator's offset
//! to a file the keeper's clock re-reads), an isolated profile with an
//! account, and `reconnect keep` as a child process whose stderr is read
//! line by line. The keeper polls fast (`RECONNECT_TEST_POLL_MS`) and says
//! when a round is over (`reconnect-test-tick <now>`), so a test moves the
//! clock, waits for a round that saw the new time, then looks.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reconnect_e2e::grants::{self, CLIENT_ID};
use reconnect_e2e::harness::{TempHome, assert_success, binary};
use reconnect_sim::{RunningSim, SimConfig, Simulator};
use serde_json::Value;

pub const ALICE: &str = "alice@contoso.test";
pub const BOB: &str = "bob@contoso.test";
pub const DAY: i64 = 86_400;
/// How long a keeper may take to react before a test gives up on it.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A simulator, a profile, and the file the keeper's clock follows.
pub struct World {
    pub home: TempHome,
    pub sim: RunningSim,
    clock_file: PathBuf,
    /// Extra environment for every `reconnect` run (e.g. a private bus).
    pub env: Vec<(String, String)>,
    _runtime: tokio::runtime::Runtime,
}

impl World {
    /// A simulator and an empty profile.
    pub fn start() -> Self {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let config = SimConfig {
            users: vec![ALICE.into(), BOB.into()],
            apps: vec![grants::app()],
            ..SimConfig::default()
        };
        let sim = runtime
            .block_on(Simulator::start(config))
            .expect("simulator starts");
        let home = TempHome::new();
        let clock_file = home.path().join("clock-offset");
        std::fs::write(&clock_file, "0").expect("clock file");
        Self {
            home,
            sim,
            clock_file,
            env: Vec::new(),
            _runtime: runtime,
        }
    }

    /// `reconnect ARGS` in this world (clock, pace, profile), output piped.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.home.command(binary("reconnect"));
        cmd.args(args)
            .env("RECONNECT_TEST_CLOCK_FILE", &self.clock_file)
            .env("RECONNECT_TEST_POLL_MS", "40")
            .env("RECONNECT_NO_NOTIFICATIONS", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run reconnect")
    }

    /// Adds account `name` and imports a fresh grant of `upn`; returns its
    /// refresh token (for secret scans).
    pub fn connect(&self, name: &str, upn: &str) -> String {
        let add = self.run(&[
            "add",
            name,
            "--authority",
            &self.sim.http_url,
            "--tenant",
            "common",
            "--client-id",
            CLIENT_ID,
        ]);
        assert_success(&add, "add");
        grants::import(self.command(&[]), &self.sim, name, upn)
    }

    /// Moves both clocks forward.
    pub fn advance(&self, seconds: i64) {
        self.sim.state.advance_clock(seconds).expect("advance");
        let temp = self.clock_file.with_extension("tmp");
        std::fs::write(&temp, self.sim.state.clock_offset().to_string()).expect("write");
        std::fs::rename(&temp, &self.clock_file).expect("rename");
    }

    /// The virtual "now".
    pub fn now(&self) -> i64 {
        self.sim.state.now()
    }

    /// `status NAME --json`.
    pub fn status(&self, name: &str) -> Value {
        let out = self.run(&["status", name, "--json"]);
        assert_success(&out, "status");
        serde_json::from_slice(&out.stdout).expect("status JSON")
    }

    /// Token requests redeeming a refresh token, as (user, HTTP status).
    pub fn refreshes(&self) -> Vec<(Option<String>, u16)> {
        self.sim
            .state
            .log()
            .into_iter()
            .filter(|e| e.grant_type.as_deref() == Some("refresh_token"))
            .map(|e| (e.user, e.status))
            .collect()
    }

    /// Writes the profile's `config.toml`.
    pub fn config(&self, text: &str) {
        std::fs::write(self.home.reconnect_home().join("config.toml"), text).expect("config");
    }

    /// Queues a simulator fault.
    pub fn fault(&self, json: Value) {
        let request = serde_json::from_value(json).expect("fault");
        self.sim.state.add_fault(request).expect("fault added");
    }

    /// Starts `reconnect keep` with `env` added.
    pub fn keeper(&self, env: &[(&str, &str)]) -> Keeper {
        let mut cmd = self.command(&["keep"]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Keeper::spawn(cmd)
    }
}

/// A running `reconnect keep`; killed when dropped.
pub struct Keeper {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Every stderr line read so far.
    pub log: Vec<String>,
}

impl Keeper {
    fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd.spawn().expect("spawn reconnect keep");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            log: Vec::new(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Reads stderr until a line satisfies `done`; returns it.
    pub fn wait_for(&mut self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if done(&line) {
                        return line;
                    }
                }
                Err(_) => panic!("the keeper never logged {what}; its log:\n{}", self.text()),
            }
        }
    }

    /// Waits for the end of a scheduler round that began at `now` or later.
    pub fn wait_round(&mut self, now: i64) {
        self.wait_for(&format!("a round at {now} or later"), |line| {
            line.strip_prefix("reconnect-test-tick ")
                .and_then(|t| t.trim().parse::<i64>().ok())
                .is_some_and(|t| t >= now)
        });
    }

    /// The log so far, one line each.
    pub fn text(&self) -> String {
        self.log.join("\n")
    }

    /// Sends `signal` (`TERM`, `KILL`, …) with kill(1).
    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([format!("-{signal}"), self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{signal} failed");
    }

    /// Waits up to `within` for the process to end; its status, if it did.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                self.drain();
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Reads what is left of stderr (the process has ended).
    fn drain(&mut self) {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.log.push(line);
        }
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
