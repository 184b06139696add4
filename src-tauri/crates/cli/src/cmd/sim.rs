//! `reconnect sim`: run the local simulator of Microsoft's identity endpoints
//! (`serve`) and control a running one over its `/_sim` API (`user`,
//! `revoke`, `fault`, `outage`, `clock`, `log`; `--url` or
//! `RECONNECT_SIM_URL` says which simulator).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use reconnect_sim::{
    ControlClient, FaultRequest, LogEntry, NewUser, Outage, SimConfig, Simulator, UserStatePatch,
};

use super::exit;

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
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address of the HTTP listener (loopback only). With --tls, HTTPS uses a free port on the same IP.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Also serve HTTPS with a freshly generated local CA.
    #[arg(long)]
    tls: bool,
    /// Write the CA certificate (PEM) here (needs --tls).
    #[arg(long, value_name = "PATH", requires = "tls")]
    ca_out: Option<PathBuf>,
    /// Seed this user (repeatable). Default: alice@contoso.test and bob@contoso.test.
    #[arg(long = "user", value_name = "UPN")]
    users: Vec<String>,
    /// Finish /authorize for this user with no page (MFA and consent count as done).
    #[arg(long, value_name = "UPN")]
    auto_approve: Option<String>,
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
        SimCommand::Serve(args) => serve(args).await,
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
        } => log(&client(&target)?, json, clear).await,
    }
}

/// The first line `serve` prints, keys in contract order.
#[derive(serde::Serialize)]
struct ServeLine<'a> {
    http_url: &'a str,
    https_url: Option<&'a str>,
    ca_pem: Option<&'a str>,
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if !args.addr.ip().is_loopback() {
        bail!(
            "refusing to listen on {}: the simulator binds loopback addresses only (127.0.0.1 or ::1)",
            args.addr
        );
    }
    let mut config = SimConfig {
        addr: args.addr,
        tls: args.tls,
        auto_approve: args.auto_approve,
        ..SimConfig::default()
    };
    if !args.users.is_empty() {
        config.users = args.users;
    }
    // Handlers first: a script may send Ctrl-C as soon as it reads the line.
    let stop = stop_requested().context("could not listen for Ctrl-C")?;
    let sim = Simulator::start(config)
        .await
        .context("could not start the simulator")?;
    if let (Some(path), Some(pem)) = (&args.ca_out, &sim.ca_pem) {
        std::fs::write(path, pem)
            .with_context(|| format!("could not write the CA certificate to {}", path.display()))?;
    }
    let line = serde_json::to_string(&ServeLine {
        http_url: &sim.http_url,
        https_url: sim.https_url.as_deref(),
        ca_pem: sim.ca_pem.as_deref(),
    })
    .context("could not format the start-up line")?;
    {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}").context("could not write to stdout")?;
        stdout.flush().context("could not write to stdout")?;
    }
    stop.await;
    sim.shutdown().await;
    Ok(())
}

/// Resolves on Ctrl-C (or SIGTERM). The handlers are in place when this
/// returns, so a signal sent right after the start-up line is not lost (nor
/// does it kill the process before it can shut down cleanly).
#[cfg(unix)]
fn stop_requested() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn stop_requested() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
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

async fn log(sim: &ControlClient, json: bool, clear: bool) -> anyhow::Result<()> {
    if clear {
        return Ok(sim.clear_log().await?);
    }
    let page = sim.log().await?;
    if json {
        return print_json(&page);
    }
    for entry in &page.requests {
        println!("{}", log_line(entry));
    }
    Ok(())
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
    println!(
        "{}",
        serde_json::to_string_pretty(&value).context("could not format JSON")?
    );
    Ok(())
}

/// One readable line per logged request.
fn log_line(entry: &LogEntry) -> String {
    let text = |t: &Option<String>| t.clone().unwrap_or_else(|| "-".to_owned());
    let code = entry
        .code
        .map_or_else(|| "-".to_owned(), |c| format!("AADSTS{c}"));
    let mut line = format!(
        "{} {:<9} {:<18} {:>3} {:<14} user={} client={}",
        entry.time,
        entry.endpoint,
        text(&entry.grant_type),
        entry.status,
        code,
        text(&entry.user),
        text(&entry.client_id),
    );
    if entry.claims_passed {
        line.push_str(" claims");
    }
    if let Some(fault) = &entry.fault {
        line.push_str(&format!(" fault={fault}"));
    }
    line
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

    #[test]
    fn log_lines_keep_their_shape() {
        let mut entry = LogEntry::request("token", "POST");
        entry.time = "2026-01-02T03:04:05Z".into();
        entry.grant_type = Some("refresh_token".into());
        entry.status = 400;
        entry.code = Some(700_082);
        entry.user = Some("alice@contoso.test".into());
        entry.claims_passed = true;
        entry.fault = Some("slow".into());
        assert_eq!(
            log_line(&entry),
            "2026-01-02T03:04:05Z token     refresh_token      400 AADSTS700082   user=alice@contoso.test client=- claims fault=slow"
        );
    }
}
