//! `reconnect signin`: interactive sign-in.

use std::process::ExitCode;

/// Arguments of `reconnect signin`.
#[derive(Debug, clap::Args)]
pub struct SigninArgs {}

/// Runs `reconnect signin`.
pub fn run(_args: SigninArgs) -> ExitCode {
    super::not_yet("signin")
}

