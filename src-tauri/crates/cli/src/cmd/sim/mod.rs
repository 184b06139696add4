//! `reconnect sim`: run the local simulator of Microsoft's identity endpoints
//! (`serve`) and control a running one over its `/_sim` API (`app`, `user`,
//! `revoke`, `fault`, `outage`, `clock`, `log`, `device`, `policy`; `--url`
//! or `RECONNECT_SIM_URL` says which simulator).

mod app;
mod device;
mod log;
mod serve;

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use reconnect_sim::{ControlClient, FaultRequest, NewUser, Outage, UserStatePatch};

use super::exit;
use app::AppAction;
use device::{DeviceAction, PolicyArgs};
use serve::ServeArgs;

/// Arguments of `reconnect sim`.
#[derive(Debug, clap::Args)]
pub struct SimArgs {
    #[command(subcommand)]
    command: SimCommand,
}

/// Where a running simulator is.
#[derive(Debug, clap::Args)]
struct Target {
    /// Base URL of the running simulator, e.g. http://127.0.0.1:8400.
    #[arg(long, env = "RECONNECT_SIM_URL", global = true)]
    url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum SimCommand {
    /// Serve the simulator until stopped; prints one JSON line with its URLs first.
    Serve(ServeArgs),
    /// Register, list or remove apps (a strict simulator refuses apps it does not know).
    App {
        #[command(subcommand)]
        action: AppAction,
        #[command(flatten)]
        target: Target,
    },
    /// List, add or change simulated users.
    User {
        #[command(subcommand)]
        action: UserAction,
        #[command(flatten)]
        target: Target,
    },
    /// Password reset / revoke sessions: the user's earlier tokens fail with 50173.
    Revoke {
        /// The user.
        upn: String,
        #[command(flatten)]
        target: Target,
    },
    /// Answer an AADSTS code for the next token requests; or `list` / `clear` queued faults.
    Fault(FaultArgs),
    /// Simulate an outage for the next token requests: 503, 429, html500, slow or drop.
    Outage(OutageArgs),
    /// Show the virtual clock, or move it forward.
    Clock {
        /// How far to move: seconds, or with a unit (`90s`, `15m`, `2h`, `91d`).
        #[arg(long, value_name = "DURATION")]
        advance: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Show the request log (or clear it).
    Log {
        /// Print the API's JSON instead of one line per request.
        #[arg(long)]
        json: bool,
        /// Empty the log.
        #[arg(long)]
        clear: bool,
        #[command(flatten)]
        target: Target,
    },
    /// Device code sign-ins: list the codes, approve one for a user, or decline one.
    Device {
        #[command(subcommand)]
        action: DeviceAction,
        #[command(flatten)]
        target: Target,
    },
    /// Show the tenant's device-code policy, or block or allow the device code flow.
    Policy(PolicyArgs),
}

#[derive(Debug, Subcommand)]
enum UserAction {
    /// List users and their state.
    List,
    /// Create a user.
    Add {
        /// The user principal name (name@domain).
        upn: String,
        /// Require this password on the sign-in page (default: any non-empty password).
        #[arg(long)]
        password: Option<String>,
    },
    /// Change a user's state.
    Set {
        /// The user.
        upn: String,
        /// Require MFA (refresh tokens without MFA get 50076).
        #[arg(long)]
        mfa_required: Option<bool>,
        /// Disable the account (50057).
        #[arg(long)]
        disabled: Option<bool>,
        /// Block by Conditional Access (53003).
        #[arg(long)]
        ca_blocked: Option<bool>,
        /// Revoke consent (65001).
        #[arg(long)]
        consent_revoked: Option<bool>,
        /// Conditional Access sign-in frequency in seconds (70043); 0 removes it.
        #[arg(long, value_name = "SECONDS")]
        sign_in_frequency: Option<i64>,
        /// Refresh-token idle limit in seconds (700082).
        #[arg(long, value_name = "SECONDS")]
        idle_limit: Option<i64>,
    },
}

#[derive(Debug, clap::Args)]
struct FaultArgs {
    /// An AADSTS code (`700082` or `AADSTS700082`), `list` or `clear`.
    what: String,
    /// Only for requests concerning this user.
    #[arg(long)]
    upn: Option<String>,
    /// How many requests (default 1).
    #[arg(long)]
    count: Option<u32>,
    /// Override the OAuth `error`.
    #[arg(long)]
    error: Option<String>,
    /// Override the `suberror`.
    #[arg(long)]
    suberror: Option<String>,
    /// Override the HTTP status.
    #[arg(long)]
    status: Option<u16>,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, clap::Args)]
struct OutageArgs {
    /// 503, 429, html500, slow or drop.
    #[arg(value_parser = PossibleValuesParser::new(Outage::names()).try_map(|s| s.parse::<Outage>()))]
    kind: Outage,
    /// How many requests (default 1).
    #[arg(long)]
    count: Option<u32>,
    /// Retry-After seconds for 429.
    #[arg(long)]
    retry_after: Option<u64>,
    /// Delay for slow, in milliseconds.
    #[arg(long)]
    delay_ms: Option<u64>,
    #[command(flatten)]
    target: Target,
}

/// Runs `reconnect sim`.
pub fn run(args: SimArgs) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("reconnect sim: could not start the async runtime: {err}");
            return ExitCode::from(exit::OTHER);
        }
    };
    match runtime.block_on(dispatch(args.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("reconnect sim: {err:#}");
            ExitCode::from(exit::OTHER)
        }
    }
}

