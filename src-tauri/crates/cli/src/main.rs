//! The `reconnect` command-line tool: the same engine as the desktop app,
//! for scripts, testers and admins. Each command family lives in its own
//! module under `cmd/`; this file only parses arguments and dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Keep OAuth connections (Microsoft Entra ID, any OpenID Connect provider) alive.
#[derive(Debug, Parser)]
#[command(name = "reconnect", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Explain a sign-in failure: an error body, a description, or an AADSTS code.
    Decode(cmd::decode::DecodeArgs),
    /// Run or control the local simulator of Microsoft's identity endpoints.
    Sim(cmd::sim::SimArgs),
    /// Add an account (a connection to keep alive).
    Add(cmd::account::AddArgs),
    /// Remove an account and its keychain entries.
    Remove(cmd::account::RemoveArgs),
    /// List accounts.
    Accounts(cmd::account::AccountsArgs),
    /// Adopt a refresh token obtained elsewhere.
    Import(cmd::account::ImportArgs),
    /// Print a valid access token on stdout, refreshing if needed.
    Token(cmd::token::TokenArgs),
    /// git's credential helper: answers with an account's access token.
    Credential(cmd::credential::CredentialArgs),
    /// Refresh an account's tokens now.
    Refresh(cmd::token::RefreshArgs),
    /// Show health, forecast and the last failure of accounts.
    Status(cmd::status::StatusArgs),
    /// Show the history of refresh and sign-in attempts.
    Events(cmd::status::EventsArgs),
    /// Sign in interactively (authorization code + PKCE) to connect or reconnect an account.
    Signin(cmd::signin::SigninArgs),
    /// Keep the profile's connections alive in the foreground (or once, with --once).
    Keep(cmd::keep::KeepArgs),
    /// Install, remove or check the login service that runs `reconnect keep`.
    Service(cmd::service::ServiceArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        // A keeper logs its own way (one line per event, for a journal).
        Command::Keep(args) => cmd::keep::run(args),
        command => {
            cmd::logging::init();
            dispatch(command)
        }
    }
}

fn dispatch(command: Command) -> ExitCode {
    match command {
        Command::Decode(args) => cmd::decode::run(args),
        Command::Sim(args) => cmd::sim::run(args),
        Command::Add(args) => cmd::account::add(args),
        Command::Remove(args) => cmd::account::remove(args),
        Command::Accounts(args) => cmd::account::accounts(args),
        Command::Import(args) => cmd::account::import(args),
        Command::Token(args) => cmd::token::token(args),
        Command::Credential(args) => cmd::credential::run_credential(args),
        Command::Refresh(args) => cmd::token::refresh(args),
        Command::Status(args) => cmd::status::status(args),
        Command::Events(args) => cmd::status::events(args),
        Command::Signin(args) => cmd::signin::run(args),
        Command::Service(args) => cmd::service::run(args),
        Command::Keep(args) => cmd::keep::run(args),
    }
}
