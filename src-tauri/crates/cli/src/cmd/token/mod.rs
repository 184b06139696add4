//! `reconnect token` and `reconnect refresh`.
//!
//! `reconnect token NAME` prints a valid access token on stdout and nothing
//! else, refreshing first if it expires within five minutes. On failure the
//! decoded reason goes to stderr and the exit code says what kind of failure
//! it was (see [`super::exit`]).

use std::io::Write;
use std::process::ExitCode;

use reconnect_engine::{Engine, EngineError, FailureKind};
use reconnect_store::Home;

use super::exit;

/// Arguments of `reconnect token`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// The account's name.
    pub name: String,
}

/// Runs `reconnect token`.
pub fn token(args: TokenArgs) -> ExitCode {
    let result = run(async move {
        let engine = open_engine()?;
        let token = engine.access_token(&args.name).await?;
        let unsaved = engine.has_unsaved_credentials(&args.name).await;
        Ok((token, unsaved))
    });
    match result {
        Ok((token, unsaved)) => {
            if unsaved {
                warn_unsaved();
            }
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{}", token.expose())
                .and_then(|()| out.flush())
                .is_err()
            {
                return ExitCode::from(exit::OTHER);
            }
            ExitCode::SUCCESS
        }
        Err(err) => failure(&err),
    }
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

fn warn_unsaved() {
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
