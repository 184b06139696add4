//! `reconnect signin NAME`: interactive sign-in (authorization code + PKCE in
//! the browser, loopback redirect) to connect a new account or reconnect a
//! broken one. Progress and the URL go to stderr; the exit code says how it
//! ended (0 connected, 2/3/4/1 as for `reconnect token`, 5 cancelled or
//! timed out).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use reconnect_oauth::{TokenClient, TokenClientConfig};
use reconnect_signin::{
    CancellationToken, Outcome, Progress, Signin, SigninError, SigninOptions, browser,
};
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
    /// Give up after this many seconds without an answer from the browser.
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
    /// Show the provider's account picker (to sign in with another account).
    #[arg(long)]
    pub select_account: bool,
}

fn code_for(outcome: Outcome) -> u8 {
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

fn report(name: &str, progress: &Progress) {
    match progress {
        Progress::Listening { redirect_uri } => {
            eprintln!("reconnect: waiting for the sign-in of `{name}` on {redirect_uri}");
        }
        Progress::BrowserOpened {
            url,
            browser,
            timeout,
            claims_challenge,
        } => {
            if *claims_challenge {
                eprintln!(
                    "reconnect: passing the claims challenge from the last failure (MFA / Conditional Access)"
                );
            }
            eprintln!(
                "reconnect: opened {browser}. If no sign-in page appears, open this URL yourself:"
            );
            eprintln!("  {url}");
            eprintln!(
                "reconnect: waiting up to {} s; press Ctrl-C to cancel",
                timeout.as_secs()
            );
        }
        Progress::BrowserFailed { url, reason } => {
            eprintln!(
                "reconnect: the browser could not be opened ({reason}); still waiting: open this URL in a browser yourself:"
            );
            eprintln!("  {url}");
        }
        Progress::Exchanging => eprintln!("reconnect: the browser answered; fetching tokens"),
    }
}

fn explain(name: &str, err: &SigninError) {
    eprintln!(
        "reconnect: sign-in of `{name}` did not connect: {}",
        err.chain()
    );
    if let Some(v) = err.verdict() {
        for step in &v.next_steps {
            eprintln!("  - {step}");
        }
        if let Some(id) = &v.correlation_id {
            eprintln!("  Correlation ID: {id}");
        }
    }
}

/// Runs `reconnect signin`.
pub fn run(args: SigninArgs) -> ExitCode {
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

async fn signin(args: SigninArgs) -> ExitCode {
    let profile = match Profile::open() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("reconnect: cannot open the profile: {e}");
            return ExitCode::from(exit::OTHER);
        }
    };
    let client = match client() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("reconnect: {e}");
            return ExitCode::from(exit::OTHER);
        }
    };
    let browser = match browser::choose(args.browser.as_deref()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("reconnect: {e}");
            return ExitCode::from(exit::OTHER);
        }
    };
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
    };
    let name = args.name.clone();
    let progress = move |p: &Progress| report(&name, p);
    let flow = Signin {
        client: &client,
        browser: browser.as_ref(),
        store: &profile,
        progress: &progress,
    };
    match flow.run(&args.name, &options).await {
        Ok(user) => {
            eprintln!(
                "reconnect: `{}` is connected as {}",
                args.name,
                user.describe()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            explain(&args.name, &err);
            ExitCode::from(code_for(err.outcome()))
        }
    }
}
