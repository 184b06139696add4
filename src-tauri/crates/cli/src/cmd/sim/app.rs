//! `reconnect sim app`: the app registrations of a running simulator. A
//! strict simulator (the default) signs nobody in to an app it does not
//! know, so scripts register theirs first: `add` registers or replaces one
//! (defaults as `AppRegistration::desktop`), `list` shows them as a table or
//! the API's JSON, `remove` deletes one.

use std::io::{IsTerminal as _, Read as _};

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use reconnect_sim::{
    AppList, AppRegistration, Audience, ControlClient, ControlError, Platform, RedirectUri,
    Rotation,
};

use super::{print_json, print_text};

/// What `reconnect sim app` does.
#[derive(Debug, Subcommand)]
pub enum AppAction {
    /// Register an app, or replace its registration.
    Add(AddArgs),
    /// List the registered apps.
    List {
        /// Print the API's JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Delete an app's registration; sign-ins and token requests for it then fail (700016).
    Remove {
        /// The application (client) id.
        client_id: String,
    },
}

/// Arguments of `reconnect sim app add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The application (client) id.
    client_id: String,
    /// Who may sign in (default: multi, any work or school account).
    #[arg(long, value_enum)]
    audience: Option<AudienceArg>,
    /// The tenant the app is registered in: a tenant id or domain (default contoso.test).
    #[arg(long, value_name = "TENANT")]
    home_tenant: Option<String>,
    /// A redirect URI, optionally with its platform: `URI=spa` (default
    /// platform mobile-desktop). Repeatable; any replaces the default
    /// `http://localhost`.
    #[arg(long = "redirect", value_name = "URI[=PLATFORM]", value_parser = parse_redirect)]
    redirects: Vec<RedirectUri>,
    /// Turn "Allow public client flows" off (the device code flow then needs a secret).
    #[arg(long)]
    no_public_client_flows: bool,
    /// Sign the app's id_tokens with a key published only at `jwks_uri?appid=CLIENT_ID`.
    #[arg(long)]
    custom_signing_key: bool,
    /// How refresh tokens rotate (default entra: old ones stay valid).
    #[arg(long, value_enum)]
    rotation: Option<RotationArg>,
    /// Read the client secret (needed by web redirect URIs) from standard input.
    #[arg(long)]
    secret_stdin: bool,
}

/// `--audience`: the registration's supported account types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AudienceArg {
    /// Accounts of the home tenant only.
    Single,
    /// Work or school accounts of any tenant.
    Multi,
    /// Work or school accounts of any tenant, and personal Microsoft accounts.
    #[value(alias = "multi_and_personal")]
    MultiAndPersonal,
    /// Personal Microsoft accounts only.
    Personal,
}

impl From<AudienceArg> for Audience {
    fn from(arg: AudienceArg) -> Self {
        match arg {
            AudienceArg::Single => Self::Single,
            AudienceArg::Multi => Self::Multi,
            AudienceArg::MultiAndPersonal => Self::MultiAndPersonal,
            AudienceArg::Personal => Self::Personal,
        }
    }
}

/// The platform after `=` in `--redirect URI=PLATFORM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PlatformArg {
    /// Mobile and desktop applications: a public client.
    #[value(alias = "mobile_desktop")]
    MobileDesktop,
    /// Single-page application: redeemed cross-origin.
    Spa,
    /// Web: a confidential client with a secret.
    Web,
}

impl From<PlatformArg> for Platform {
    fn from(arg: PlatformArg) -> Self {
        match arg {
            PlatformArg::MobileDesktop => Self::MobileDesktop,
            PlatformArg::Spa => Self::Spa,
            PlatformArg::Web => Self::Web,
        }
    }
}

/// `--rotation`: how refresh tokens rotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RotationArg {
    /// Entra's: every refresh returns a new token and older ones stay valid.
    Entra,
    /// A refresh token works once; reusing one revokes the grant.
    Strict,
}

impl From<RotationArg> for Rotation {
    fn from(arg: RotationArg) -> Self {
        match arg {
            RotationArg::Entra => Self::Entra,
            RotationArg::Strict => Self::Strict,
        }
    }
}

