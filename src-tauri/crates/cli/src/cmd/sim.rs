//! `reconnect sim`: run the local simulator of Microsoft's identity endpoints
//! (`serve`) and control a running one over its `/_sim` API (`user`,
//! `revoke`, `fault`, `outage`, `clock`, `log`; `--url` or
//! `RECONNECT_SIM_URL` says which simulator).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use reconnect_sim::{SimConfig, Simulator};

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
    #[arg(value_parser = ["503", "429", "html500", "slow", "drop"])]
    kind: String,
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
        SimCommand::User { action, target } => user(action, &target).await,
        SimCommand::Revoke { upn, target } => {
            let path = format!("/_sim/users/{}/revoke", segment(&upn));
            print_json(
                &call(
                    &target,
                    reqwest::Method::POST,
                    &path,
                    Some(serde_json::json!({})),
                )
                .await?,
            )
        }
        SimCommand::Fault(args) => fault(args).await,
        SimCommand::Outage(args) => {
            let body = serde_json::json!({
                "outage": args.kind, "count": args.count,
                "retry_after": args.retry_after, "delay_ms": args.delay_ms,
            });
            print_json(
                &call(
                    &args.target,
                    reqwest::Method::POST,
                    "/_sim/faults",
                    Some(body),
                )
                .await?,
            )
        }
        SimCommand::Clock { advance, target } => {
            let answer = match advance {
                Some(text) => {
                    let seconds = parse_duration(&text)?;
                    let body = serde_json::json!({ "advance_seconds": seconds });
                    call(&target, reqwest::Method::POST, "/_sim/clock", Some(body)).await?
                }
                None => call(&target, reqwest::Method::GET, "/_sim/clock", None).await?,
            };
            print_json(&answer)
        }
        SimCommand::Log {
            json,
            clear,
            target,
        } => {
            if clear {
                call(&target, reqwest::Method::DELETE, "/_sim/log", None).await?;
                return Ok(());
            }
            let answer = call(&target, reqwest::Method::GET, "/_sim/log", None).await?;
            if json {
                return print_json(&answer);
            }
            for entry in answer["requests"].as_array().into_iter().flatten() {
                println!("{}", log_line(entry));
            }
            Ok(())
        }
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

async fn user(action: UserAction, target: &Target) -> anyhow::Result<()> {
    let answer = match action {
        UserAction::List => call(target, reqwest::Method::GET, "/_sim/users", None).await?,
        UserAction::Add { upn, password } => {
            let body = serde_json::json!({ "upn": upn, "password": password });
            call(target, reqwest::Method::POST, "/_sim/users", Some(body)).await?
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
            let mut body = serde_json::Map::new();
            for (key, value) in [
                ("mfa_required", mfa_required.map(serde_json::Value::from)),
                ("disabled", disabled.map(serde_json::Value::from)),
                ("ca_blocked", ca_blocked.map(serde_json::Value::from)),
                (
                    "consent_revoked",
                    consent_revoked.map(serde_json::Value::from),
                ),
                (
                    "sign_in_frequency_seconds",
                    sign_in_frequency.map(serde_json::Value::from),
                ),
                (
                    "idle_limit_seconds",
                    idle_limit.map(serde_json::Value::from),
                ),
            ] {
                if let Some(value) = value {
                    body.insert(key.to_owned(), value);
                }
            }
            if body.is_empty() {
                bail!(
                    "nothing to change: give at least one of --mfa-required, --disabled, --ca-blocked, --consent-revoked, --sign-in-frequency, --idle-limit"
                );
            }
            let path = format!("/_sim/users/{}/state", segment(&upn));
            call(
                target,
                reqwest::Method::POST,
                &path,
                Some(serde_json::Value::Object(body)),
            )
            .await?
        }
    };
    print_json(&answer)
}

async fn fault(args: FaultArgs) -> anyhow::Result<()> {
    let answer = match args.what.as_str() {
        "list" => call(&args.target, reqwest::Method::GET, "/_sim/faults", None).await?,
        "clear" => {
            call(&args.target, reqwest::Method::DELETE, "/_sim/faults", None).await?;
            return Ok(());
        }
        other => {
            let digits = other
                .trim()
                .trim_start_matches("AADSTS")
                .trim_start_matches("aadsts");
            let code: u32 = digits.parse().with_context(|| {
                format!("`{other}` is not an AADSTS code (e.g. 700082), `list` or `clear`")
            })?;
            let body = serde_json::json!({
                "code": code, "upn": args.upn, "count": args.count,
                "error": args.error, "suberror": args.suberror, "status": args.status,
            });
            call(
                &args.target,
                reqwest::Method::POST,
                "/_sim/faults",
                Some(body),
            )
            .await?
        }
    };
    print_json(&answer)
}

/// Percent-encodes one path segment (UPNs contain `@`, which is fine, but be strict).
fn segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
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

fn base_url(target: &Target) -> anyhow::Result<String> {
    let url = target
        .url
        .as_deref()
        .context("which simulator? pass --url http://127.0.0.1:PORT or set RECONNECT_SIM_URL (see the first line `reconnect sim serve` prints)")?;
    let parsed = url::Url::parse(url).with_context(|| format!("`{url}` is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("`{url}` is not an http(s) URL");
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Calls the control API; non-2xx answers become errors carrying the API's message.
async fn call(
    target: &Target,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> anyhow::Result<serde_json::Value> {
    let base = base_url(target)?;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .context("could not build the HTTP client")?;
    let mut request = client.request(method, format!("{base}{path}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("could not reach the simulator at {base}"))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .context("could not read the simulator's answer")?;
    let json: serde_json::Value = if text.trim().is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).with_context(|| {
            format!("the simulator answered {status} with something that is not JSON")
        })?
    };
    if !status.is_success() {
        let message = json["error"].as_str().unwrap_or("no details");
        bail!("the simulator refused ({status}): {message}");
    }
    Ok(json)
}

fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    if value.is_null() {
        return Ok(());
    }
    println!(
        "{}",
        serde_json::to_string_pretty(value).context("could not format JSON")?
    );
    Ok(())
}

/// One readable line per logged request.
fn log_line(entry: &serde_json::Value) -> String {
    let text = |k: &str| entry[k].as_str().unwrap_or("-").to_owned();
    let code = entry["code"]
        .as_u64()
        .map_or_else(|| "-".to_owned(), |c| format!("AADSTS{c}"));
    let mut line = format!(
        "{} {:<9} {:<18} {:>3} {:<14} user={} client={}",
        text("time"),
        text("endpoint"),
        text("grant_type"),
        entry["status"].as_u64().unwrap_or(0),
        code,
        text("user"),
        text("client_id"),
    );
    if entry["claims_passed"].as_bool() == Some(true) {
        line.push_str(" claims");
    }
    if let Some(fault) = entry["fault"].as_str() {
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
        assert!(base_url(&Target { url: None }).is_err());
        assert!(
            base_url(&Target {
                url: Some("ftp://x".into())
            })
            .is_err()
        );
        assert_eq!(
            base_url(&Target {
                url: Some("http://127.0.0.1:9/".into())
            })
            .ok()
            .as_deref(),
            Some("http://127.0.0.1:9")
        );
    }
}
