//! `reconnect decode`: explain any sign-in failure.

use std::process::ExitCode;

/// Arguments of `reconnect decode`.
#[derive(Debug, clap::Args)]
pub struct DecodeArgs {}

/// Runs `reconnect decode`.
pub fn run(_args: DecodeArgs) -> ExitCode {
    super::not_yet("decode")
}

