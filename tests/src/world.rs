//! A simulator in the test process and an isolated Reconnect profile with a
//! Microsoft account `work` pointing at it, driven through the real
//! `reconnect` binary on the simulator's clock. The blocking counterpart of
//! the sign-in tests' `SigninWorld`, for tests that run commands one by one.

use std::process::{Command, Output, Stdio};

use reconnect_sim::{RunningSim, SimConfig, Simulator};

use crate::grants;
use crate::harness::{TempHome, assert_success, binary, curl_browser};

/// The user the simulator approves without a page.
pub const ALICE: &str = "alice@contoso.test";

/// A simulator (auto-approving [`ALICE`]) and a profile with account `work`.
#[derive(Debug)]
pub struct Profile {
    /// The isolated home.
    pub home: TempHome,
    /// The simulator.
    pub sim: RunningSim,
    _runtime: tokio::runtime::Runtime,
}

/// How `work` gets its first grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connect {
    /// A grant minted without MFA, adopted with `reconnect import`.
    Import,
    /// `reconnect signin` with curl as the browser (the account learns its user).
    Signin,
}

impl Profile {
    /// Starts the simulator, adds `work` and connects it.
    pub fn start(connect: Connect) -> Self {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let sim = runtime
            .block_on(Simulator::start(SimConfig {
                auto_approve: Some(ALICE.to_owned()),
                apps: vec![grants::app()],
                ..SimConfig::default()
            }))
            .expect("simulator starts");
        let profile = Self {
            home: TempHome::new(),
            sim,
            _runtime: runtime,
        };
        let add = profile.run(&[
            "add",
            "work",
            "--client-id",
            grants::CLIENT_ID,
            "--authority",
            &profile.sim.http_url,
            "--tenant",
            "common",
        ]);
        assert_success(&add, "add");
        match connect {
            Connect::Import => {
                grants::import(profile.command(&[]), &profile.sim, "work", ALICE);
            }
            Connect::Signin => profile.signin("work"),
        }
        profile
    }

    /// `reconnect ARGS…` in the profile, on the simulator's clock.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.home.command(binary("reconnect"));
        cmd.args(args)
            .env_remove("RECONNECT_BROWSER")
            .env(
                "RECONNECT_TEST_CLOCK_OFFSET",
                self.sim.state.clock_offset().to_string(),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs `reconnect ARGS…` and waits for it.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run reconnect")
    }

    /// Signs `name` in with curl as the browser; it must succeed.
    pub fn signin(&self, name: &str) {
        let browser = curl_browser(self.home.path()).display().to_string();
        let out = self.run(&["signin", name, "--browser", &browser]);
        assert_success(&out, &format!("signin {name}"));
    }
}
