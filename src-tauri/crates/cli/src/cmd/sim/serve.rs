//! `reconnect sim serve`: run the simulator on loopback until Ctrl-C or
//! SIGTERM, after printing one JSON line with its URLs.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use reconnect_sim::{AppRegistration, SimConfig, Simulator};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
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
    /// Finish /authorize for this user with no page (MFA and consent count as
    /// done), and approve every new device code for them.
    #[arg(long, value_name = "UPN")]
    auto_approve: Option<String>,
    /// Register this client id as a desktop app (any work or school account,
    /// `http://localhost` redirects, public client flows). Repeatable; for
    /// other registrations use `reconnect sim app add`.
    #[arg(long = "app", value_name = "CLIENT_ID")]
    apps: Vec<String>,
    /// Answer apps nobody registered as if registered for any account and
    /// redirect URI, instead of refusing them (AADSTS700016) as Entra does.
    #[arg(long)]
    lenient: bool,
}

/// The first line `serve` prints, keys in contract order.
#[derive(serde::Serialize)]
struct ServeLine<'a> {
    http_url: &'a str,
    https_url: Option<&'a str>,
    ca_pem: Option<&'a str>,
}

/// Serves until stopped.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
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
        apps: desktop_apps(&args.apps)?,
        lenient: args.lenient,
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

/// The `--app` registrations, each checked before the simulator starts.
fn desktop_apps(client_ids: &[String]) -> anyhow::Result<Vec<AppRegistration>> {
    client_ids
        .iter()
        .map(|id| {
            let app = AppRegistration::desktop(id);
            app.check().with_context(|| {
                format!("--app {id}: not a client id the simulator can register")
            })?;
            Ok(app)
        })
        .collect()
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
