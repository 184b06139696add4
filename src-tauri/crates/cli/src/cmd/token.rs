//! `reconnect token` and `reconnect refresh`.

use std::process::ExitCode;

/// Arguments of `reconnect token`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {}

/// Runs `reconnect token`.
pub fn token(_args: TokenArgs) -> ExitCode {
    super::not_yet("token")
}

/// Arguments of `reconnect refresh`.
#[derive(Debug, clap::Args)]
pub struct RefreshArgs {}

/// Runs `reconnect refresh`.
pub fn refresh(_args: RefreshArgs) -> ExitCode {
    super::not_yet("refresh")
}

