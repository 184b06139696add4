//! `reconnect keep`: keeps a profile's connections alive without the desktop
//! app. It runs the engine's scheduler in the foreground, as the app does:
//! keep-alive refreshes, retries when due, forecast changes, spike checks,
//! and overdue work at once after sleep/wake or a clock jump; it logs one
//! line per event on stderr, shows desktop notifications where a
//! notification service is on the session bus, and runs the profile's
//! `on_event` program ([`reconnect_engine::on_event`]).
//!
//! One keeper per data directory: `keep` takes the keeper lock, so a second
//! `keep` (or `keep` beside the app keeping the same profile) refuses, names
//! the process that keeps it and exits 5. `token`, `status` and the other
//! commands work beside a keeper.
//!
//! SIGINT or SIGTERM stops it: a refresh under way may finish for a moment,
//! and is otherwise abandoned, which loses nothing (the stored tokens stay
//! the truth and the refresh runs again on the next start); it exits 0
//! within five seconds.
//!
//! `keep --once` runs whatever is due now and exits (cron, a systemd timer).
//! It needs the keeper lock too: while a keeper runs it refuses and exits 5,
//! since the keeper already does that work.

use std::process::ExitCode;
use std::time::Duration;

use reconnect_engine::on_event::{EventHook, HookRunner};
use reconnect_engine::{Engine, Round, Stop};
use reconnect_store::{Home, KeeperError, KeeperKind, KeeperLock, ProfileConfig};

use super::exit;

mod desktop;
mod log;
mod signal;

/// How long a refresh under way at SIGTERM may take to finish.
const REFRESH_GRACE: Duration = Duration::from_secs(2);
/// How long `on_event` programs under way at SIGTERM may take to finish.
const HOOK_GRACE: Duration = Duration::from_secs(1);
/// How long the runtime waits for blocking work (a keychain call) at exit.
const EXIT_GRACE: Duration = Duration::from_millis(500);

/// Arguments of `reconnect keep`.
#[derive(Debug, clap::Args)]
pub struct KeepArgs {
    /// Run whatever is due now, then exit (for cron or a systemd timer).
    #[arg(long)]
    pub once: bool,
    /// The profile to keep (default: RECONNECT_HOME, else the default
    /// profile). For service managers that cannot set the environment.
    #[arg(long, value_name = "DIR")]
    pub home: Option<std::path::PathBuf>,
}

/// Runs `reconnect keep`.
pub fn run(args: KeepArgs) -> ExitCode {
    log::init();
    let home = match args.home.as_deref().map_or_else(Home::resolve, Home::at) {
        Ok(home) => home,
        Err(err) => return fail("cannot find the profile", &err),
    };
    let _lock = match KeeperLock::acquire(&home, KeeperKind::Keep) {
        Ok(lock) => lock,
        Err(KeeperError::Held(keeper)) => {
            eprintln!(
                "reconnect keep: {} is already kept by {keeper}; one keeper per profile. \
                 Stop that one first, or let it do the keeping.",
                home.dir().display()
            );
            return ExitCode::from(exit::KEPT_ELSEWHERE);
        }
        Err(err) => return fail("cannot take the keeper lock", &err),
    };
    let config = match ProfileConfig::load(&home) {
        Ok(config) => config,
        Err(err) => return fail("cannot use the profile's settings", &err),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail("cannot start", &err),
    };
    let code = runtime.block_on(keep(home, &config, args.once));
    runtime.shutdown_timeout(EXIT_GRACE);
    code
}

async fn keep(home: Home, config: &ProfileConfig, once: bool) -> ExitCode {
    // Before anything slow: a SIGTERM from now on is ours to handle.
    let stop = match signal::Stop::listen() {
        Ok(stop) => stop,
        Err(err) => return fail("cannot listen for SIGINT and SIGTERM", &err),
    };
    let engine = match Engine::open(home) {
        Ok(engine) => engine,
        Err(err) => return fail("cannot open the profile", &err),
    };
    let follower = desktop::Follower::start(&engine);
    let hook = EventHook::from_config(config);
    if let Some(hook) = &hook {
        tracing::info!("on_event: running `{}` for events", hook.program());
    }
    let hooks = hook.map(|hook| HookRunner::start(&engine, hook));
    let (code, grace) = if once {
        (run_once(&engine).await, None)
    } else {
        run_forever(&engine, stop).await;
        (ExitCode::SUCCESS, Some(HOOK_GRACE))
    };
    if let Some(hooks) = hooks {
        hooks.finish(grace).await;
    }
    follower.finish().await;
    code
}

/// `--once`: one round of due work.
async fn run_once(engine: &Engine) -> ExitCode {
    match engine.tick().await {
        Ok(report) => {
            for line in log::failure_lines(&report) {
                tracing::warn!("{line}");
            }
            tracing::info!(
                "done: {} refreshed, {} failed",
                report.refreshed.len(),
                report.failed.len()
            );
            ExitCode::SUCCESS
        }
        Err(err) => fail("could not run the due work", &err),
    }
}

async fn run_forever(engine: &Engine, stop: signal::Stop) {
    let dir = engine.home().dir().display().to_string();
    tracing::info!("keeping {dir}; stop with Ctrl+C or SIGTERM");
    let observe = |round: Round<'_>| {
        if let Round::Ticked(report) = round {
            for line in log::failure_lines(report) {
                tracing::warn!("{line}");
            }
        }
    };
    let how = engine
        .keep(stop.received(), Some(REFRESH_GRACE), observe)
        .await;
    match how {
        Stop::Finished => tracing::info!("stopped"),
        Stop::Abandoned => tracing::info!(
            "stopped; the refresh under way was abandoned and runs again on the next start"
        ),
    }
}

/// Reports `err` with its causes; exit code 1.
fn fail(what: &str, err: &dyn std::error::Error) -> ExitCode {
    eprintln!("reconnect keep: {what}: {err}");
    let mut source = err.source();
    while let Some(cause) = source {
        eprintln!("  caused by: {cause}");
        source = cause.source();
    }
    ExitCode::from(exit::OTHER)
}
