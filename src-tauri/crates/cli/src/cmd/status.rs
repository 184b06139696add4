//! `reconnect status` and `reconnect events`.

use std::process::ExitCode;

/// Arguments of `reconnect status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {}

/// Runs `reconnect status`.
pub fn status(_args: StatusArgs) -> ExitCode {
    super::not_yet("status")
}

/// Arguments of `reconnect events`.
#[derive(Debug, clap::Args)]
pub struct EventsArgs {}

/// Runs `reconnect events`.
pub fn events(_args: EventsArgs) -> ExitCode {
    super::not_yet("events")
}