/// Reads `URI` or `URI=PLATFORM`. Only a known platform name after the last
/// `=` counts as one, so a query string (`?a=b`) stays part of the URI.
fn parse_redirect(text: &str) -> Result<RedirectUri, String> {
    let (uri, platform) = match text.rsplit_once('=') {
        Some((uri, name)) => match PlatformArg::from_str(name, true) {
            Ok(platform) => (uri, platform),
            Err(_) => (text, PlatformArg::MobileDesktop),
        },
        None => (text, PlatformArg::MobileDesktop),
    };
    if uri.is_empty() {
        return Err("give a redirect URI before the platform, e.g. http://localhost=spa".into());
    }
    Ok(RedirectUri {
        uri: uri.to_owned(),
        platform: platform.into(),
    })
}

/// Runs `reconnect sim app …`.
pub async fn app(action: AppAction, sim: &ControlClient) -> anyhow::Result<()> {
    match action {
        AppAction::Add(args) => {
            let registration = registration(args)?;
            let saved = sim
                .register_app(&registration)
                .await
                .with_context(|| format!("could not register {}", registration.client_id))?;
            print_json(&saved)
        }
        AppAction::List { json } => {
            let list = sim.apps().await.context("could not list the apps")?;
            if json {
                return print_json(&list);
            }
            print_text(&table(&list))
        }
        AppAction::Remove { client_id } => match sim.remove_app(&client_id).await {
            Ok(()) => print_text(&format!("Removed the registration of {client_id}.\n")),
            Err(ControlError::Refused { status, .. }) if status.as_u16() == 404 => bail!(
                "no app {client_id} is registered there; `reconnect sim app list` shows the ones that are"
            ),
            Err(err) => Err(err).with_context(|| format!("could not remove {client_id}")),
        },
    }
}

/// The registration `add` sends: `AppRegistration::desktop` with the flags applied.
fn registration(args: AddArgs) -> anyhow::Result<AppRegistration> {
    let mut app = AppRegistration::desktop(&args.client_id);
    if let Some(audience) = args.audience {
        app.sign_in_audience = audience.into();
    }
    if let Some(home) = args.home_tenant {
        app.home_tenant = home;
    }
    if !args.redirects.is_empty() {
        app.redirect_uris = args.redirects;
    }
    app.public_client_flows = !args.no_public_client_flows;
    app.custom_signing_key = args.custom_signing_key;
    if let Some(rotation) = args.rotation {
        app.rotation = rotation.into();
    }
    if args.secret_stdin {
        app.client_secret = Some(read_secret()?);
    }
    let web = app
        .redirect_uris
        .iter()
        .any(|r| r.platform == Platform::Web);
    if web && app.client_secret.is_none() {
        bail!(
            "a web redirect URI is redeemed with a client secret: add --secret-stdin and pipe the secret in"
        );
    }
    app.check()
        .with_context(|| format!("{} cannot be registered", app.client_id))?;
    Ok(app)
}

/// The client secret, from a pipe (never from the command line, where other
/// users and the shell history would see it).
fn read_secret() -> anyhow::Result<String> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        bail!(
            "--secret-stdin reads the secret from a pipe, e.g. `printf '%s' \"$SECRET\" | reconnect sim app add …`"
        );
    }
    let mut input = String::new();
    stdin
        .read_to_string(&mut input)
        .context("could not read the client secret from standard input")?;
    let secret = input.trim_end_matches(['\r', '\n']);
    if secret.trim().is_empty() {
        bail!("no client secret on standard input: pipe the secret in with --secret-stdin");
    }
    if secret.contains(['\r', '\n']) {
        bail!("standard input must hold one client secret on one line");
    }
    Ok(secret.to_owned())
}