async fn dispatch(command: SimCommand) -> anyhow::Result<()> {
    match command {
        SimCommand::Serve(args) => serve::serve(args).await,
        SimCommand::App { action, target } => app::app(action, &client(&target)?).await,
        SimCommand::User { action, target } => user(action, &client(&target)?).await,
        SimCommand::Revoke { upn, target } => print_json(&client(&target)?.revoke(&upn).await?),
        SimCommand::Fault(args) => fault(args).await,
        SimCommand::Outage(args) => {
            let request = FaultRequest {
                count: args.count,
                retry_after: args.retry_after,
                delay_ms: args.delay_ms,
                ..FaultRequest::outage(args.kind)
            };
            print_json(&client(&args.target)?.add_fault(&request).await?)
        }
        SimCommand::Clock { advance, target } => {
            let sim = client(&target)?;
            let reading = match advance {
                Some(text) => sim.advance_clock(parse_duration(&text)?).await?,
                None => sim.clock().await?,
            };
            print_json(&reading)
        }
        SimCommand::Log {
            json,
            clear,
            target,
        } => log::log(&client(&target)?, json, clear).await,
        SimCommand::Device { action, target } => device::device(action, &client(&target)?).await,
        SimCommand::Policy(args) => device::policy(args).await,
    }
}

async fn user(action: UserAction, sim: &ControlClient) -> anyhow::Result<()> {
    match action {
        UserAction::List => print_json(&sim.users().await?),
        UserAction::Add { upn, password } => {
            print_json(&sim.add_user(&NewUser { upn, password }).await?)
        }
        UserAction::Set {
            upn,
            mfa_required,
            disabled,
            ca_blocked,
            consent_revoked,
            sign_in_frequency,
            idle_limit,
        } => {
            let patch = UserStatePatch {
                mfa_required,
                disabled,
                ca_blocked,
                consent_revoked,
                sign_in_frequency_seconds: sign_in_frequency,
                idle_limit_seconds: idle_limit,
            };
            if patch.is_empty() {
                bail!(
                    "nothing to change: give at least one of --mfa-required, --disabled, --ca-blocked, --consent-revoked, --sign-in-frequency, --idle-limit"
                );
            }
            print_json(&sim.set_user_state(&upn, &patch).await?)
        }
    }
}

async fn fault(args: FaultArgs) -> anyhow::Result<()> {
    let sim = client(&args.target)?;
    match args.what.as_str() {
        "list" => print_json(&sim.faults().await?),
        "clear" => Ok(sim.clear_faults().await?),
        other => {
            let digits = other
                .trim()
                .trim_start_matches("AADSTS")
                .trim_start_matches("aadsts");
            let code: u32 = digits.parse().with_context(|| {
                format!("`{other}` is not an AADSTS code (e.g. 700082), `list` or `clear`")
            })?;
            let request = FaultRequest {
                upn: args.upn,
                count: args.count,
                error: args.error,
                suberror: args.suberror,
                status: args.status,
                ..FaultRequest::code(code)
            };
            print_json(&sim.add_fault(&request).await?)
        }
    }
}

/// `3600`, `90s`, `15m`, `2h`, `91d` → seconds.
fn parse_duration(text: &str) -> anyhow::Result<i64> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, "s"),
    };
    let value: i64 = number
        .parse()
        .with_context(|| format!("`{text}` is not a duration (try 3600, 90s, 15m, 2h or 91d)"))?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => bail!("`{text}` has an unknown unit: use s, m, h or d"),
    };
    value.checked_mul(factor).context("duration too large")
}

/// The control client of the simulator `target` names.
fn client(target: &Target) -> anyhow::Result<ControlClient> {
    let url = target
        .url
        .as_deref()
        .context("which simulator? pass --url http://127.0.0.1:PORT or set RECONNECT_SIM_URL (see the first line `reconnect sim serve` prints)")?;
    Ok(ControlClient::new(url)?)
}

/// Prints an answer as pretty JSON. It goes through `serde_json::Value`, so
/// keys come out sorted, as they always have.
fn print_json(answer: &impl serde::Serialize) -> anyhow::Result<()> {
    let value = serde_json::to_value(answer).context("could not format JSON")?;
    let text = serde_json::to_string_pretty(&value).context("could not format JSON")?;
    print_text(&format!("{text}\n"))
}

/// Writes `text` to stdout; a closed pipe (`| head`) is an error, not a panic.
fn print_text(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("could not write to standard output")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_units() {
        assert_eq!(parse_duration("3600").ok(), Some(3_600));
        assert_eq!(parse_duration("91d").ok(), Some(91 * 86_400));
        assert_eq!(parse_duration("2h").ok(), Some(7_200));
        assert_eq!(parse_duration("15m").ok(), Some(900));
        assert!(parse_duration("5y").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn a_url_is_required_and_checked() {
        let target = |url: Option<&str>| Target {
            url: url.map(str::to_owned),
        };
        let missing = client(&target(None)).expect_err("no URL");
        assert!(
            missing.to_string().contains("RECONNECT_SIM_URL"),
            "{missing}"
        );
        assert!(client(&target(Some("ftp://x"))).is_err());
        assert!(client(&target(Some("http://192.0.2.1:9"))).is_err());
        assert_eq!(
            client(&target(Some("http://127.0.0.1:9/")))
                .ok()
                .as_ref()
                .map(ControlClient::base_url),
            Some("http://127.0.0.1:9")
        );
    }

    #[test]
    fn outages_parse_from_the_same_names_as_before() {
        use clap::Parser as _;
        #[derive(Debug, clap::Parser)]
        struct Cli {
            #[command(flatten)]
            outage: OutageArgs,
        }
        for name in ["503", "429", "html500", "slow", "drop"] {
            let cli = Cli::try_parse_from(["outage", name]).expect(name);
            assert_eq!(cli.outage.kind.name(), name);
        }
        assert!(Cli::try_parse_from(["outage", "HTML500"]).is_err());
        assert!(Cli::try_parse_from(["outage", "meltdown"]).is_err());
    }
}
