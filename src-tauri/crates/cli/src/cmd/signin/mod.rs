//! `reconnect signin NAME`: interactive sign-in to connect a new account or
//! reconnect a broken one, in one of three ways:
//!
//! - the browser on this machine (authorization code + PKCE, loopback
//!   redirect; `--browser CMD` names one);
//! - `--no-browser`: the URL is printed, the user signs in on any machine
//!   and pastes back the address the browser ended on (with `--port N`, an
//!   SSH tunnel to the loopback listener works too);
//! - `--device-code`: a code entered on any other device (RFC 8628);
//!   `--json` prints it as one JSON object on stdout for scripts.
//!
//! Without a display (Linux with neither `DISPLAY` nor `WAYLAND_DISPLAY`)
//! and no browser named, it opens nothing: it explains the other ways and
//! exits 1. Progress goes to stderr; the exit code says how it ended
//! (0 connected, 2/3/4/1 as for `reconnect token`, 5 cancelled or timed out).

mod text;
mod ways;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use reconnect_oauth::{TokenClient, TokenClientConfig};
use reconnect_signin::{CancellationToken, Outcome, SigninOptions, browser};
use reconnect_store::Profile;

use super::exit;

/// Arguments of `reconnect signin`.
#[derive(Debug, clap::Args)]
pub struct SigninArgs {
    /// The account to connect or reconnect (see `reconnect accounts`).
    pub name: String,
    /// Browser command to run with the sign-in URL as its last argument,
    /// instead of the system browser.
    #[arg(long, value_name = "CMD", env = "RECONNECT_BROWSER")]
    pub browser: Option<String>,
    /// Sign in on any other device by entering a code there (device code flow).
    #[arg(long, conflicts_with_all = ["no_browser", "select_account", "port"])]
    pub device_code: bool,
    /// Open no browser: print the sign-in URL, then read the address the
    /// browser ended on (pasted) from standard input.
    #[arg(long)]
    pub no_browser: bool,
    /// With --device-code: print the code as one JSON object on stdout.
    #[arg(long, requires = "device_code")]
    pub json: bool,
    /// Listen for the browser's redirect on this loopback port (for an SSH
    /// tunnel: ssh -L PORT:localhost:PORT).
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// Give up after this many seconds without an answer from the browser
    /// (a device code ends when the code expires).
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
    /// Show the provider's account picker (to sign in with another account).
    #[arg(long)]
    pub select_account: bool,
}

/// The way this run signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    Browser,
    Paste,
    DeviceCode,
}

impl SigninArgs {
    fn way(&self) -> Way {
        if self.device_code {
            Way::DeviceCode
        } else if self.no_browser {
            Way::Paste
        } else {
            Way::Browser
        }
    }
}

pub(crate) fn code_for(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::ReconnectNeeded => exit::RECONNECT_NEEDED,
        Outcome::NeedsAdmin => exit::NEEDS_ADMIN,
        Outcome::Transient => exit::TRANSIENT,
        Outcome::Cancelled => exit::CANCELLED,
        Outcome::Other => exit::OTHER,
    }
}

/// The token client's clock follows the engine's test offset, so facts
/// written here line up with the simulator's virtual clock in tests.
fn client() -> Result<TokenClient, reconnect_oauth::FetchError> {
    let offset: i64 = std::env::var(reconnect_engine::hooks::CLOCK_OFFSET_ENV)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let system = reconnect_oauth::client::system_clock();
    let client = TokenClient::new(TokenClientConfig::default())?;
    Ok(client.with_clock(Arc::new(move || system().saturating_add(offset))))
}

/// Runs `reconnect signin`.
pub fn run(args: SigninArgs) -> ExitCode {
    let no_browser_named = args.browser.as_deref().is_none_or(|b| b.trim().is_empty());
    if args.way() == Way::Browser && no_browser_named && !browser::system_browser_possible() {
        text::no_display(&args.name);
        return ExitCode::from(exit::OTHER);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("reconnect: cannot start: {e}");
            return ExitCode::from(exit::OTHER);
        }
    };
    runtime.block_on(signin(args))
}

/// What every way needs: the profile, the HTTP client, the cancel handle
/// (Ctrl-C) and the options.
struct Setup {
    profile: Profile,
    client: TokenClient,
    options: SigninOptions,
}

fn setup(args: &SigninArgs) -> Result<Setup, String> {
    let profile = Profile::open().map_err(|e| format!("cannot open the profile: {e}"))?;
    let client = client().map_err(|e| e.to_string())?;
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    let options = SigninOptions {
        timeout: Duration::from_secs(args.timeout),
        select_account: args.select_account,
        cancel,
        port: args.port,
    };
    Ok(Setup {
        profile,
        client,
        options,
    })
}

async fn signin(args: SigninArgs) -> ExitCode {
    let setup = match setup(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("reconnect: {e}");
            return ExitCode::from(exit::OTHER);
        }
    };
    let way = args.way();
    let ended = match way {
        Way::Browser => ways::browser(&args, &setup).await,
        Way::Paste => ways::paste(&args, &setup).await,
        Way::DeviceCode => ways::device(&args, &setup).await,
    };
    match ended {
        Ok(user) => {
            eprintln!(
                "reconnect: `{}` is connected as {}",
                args.name,
                user.describe()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            text::explain(&args.name, &err, way == Way::DeviceCode);
            ExitCode::from(code_for(err.outcome()))
        }
    }
}
