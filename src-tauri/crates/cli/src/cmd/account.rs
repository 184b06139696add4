//! Account commands: `add`, `remove`, `accounts`, `import`.
//!
//! Metadata goes to the profile's SQLite database; tokens only to the OS
//! keychain. Every command honours `RECONNECT_HOME`.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use anyhow::{Context, bail};
use reconnect_core::authority::{self, Cloud};
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

/// A Microsoft national cloud, for `--cloud`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CloudArg {
    /// login.microsoftonline.com.
    Global,
    /// Azure Government: login.microsoftonline.us.
    UsGovernment,
    /// Azure China (21Vianet): login.chinacloudapi.cn.
    China,
}

impl From<CloudArg> for Cloud {
    fn from(arg: CloudArg) -> Self {
        match arg {
            CloudArg::Global => Cloud::Global,
            CloudArg::UsGovernment => Cloud::UsGovernment,
            CloudArg::China => Cloud::China,
        }
    }
}

/// Arguments of `reconnect add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// A unique name for the account (used by every other command).
    pub name: String,
    /// Microsoft: the login base URL (default https://login.microsoftonline.com;
    /// with --b2c-tenant or --ciam-tenant, replaces their host, e.g. for a custom domain).
    /// oidc: the issuer URL (required). `http://` only for loopback hosts.
    #[arg(long, value_name = "URL")]
    pub authority: Option<String>,
    /// Microsoft: the national cloud to sign in at (instead of --authority).
    #[arg(long, value_enum, conflicts_with = "authority")]
    pub cloud: Option<CloudArg>,
    /// Azure AD B2C: the tenant's name, the part before .onmicrosoft.com
    /// (sets the authority to https://NAME.b2clogin.com and the tenant; needs --b2c-policy).
    #[arg(
        long,
        value_name = "NAME",
        requires = "b2c_policy",
        conflicts_with_all = ["tenant", "cloud", "ciam_tenant"]
    )]
    pub b2c_tenant: Option<String>,
    /// Azure AD B2C: the user flow or custom policy, e.g. `B2C_1_signupsignin`.
    #[arg(long, value_name = "POLICY", requires = "b2c_tenant")]
    pub b2c_policy: Option<String>,
    /// Microsoft Entra External ID (CIAM): the tenant's name, the part before
    /// .onmicrosoft.com (sets the authority to https://NAME.ciamlogin.com and the tenant).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["tenant", "cloud"])]
    pub ciam_tenant: Option<String>,
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
    let new = new_account(args)?;
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

/// The account `reconnect add` describes (not yet checked by the store).
fn new_account(args: AddArgs) -> anyhow::Result<NewAccount> {
    let (port_min, port_max) = match &args.redirect_ports {
        None => (0, 0),
        Some(text) => parse_ports(text)?,
    };
    let redirect = Redirect {
        host: args.redirect_host.clone(),
        port_min,
        port_max,
        path: args.redirect_path.clone(),
    };
    let new = match args.provider {
        ProviderArg::Microsoft => microsoft_account(args)?,
        ProviderArg::Oidc => oidc_account(args)?,
    };
    Ok(NewAccount { redirect, ..new })
}

/// A Microsoft account: Entra (any cloud), B2C or CIAM.
fn microsoft_account(args: AddArgs) -> anyhow::Result<NewAccount> {
    let (place, default_scopes) = if let Some(name) = &args.b2c_tenant {
        let policy = args.b2c_policy.as_deref().unwrap_or_default();
        // B2C knows nothing of Microsoft Graph; the client id is asked for instead.
        (authority::b2c(name, policy)?, DEFAULT_OIDC_SCOPES)
    } else if let Some(name) = &args.ciam_tenant {
        (authority::ciam(name)?, DEFAULT_MICROSOFT_SCOPES)
    } else {
        let base = args
            .cloud
            .map_or(DEFAULT_MICROSOFT_AUTHORITY, |c| Cloud::from(c).authority());
        let tenant = args.tenant.as_deref().unwrap_or(DEFAULT_MICROSOFT_TENANT);
        (
            (base.to_owned(), tenant.to_owned()),
            DEFAULT_MICROSOFT_SCOPES,
        )
    };
    let (default_authority, tenant) = place;
    let authority = args.authority.unwrap_or(default_authority);
    Ok(NewAccount {
        name: args.name,
        provider: Provider::Microsoft,
        authority: authority.trim_end_matches('/').to_owned(),
        tenant: Some(tenant),
        client_id: args.client_id,
        scopes: split_scopes(args.scopes.as_deref().unwrap_or(default_scopes)),
        redirect: Redirect::default(),
    })
}

