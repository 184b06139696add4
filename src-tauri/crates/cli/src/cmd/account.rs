//! Account commands: `add`, `remove`, `accounts`, `import`.
//!
//! Metadata goes to the profile's SQLite database; tokens only to the OS
//! keychain. Every command honours `RECONNECT_HOME`.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use anyhow::{Context, bail};
use reconnect_core::secret::RefreshToken;
use reconnect_store::account::{
    DEFAULT_MICROSOFT_AUTHORITY, DEFAULT_MICROSOFT_SCOPES, DEFAULT_MICROSOFT_TENANT,
    DEFAULT_OIDC_SCOPES, split_scopes,
};
use reconnect_store::{Account, Home, NewAccount, Profile, Provider, Redirect, Store};

/// Which kind of identity provider an account uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderArg {
    /// Microsoft Entra ID.
    Microsoft,
    /// Any OpenID Connect provider (`--authority` is its issuer URL).
    Oidc,
}

/// Arguments of `reconnect add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// A unique name for the account (used by every other command).
    pub name: String,
    /// Microsoft: the login base URL (default https://login.microsoftonline.com).
    /// oidc: the issuer URL (required). `http://` only for loopback hosts.
    #[arg(long, value_name = "URL")]
    pub authority: Option<String>,
    /// The app registration's client id.
    #[arg(long, value_name = "ID")]
    pub client_id: String,
    /// Microsoft tenant: `organizations` (default), `common`, `consumers`, a domain or an id.
    #[arg(long, value_name = "T")]
    pub tenant: Option<String>,
    /// Space-separated scopes (Microsoft default: "openid profile offline_access User.Read").
    #[arg(long, value_name = "SCOPES")]
    pub scopes: Option<String>,
    /// The identity provider.
    #[arg(long, value_enum, default_value = "microsoft")]
    pub provider: ProviderArg,
    /// Loopback host for the sign-in redirect (`localhost` listens on both
    /// 127.0.0.1 and ::1, whichever the browser resolves).
    #[arg(long, value_name = "HOST", default_value = "localhost")]
    pub redirect_host: String,
    /// Port or port range for the sign-in redirect, e.g. `8400` or `8400-8410`
    /// (default: any free port).
    #[arg(long, value_name = "PORTS")]
    pub redirect_ports: Option<String>,
    /// Path of the redirect URI.
    #[arg(long, value_name = "PATH", default_value = "/")]
    pub redirect_path: String,
}

/// Runs `reconnect add`.
pub fn add(args: AddArgs) -> ExitCode {
    finish(run_add(args))
}

fn run_add(args: AddArgs) -> anyhow::Result<()> {
    let (port_min, port_max) = match &args.redirect_ports {
        None => (0, 0),
        Some(text) => parse_ports(text)?,
    };
    let new = match args.provider {
        ProviderArg::Microsoft => NewAccount {
            name: args.name,
            provider: Provider::Microsoft,
            authority: args
                .authority
                .unwrap_or_else(|| DEFAULT_MICROSOFT_AUTHORITY.to_owned())
                .trim_end_matches('/')
                .to_owned(),
            tenant: Some(
                args.tenant
                    .unwrap_or_else(|| DEFAULT_MICROSOFT_TENANT.to_owned()),
            ),
            client_id: args.client_id,
            scopes: split_scopes(args.scopes.as_deref().unwrap_or(DEFAULT_MICROSOFT_SCOPES)),
            redirect: Redirect::default(),
        },
        ProviderArg::Oidc => {
            if args.tenant.is_some() {
                bail!(
                    "--tenant applies to Microsoft accounts only; for oidc, put everything in --authority (the issuer URL)"
                );
            }
            let Some(issuer) = args.authority else {
                bail!("an oidc account needs --authority ISSUER_URL");
            };
            NewAccount {
                name: args.name,
                provider: Provider::Oidc,
                authority: issuer,
                tenant: None,
                client_id: args.client_id,
                scopes: split_scopes(args.scopes.as_deref().unwrap_or(DEFAULT_OIDC_SCOPES)),
                redirect: Redirect::default(),
            }
        }
    };
    let new = NewAccount {
        redirect: Redirect {
            host: args.redirect_host,
            port_min,
            port_max,
            path: args.redirect_path,
        },
        ..new
    };
    let home = Home::resolve()?;
    let account = Store::open(&home)?.add_account(&new)?;
    println!(
        "Added account {:?} ({}, {}).",
        account.name,
        account.provider.as_str(),
        where_(&account)
    );
    println!(
        "Next: `reconnect signin {0}`, or `reconnect import {0} --refresh-token-stdin`.",
        shell_word(&account.name)
    );
    Ok(())
}

fn parse_ports(text: &str) -> anyhow::Result<(u16, u16)> {
    let parse = |p: &str| {
        p.trim()
            .parse::<u16>()
            .with_context(|| format!("{p:?} is not a port number"))
    };
    let (min, max) = match text.split_once('-') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => {
            let p = parse(text)?;
            (p, p)
        }
    };
    if min > max {
        bail!("redirect port range {text:?} is reversed");
    }
    Ok((min, max))
}

/// Arguments of `reconnect remove`.
#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// The account to remove (its keychain entries are deleted too).
    pub name: String,
}

