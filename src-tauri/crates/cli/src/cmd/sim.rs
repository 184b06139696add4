//! `reconnect sim`: run and control the simulator.

use std::process::ExitCode;

/// Arguments of `reconnect sim`.
#[derive(Debug, clap::Args)]
pub struct SimArgs {}

/// Runs `reconnect sim`.
pub fn run(_args: SimArgs) -> ExitCode {
    super::not_yet("sim")
}

