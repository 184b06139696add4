//! `reconnect token` and `reconnect refresh`.
//!
//! `reconnect token NAME` prints a valid access token on stdout and nothing
//! else, refreshing first if it expires within `--min-ttl` (five minutes by
//! default); `--format` prints it in the shape a tool expects ([`format`]).
//! On failure the decoded reason goes to stderr and the exit code says what
//! kind of failure it was (see [`super::exit`]), whatever the format.
//!
//! `--claims CHALLENGE` answers a resource's claims challenge (the `claims`
//! of its `WWW-Authenticate: … error="insufficient_claims"`): a new token is
//! fetched with the challenge, whatever the held one's lifetime. If the
//! provider wants a sign-in first, the account becomes "reconnect needed"
//! and the next `reconnect signin` carries the challenge.

use std::io::Write;
use std::process::ExitCode;

use std::time::Duration;

use reconnect_core::claims::Challenge;
use reconnect_engine::{Engine, EngineError, FailureKind, IssuedToken, TokenRequest};
use reconnect_store::{Account, Home};

use super::exit;

pub mod format;

use format::Format;

/// Arguments of `reconnect token`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// The account's name.
    pub name: String,
    /// Refresh first unless the token stays valid at least this long
    /// (`90s`, `10m`, `1h`, or plain seconds).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub min_ttl: Duration,
    /// What to print: the bare token, or the shape a tool expects.
    #[arg(long, value_enum, default_value_t = Format::Raw)]
    pub format: Format,
    /// The mailbox user for `--format xoauth2` (default: the account's user).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// A resource's claims challenge (the `claims` value of its
    /// `WWW-Authenticate: … error="insufficient_claims"` header, base64 or
    /// JSON): fetch a new token that answers it, whatever `--min-ttl` says.
    #[arg(long, value_name = "CHALLENGE")]
    pub claims: Option<String>,
}

/// Parses `--min-ttl`: a humantime duration (`10m`, `1h 30m`) or seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("{e} (write it as 90s, 10m, 1h or a number of seconds)"))
}

/// Runs `reconnect token`.
pub fn token(args: TokenArgs) -> ExitCode {
    if args.user.is_some() && args.format != Format::Xoauth2 {
        eprintln!("reconnect: --user is only for --format xoauth2");
        return ExitCode::from(exit::OTHER);
    }
    // Read before anything runs: a challenge that cannot be sent is the
    // caller's mistake (exit 1), not the account's.
    let challenge = match args.claims.as_deref().map(Challenge::parse).transpose() {
        Ok(challenge) => challenge,
        Err(err) => {
            eprintln!("reconnect: --claims: {err}");
            return ExitCode::from(exit::OTHER);
        }
    };
    let request = TokenRequest {
        min_ttl: Some(args.min_ttl),
    };
    let (issued, account) = match issue(args.name.clone(), request, challenge) {
        Ok(found) => found,
        Err(err) => return failure(&err),
    };
    if issued.unsaved_credentials {
        warn_unsaved();
    }
    let shape = format::Issued {
        token: issued.access_token.expose(),
        expires_on: issued.expires_at,
        scope: &issued.scope,
        account: &account.name,
        tenant: account
            .identity
            .tid
            .as_deref()
            .or(account.tenant.as_deref()),
        user: args.user.as_deref().or(account.identity.upn.as_deref()),
    };
    let exec_info = std::env::var("KUBERNETES_EXEC_INFO").ok();
    let text = match format::render(
        args.format,
        &shape,
        format::exec_api_version(exec_info.as_deref()),
    ) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("reconnect: {err}");
            return ExitCode::from(exit::OTHER);
        }
    };
    print_secret(&text)
}

/// A token for the account `name` (one that answers `challenge`, when
/// given), and the account it belongs to.
fn issue(
    name: String,
    request: TokenRequest,
    challenge: Option<Challenge>,
) -> Result<(IssuedToken, Account), EngineError> {
    run(async move {
        let engine = open_engine()?;
        let issued = match &challenge {
            Some(challenge) => engine.token_for_challenge(&name, challenge).await?,
            None => engine.token(&name, request).await?,
        };
        let account = engine.store().account(&name)?;
        Ok((issued, account))
    })
}

/// Writes `text` and a newline to stdout (never anywhere else).
pub(crate) fn print_secret(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
        return ExitCode::from(exit::OTHER);
    }
    ExitCode::SUCCESS
}

/// Arguments of `reconnect refresh`.
#[derive(Debug, clap::Args)]
pub struct RefreshArgs {
    /// The account's name.
    pub name: String,
    /// Also try an account marked "reconnect needed", "needs admin" or
    /// "app misconfigured" (the same failing request is still never repeated
    /// within 60 seconds).
    #[arg(long)]
    pub force: bool,
}

/// Runs `reconnect refresh`.
pub fn refresh(args: RefreshArgs) -> ExitCode {
    let name = args.name.clone();
    let result = run(async move {
        let engine = open_engine()?;
        engine.refresh(&args.name, args.force).await
    });
    match result {
        Ok(outcome) => {
            if outcome.unsaved_credentials {
                warn_unsaved();
            }
            let until = outcome
                .access_expires_at
                .map(|t| format!("; access token valid until {}", super::status::when(t)))
                .unwrap_or_default();
            let how = if outcome.sent {
                "refreshed"
            } else {
                "already refreshed by another Reconnect process"
            };
            println!("{name}: {how}{until}");
            ExitCode::SUCCESS
        }
        Err(err) => failure(&err),
    }
}

/// Opens the engine on the profile selected by `RECONNECT_HOME`.
pub(crate) fn open_engine() -> Result<Engine, EngineError> {
    Engine::open(Home::resolve()?)
}

/// Runs a future on a small runtime; a runtime that cannot start is an error.
pub(crate) fn run<T>(
    future: impl std::future::Future<Output = Result<T, EngineError>>,
) -> Result<T, EngineError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(EngineError::Runtime)?;
    runtime.block_on(future)
}

pub(crate) fn warn_unsaved() {
    eprintln!(
        "reconnect: warning: unsaved credentials — the keychain refused the new tokens; \
         they were used but not saved (the previous refresh token still works)"
    );
}

/// Prints the decoded reason on stderr and picks the exit code.
pub(crate) fn failure(err: &EngineError) -> ExitCode {
    eprintln!("reconnect: {err}");
    if let Some(f) = err.failure() {
        let details = f.explain();
        if !details.is_empty() {
            eprintln!("{details}");
        }
    } else {
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            eprintln!("  caused by: {cause}");
            source = cause.source();
        }
    }
    ExitCode::from(match err.kind() {
        FailureKind::ReconnectNeeded => exit::RECONNECT_NEEDED,
        FailureKind::NeedsAdmin => exit::NEEDS_ADMIN,
        FailureKind::Transient => exit::TRANSIENT,
        FailureKind::Other => exit::OTHER,
    })
}