/// Runs `reconnect remove`.
pub fn remove(args: RemoveArgs) -> ExitCode {
    finish(run_remove(args))
}

fn run_remove(args: RemoveArgs) -> anyhow::Result<()> {
    let profile = Profile::open()?;
    let account = profile
        .remove_account(&args.name)
        .with_context(|| format!("account {:?} was not removed", args.name))?;
    println!(
        "Removed account {:?} and its keychain entries.",
        account.name
    );
    Ok(())
}

/// Arguments of `reconnect accounts`.
#[derive(Debug, clap::Args)]
pub struct AccountsArgs {
    /// Print JSON (an array of accounts) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `reconnect accounts`.
pub fn accounts(args: AccountsArgs) -> ExitCode {
    finish(run_accounts(args))
}

fn run_accounts(args: AccountsArgs) -> anyhow::Result<()> {
    let store = Store::open(&Home::resolve()?)?;
    let accounts = store.accounts()?;
    if args.json {
        let mut list = Vec::with_capacity(accounts.len());
        for account in &accounts {
            let mut value = serde_json::to_value(account)?;
            value["token"] = serde_json::to_value(store.token_facts(account.id)?)?;
            value["health"] = serde_json::to_value(store.health(account.id)?)?;
            list.push(value);
        }
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    if accounts.is_empty() {
        println!("No accounts yet. Add one with `reconnect add NAME --client-id ID`.");
        return Ok(());
    }
    println!(
        "{:<20} {:<10} {:<45} {:<28} {:<8} HEALTH",
        "NAME", "PROVIDER", "AUTHORITY", "USER", "TOKEN"
    );
    for account in &accounts {
        let token = match store.token_facts(account.id)? {
            Some(_) => "stored",
            None => "none",
        };
        let health = store.health(account.id)?.map_or("-", |h| h.state.as_str());
        let user = account
            .identity
            .upn
            .clone()
            .or_else(|| account.identity.display_name.clone())
            .or_else(|| account.identity.subject.clone())
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<20} {:<10} {:<45} {:<28} {:<8} {}",
            account.name,
            account.provider.as_str(),
            where_(account),
            user,
            token,
            health
        );
    }
    Ok(())
}

/// Arguments of `reconnect import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The account to give the refresh token to (add it first).
    pub name: String,
    /// Read the refresh token from standard input (the only way: never pass
    /// a token as an argument, where other users and shell history see it).
    #[arg(long, required = true)]
    pub refresh_token_stdin: bool,
}

/// Runs `reconnect import`.
pub fn import(args: ImportArgs) -> ExitCode {
    finish(run_import(args))
}

fn run_import(args: ImportArgs) -> anyhow::Result<()> {
    let profile = Profile::open()?;
    // Look the account up before reading a secret for nothing.
    profile.store().account(&args.name)?;
    let input = if std::io::stdin().is_terminal() {
        // Typed or pasted at a terminal: echo off, so the token never
        // lands on the screen or in a terminal's scrollback.
        read_hidden("Paste the refresh token (not shown), then press Enter: ")
            .context("cannot read the refresh token from the terminal")?
    } else {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .context("cannot read the refresh token from standard input")?;
        input
    };
    let token = input.trim();
    if token.is_empty() {
        bail!("no refresh token on standard input");
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!(
            "standard input must hold exactly one refresh token (it contains spaces or line breaks)"
        );
    }
    let bytes = token.len();
    let account = profile
        .import_refresh_token(&args.name, RefreshToken::new(token))
        .with_context(|| format!("the refresh token for {:?} was not stored", args.name))?;
    println!(
        "Imported a refresh token ({bytes} bytes) for {:?} into the keychain.",
        account.name
    );
    println!(
        "Next: `reconnect refresh {}` trades it for an access token.",
        shell_word(&account.name)
    );
    Ok(())
}

/// Reads one line from the terminal on stdin with echo off. Echo goes off
/// *before* the prompt is shown, so keys sent the moment the prompt appears
/// (a paste, an `expect` script) are never echoed; rpassword shows its
/// prompt first and leaves that moment open.
#[cfg(unix)]
fn read_hidden(prompt: &str) -> std::io::Result<String> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    let saved = tcgetattr(&stdin)?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet.local_modes.insert(LocalModes::ECHONL);
    tcsetattr(&stdin, OptionalActions::Now, &quiet)?;
    eprint!("{prompt}");
    let mut line = String::new();
    let read = stdin.read_line(&mut line);
    let restored = tcsetattr(&stdin, OptionalActions::Now, &saved);
    read?;
    restored?;
    Ok(line)
}

#[cfg(not(unix))]
fn read_hidden(prompt: &str) -> std::io::Result<String> {
    rpassword::prompt_password(prompt)
}

/// Where an account signs in, for display.
fn where_(account: &Account) -> String {
    match (&account.provider, &account.tenant) {
        (Provider::Microsoft, Some(tenant)) => format!("{}/{}", account.authority, tenant),
        _ => account.authority.clone(),
    }
}

/// Quotes a name for a copyable command line if needed.
fn shell_word(name: &str) -> String {
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
    {
        name.to_owned()
    } else {
        format!("'{}'", name.replace('\'', r"'\''"))
    }
}

/// Prints an error (with its causes) and picks the exit code.
fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("reconnect: {err:#}");
            ExitCode::from(super::exit::OTHER)
        }
    }
}