/// The readable listing: one row per app, then whether unknown apps are refused.
fn table(list: &AppList) -> String {
    let mut out = String::new();
    if list.apps.is_empty() {
        out.push_str("No apps are registered (add one with `reconnect sim app add CLIENT_ID`).\n");
    } else {
        let rows: Vec<[String; 6]> = list.apps.iter().map(row).collect();
        let header = [
            "CLIENT ID",
            "AUDIENCE",
            "HOME TENANT",
            "FLAGS",
            "ROTATION",
            "REDIRECT URIS",
        ]
        .map(str::to_owned);
        let mut widths = [0usize; 6];
        for cells in std::iter::once(&header).chain(&rows) {
            for (width, cell) in widths.iter_mut().zip(cells) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for cells in std::iter::once(&header).chain(&rows) {
            let line: Vec<String> = cells
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
    }
    out.push_str(if list.strict {
        "Strict: apps not listed here are refused (AADSTS700016).\n"
    } else {
        "Lenient: apps not listed here are answered as if registered for any account and redirect URI.\n"
    });
    out
}

/// One row of the table.
fn row(app: &AppRegistration) -> [String; 6] {
    let audience = match app.sign_in_audience {
        Audience::Single => "single",
        Audience::Multi => "multi",
        Audience::MultiAndPersonal => "multi-and-personal",
        Audience::Personal => "personal",
    };
    let mut flags = Vec::new();
    if app.public_client_flows {
        flags.push("public-client-flows");
    }
    if app.custom_signing_key {
        flags.push("custom-signing-key");
    }
    let rotation = match app.rotation {
        Rotation::Entra => "entra",
        Rotation::Strict => "strict",
    };
    let redirects: Vec<String> = app
        .redirect_uris
        .iter()
        .map(|r| {
            let platform = match r.platform {
                Platform::MobileDesktop => "mobile-desktop",
                Platform::Spa => "spa",
                Platform::Web => "web",
            };
            format!("{} ({platform})", r.uri)
        })
        .collect();
    let or_dash = |text: String| {
        if text.is_empty() {
            "-".to_owned()
        } else {
            text
        }
    };
    [
        app.client_id.clone(),
        audience.to_owned(),
        app.home_tenant.clone(),
        or_dash(flags.join(",")),
        rotation.to_owned(),
        or_dash(redirects.join(", ")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(subcommand)]
        action: AppAction,
    }

    fn add(args: &[&str]) -> anyhow::Result<AppRegistration> {
        let argv = ["app", "add"].iter().chain(args);
        match Cli::try_parse_from(argv)?.action {
            AppAction::Add(args) => registration(args),
            other => bail!("parsed as {other:?}"),
        }
    }

    #[test]
    fn the_defaults_are_the_desktop_registration() {
        let app = add(&["c1"]).expect("parses");
        assert_eq!(app, AppRegistration::desktop("c1"));
    }

    #[test]
    fn flags_change_the_registration() {
        let app = add(&[
            "c2",
            "--audience",
            "multi-and-personal",
            "--home-tenant",
            "fabrikam.test",
            "--redirect",
            "http://localhost/app=spa",
            "--redirect",
            "https://app.test/cb?x=1",
            "--no-public-client-flows",
            "--custom-signing-key",
            "--rotation",
            "strict",
        ])
        .expect("parses");
        assert_eq!(app.sign_in_audience, Audience::MultiAndPersonal);
        assert_eq!(app.home_tenant, "fabrikam.test");
        assert_eq!(
            app.redirect_uris,
            vec![
                RedirectUri {
                    uri: "http://localhost/app".into(),
                    platform: Platform::Spa
                },
                RedirectUri {
                    uri: "https://app.test/cb?x=1".into(),
                    platform: Platform::MobileDesktop
                },
            ]
        );
        assert!(!app.public_client_flows && app.custom_signing_key);
        assert_eq!(app.rotation, Rotation::Strict);
    }

    #[test]
    fn bad_registrations_say_what_to_do() {
        let web = add(&["c3", "--redirect", "https://app.test/cb=web"]).expect_err("no secret");
        assert!(web.to_string().contains("--secret-stdin"), "{web}");
        let http = add(&["c4", "--redirect", "http://app.test/cb"]).expect_err("plain http");
        assert!(format!("{http:#}").contains("https"), "{http:#}");
        assert!(add(&["c5", "--audience", "everyone"]).is_err());
        assert!(add(&["c6", "--redirect", "=spa"]).is_err());
        assert!(add(&["c7", "--secret", "x"]).is_err(), "no secret on argv");
    }

    #[test]
    fn the_table_shows_each_app_and_the_mode() {
        let mut spa = AppRegistration::desktop("spa-app");
        spa.redirect_uris[0].platform = Platform::Spa;
        spa.rotation = Rotation::Strict;
        spa.public_client_flows = false;
        let text = table(&AppList {
            apps: vec![AppRegistration::desktop("desk"), spa],
            strict: true,
        });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].starts_with("CLIENT ID"), "{text}");
        assert!(
            lines[1].contains("public-client-flows") && lines[1].contains("(mobile-desktop)"),
            "{text}"
        );
        assert!(
            lines[2].contains("strict") && lines[2].contains("http://localhost (spa)"),
            "{text}"
        );
        assert!(lines[3].starts_with("Strict"), "{text}");
        let empty = table(&AppList {
            apps: Vec::new(),
            strict: false,
        });
        assert!(empty.contains("reconnect sim app add") && empty.contains("Lenient"));
    }
}