/// An OpenID Connect account: everything is in the issuer URL.
fn oidc_account(args: AddArgs) -> anyhow::Result<NewAccount> {
    if args.tenant.is_some() {
        bail!(
            "--tenant applies to Microsoft accounts only; for oidc, put everything in --authority (the issuer URL)"
        );
    }
    if args.cloud.is_some() || args.b2c_tenant.is_some() || args.ciam_tenant.is_some() {
        bail!("--cloud, --b2c-tenant and --ciam-tenant apply to Microsoft accounts only");
    }
    let Some(issuer) = args.authority else {
        bail!("an oidc account needs --authority ISSUER_URL");
    };
    Ok(NewAccount {
        name: args.name,
        provider: Provider::Oidc,
        authority: issuer,
        tenant: None,
        client_id: args.client_id,
        scopes: split_scopes(args.scopes.as_deref().unwrap_or(DEFAULT_OIDC_SCOPES)),
        redirect: Redirect::default(),
    })
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        add: AddArgs,
    }

    fn parse(args: &[&str]) -> Result<AddArgs, clap::Error> {
        let argv = ["reconnect", "work", "--client-id", "cid"];
        Cli::try_parse_from(argv.iter().chain(args)).map(|cli| cli.add)
    }

    fn account(args: &[&str]) -> NewAccount {
        new_account(parse(args).expect("arguments parse")).expect("an account")
    }

    #[test]
    fn defaults_are_the_global_cloud_and_organizations() {
        let new = account(&[]);
        assert_eq!(new.authority, DEFAULT_MICROSOFT_AUTHORITY);
        assert_eq!(new.tenant.as_deref(), Some(DEFAULT_MICROSOFT_TENANT));
        assert_eq!(new.scopes, split_scopes(DEFAULT_MICROSOFT_SCOPES));
        assert!(new.validate().is_ok());
    }

    #[test]
    fn cloud_sets_the_authority() {
        let gov = account(&["--cloud", "us-government", "--tenant", "contoso.us"]);
        assert_eq!(gov.authority, "https://login.microsoftonline.us");
        assert_eq!(gov.tenant.as_deref(), Some("contoso.us"));
        let china = account(&["--cloud", "china"]);
        assert_eq!(china.authority, "https://login.chinacloudapi.cn");
        assert_eq!(
            account(&["--cloud", "global"]).authority,
            DEFAULT_MICROSOFT_AUTHORITY
        );
        assert!(parse(&["--cloud", "mars"]).is_err());
        let both = parse(&["--cloud", "china", "--authority", "https://x.test"]).unwrap_err();
        assert_eq!(both.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn b2c_sets_authority_tenant_and_openid_scopes() {
        let new = account(&["--b2c-tenant", "contoso", "--b2c-policy", "B2C_1_signin"]);
        assert_eq!(new.authority, "https://contoso.b2clogin.com");
        assert_eq!(
            new.tenant.as_deref(),
            Some("contoso.onmicrosoft.com/B2C_1_signin")
        );
        assert_eq!(new.scopes, split_scopes(DEFAULT_OIDC_SCOPES));
        assert!(new.validate().is_ok(), "the store takes a B2C tenant");
        // --authority replaces the host (a custom domain, the simulator).
        let local = account(&[
            "--b2c-tenant",
            "contoso",
            "--b2c-policy",
            "B2C_1_signin",
            "--authority",
            "http://127.0.0.1:4000/",
        ]);
        assert_eq!(local.authority, "http://127.0.0.1:4000");
        assert_eq!(local.tenant, new.tenant);
    }

    #[test]
    fn b2c_needs_both_halves_and_valid_names() {
        let kind = |args: &[&str]| parse(args).unwrap_err().kind();
        use clap::error::ErrorKind::{ArgumentConflict, MissingRequiredArgument};
        assert_eq!(kind(&["--b2c-tenant", "contoso"]), MissingRequiredArgument);
        assert_eq!(kind(&["--b2c-policy", "B2C_1_x"]), MissingRequiredArgument);
        let with = |extra: &[&str]| {
            let mut args = vec!["--b2c-tenant", "contoso", "--b2c-policy", "B2C_1_x"];
            args.extend_from_slice(extra);
            kind(&args)
        };
        assert_eq!(with(&["--tenant", "common"]), ArgumentConflict);
        assert_eq!(with(&["--cloud", "china"]), ArgumentConflict);
        assert_eq!(with(&["--ciam-tenant", "x"]), ArgumentConflict);
        let bad = parse(&["--b2c-tenant", "con.toso", "--b2c-policy", "B2C_1_x"]).unwrap();
        assert!(new_account(bad).is_err());
        let bad = parse(&["--b2c-tenant", "contoso", "--b2c-policy", "signin"]).unwrap();
        let err = new_account(bad).unwrap_err().to_string();
        assert!(err.contains("B2C_1_"), "{err}");
    }

    #[test]
    fn ciam_sets_authority_and_tenant() {
        let new = account(&["--ciam-tenant", "fabrikam"]);
        assert_eq!(new.authority, "https://fabrikam.ciamlogin.com");
        assert_eq!(new.tenant.as_deref(), Some("fabrikam.onmicrosoft.com"));
        assert!(new.validate().is_ok());
        let conflict = parse(&["--ciam-tenant", "fabrikam", "--tenant", "common"]).unwrap_err();
        assert_eq!(conflict.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn oidc_refuses_microsoft_only_flags() {
        let oidc = ["--provider", "oidc", "--authority", "https://idp.test"];
        assert_eq!(account(&oidc).provider, Provider::Oidc);
        let with_cloud = parse(&[&oidc[..], &["--ciam-tenant", "x"]].concat()).unwrap();
        assert!(new_account(with_cloud).is_err());
    }
}
