//! `reconnect credential`: git's credential helper protocol, answered with
//! an account's access token.
//!
//! git writes `key=value` lines (`protocol`, `host`, `path`, …) on stdin
//! and reads the same shape back. `get` answers `username`, `password` (the
//! access token) and `password_expiry_utc`; `store` and `erase` have
//! nothing to do, since Reconnect keeps the tokens. Which account answers
//! comes from the `[[route]]` table of the profile's `config.toml` (see
//! `reconnect_core::route`). `--check URL` says which account would answer
//! without fetching a token.
//!
//! When the account cannot give a token, the decoded reason goes to
//! stderr, the exit code is `reconnect token`'s, and `quit=1` tells git
//! not to fall back to asking for a password that does not exist.

use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use std::process::ExitCode;

use reconnect_core::route::{self, Choice, Route};
use reconnect_engine::{EngineError, TokenRequest};
use reconnect_store::{Home, ProfileConfig};

use super::exit;
use super::token::{failure, open_engine, print_secret, run, warn_unsaved};

/// The most git may send us (it sends a few hundred bytes).
const MAX_INPUT: u64 = 64 * 1024;

/// Arguments of `reconnect credential`.
#[derive(Debug, clap::Args)]
pub struct CredentialArgs {
    /// What git asks for (git passes it).
    #[arg(value_enum, required_unless_present = "check")]
    pub action: Option<Action>,
    /// Say which account would answer for URL, and stop.
    #[arg(long, value_name = "URL", conflicts_with = "action")]
    pub check: Option<String>,
}

/// git's credential actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Action {
    /// Give a credential for the request on stdin.
    Get,
    /// git keeps a credential that worked: nothing to do.
    Store,
    /// git drops a credential that failed: nothing to do.
    Erase,
}

/// Runs `reconnect credential`.
pub fn run_credential(args: CredentialArgs) -> ExitCode {
    if let Some(url) = &args.check {
        return check(url);
    }
    match args.action {
        Some(Action::Get) => get(),
        // Tokens live in the keychain already; a failed one is replaced by
        // the next refresh. Drain the input so git never sees a broken pipe.
        Some(Action::Store | Action::Erase) | None => {
            let _ = std::io::copy(
                &mut std::io::stdin().lock().take(MAX_INPUT),
                &mut std::io::sink(),
            );
            ExitCode::SUCCESS
        }
    }
}

/// The attributes git sent, last value of each key.
fn read_request() -> Result<BTreeMap<String, String>, std::io::Error> {
    let mut fields = BTreeMap::new();
    for line in std::io::stdin().lock().take(MAX_INPUT).lines() {
        let line = line?;
        if line.is_empty() {
            break;
        }
        if let Some((key, value)) = line.split_once('=') {
            fields.insert(key.to_owned(), value.to_owned());
        }
    }
    Ok(fields)
}

fn load_routes() -> Result<(Vec<Route>, String), ExitCode> {
    let loaded = Home::resolve().map_err(|e| e.to_string()).and_then(|home| {
        let path = home.config_path().display().to_string();
        ProfileConfig::load(&home)
            .map(|c| (c.routes, path))
            .map_err(|e| e.to_string())
    });
    loaded.map_err(|message| {
        eprintln!("reconnect: {message}");
        ExitCode::from(exit::OTHER)
    })
}

/// Picks the account for `host`/`path`, or explains why none answers.
fn pick(
    routes: &[Route],
    file: &str,
    protocol: &str,
    host: &str,
    path: Option<&str>,
) -> Result<String, String> {
    let url = format!("{protocol}://{host}/{}", path.unwrap_or(""));
    if protocol != "https" && protocol != "http" {
        return Err(format!("only http and https are served, not {url}"));
    }
    match route::choose(routes, host, path) {
        Choice::Route(route) => Ok(route.account.clone()),
        Choice::NoRoute => Err(format!(
            "no route in {file} answers for {url}; add one, for example:\n\n\
             [[route]]\nhost = \"{host}\"\naccount = \"NAME\"\n"
        )),
        Choice::PathNeeded => Err(format!(
            "the routes in {file} for {host} depend on the path, but git did not send it; \
             turn it on with:\n  git config --global credential.{protocol}://{host}.useHttpPath true"
        )),
    }
}

fn get() -> ExitCode {
    let request = match read_request() {
        Ok(fields) => fields,
        Err(err) => {
            eprintln!("reconnect: cannot read git's request: {err}");
            return ExitCode::from(exit::OTHER);
        }
    };
    let (routes, file) = match load_routes() {
        Ok(found) => found,
        Err(code) => return code,
    };
    let field = |k: &str| request.get(k).map(String::as_str);
    let protocol = field("protocol").unwrap_or_default();
    let host = field("host").unwrap_or_default();
    let name = match pick(&routes, &file, protocol, host, field("path")) {
        Ok(name) => name,
        Err(message) => {
            eprintln!("reconnect: {message}");
            return ExitCode::from(exit::OTHER);
        }
    };
    answer(&name, field("username"))
}

/// Fetches the token for `name` and writes git's answer.
fn answer(name: &str, username: Option<&str>) -> ExitCode {
    let owned = name.to_owned();
    let result = run(async move {
        let engine = open_engine()?;
        let issued = engine.token(&owned, TokenRequest::default()).await?;
        let account = engine.store().account(&owned)?;
        Ok::<_, EngineError>((issued, account))
    });
    let (issued, account) = match result {
        Ok(found) => found,
        Err(err) => {
            // Stop git from prompting for a password that does not exist.
            println!("quit=1");
            return failure(&err);
        }
    };
    if issued.unsaved_credentials {
        warn_unsaved();
    }
    let user = username
        .filter(|u| !u.is_empty())
        .or(account.identity.upn.as_deref())
        .unwrap_or("reconnect");
    let mut text = format!("username={user}\npassword={}", issued.access_token.expose());
    if let Some(at) = issued.expires_at {
        text.push_str(&format!("\npassword_expiry_utc={at}"));
    }
    print_secret(&text)
}

/// `--check URL`: names the account and the route, fetching nothing.
fn check(url: &str) -> ExitCode {
    let parsed = match url::Url::parse(url) {
        Ok(u) if u.host_str().is_some() => u,
        _ => {
            eprintln!("reconnect: `{url}` is not a URL (give it as git would, https://host/path)");
            return ExitCode::from(exit::OTHER);
        }
    };
    let (routes, file) = match load_routes() {
        Ok(found) => found,
        Err(code) => return code,
    };
    let host = match parsed.port() {
        Some(port) => format!("{}:{port}", parsed.host_str().unwrap_or_default()),
        None => parsed.host_str().unwrap_or_default().to_owned(),
    };
    let path = parsed.path().trim_start_matches('/');
    match pick(&routes, &file, parsed.scheme(), &host, Some(path)) {
        Ok(name) => {
            println!("{url}: account `{name}`");
            if let Choice::Route(r) = route::choose(&routes, &host, Some(path))
                && r.path.is_some()
            {
                println!(
                    "  (this route depends on the path; git sends it only with \
                     `git config --global credential.{}://{host}.useHttpPath true`)",
                    parsed.scheme()
                );
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("reconnect: {message}");
            ExitCode::from(exit::OTHER)
        }
    }
}
