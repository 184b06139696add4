//! `on_event`: the program a profile's `config.toml` names, run for each
//! event a keeper sees (`reconnect keep`, and the desktop app while it keeps
//! the profile). The program runs without a shell; its environment is the
//! keeper's, minus anything that looks like a secret, plus:
//!
//! - `RECONNECT_EVENT`: `refreshed`, `expiring_soon`, `reconnect_needed`,
//!   `needs_admin` (an administrator or the app's developer must act),
//!   `unreachable` (the sign-in service has been out of reach for a while),
//!   `recovered` or `unsaved_credentials`;
//! - `RECONNECT_ACCOUNT`: the account's name;
//! - `RECONNECT_CODE` and `RECONNECT_TITLE`: for `reconnect_needed`,
//!   `needs_admin` and `unreachable`, the decoded failure's code
//!   (`AADSTS700082`, or the OAuth `error` when there is one) and title.
//!
//! Never a token: none is added, and inherited variables whose name or value
//! looks secret are left out.
//!
//! The programs run one after another on a task of their own, so a slow or
//! failing one never holds up the keeper. Each may run
//! `hook_timeout_seconds` (30 s by default); after that its whole process
//! group is killed. Failures and timeouts are logged as warnings.

use std::ffi::OsStr;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use reconnect_core::health::Notice;
use reconnect_store::ProfileConfig;
use serde::Serialize;
use tokio::sync::{broadcast, watch};

use crate::engine::Engine;
use crate::notify::EngineEvent;

mod group;

/// How long a program may run when `hook_timeout_seconds` is not set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The events a program can be run for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HookEvent {
    /// A refresh succeeded.
    Refreshed,
    /// The connection dies soon unless someone acts.
    ExpiringSoon,
    /// The user must sign in again.
    ReconnectNeeded,
    /// An administrator or the app's developer must act.
    NeedsAdmin,
    /// The sign-in service has been out of reach for a while.
    Unreachable,
    /// A broken or expiring connection works again.
    Recovered,
    /// New tokens are held that the keychain refused.
    UnsavedCredentials,
}

impl HookEvent {
    /// The name in `RECONNECT_EVENT`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Refreshed => "refreshed",
            Self::ExpiringSoon => "expiring_soon",
            Self::ReconnectNeeded => "reconnect_needed",
            Self::NeedsAdmin => "needs_admin",
            Self::Unreachable => "unreachable",
            Self::Recovered => "recovered",
            Self::UnsavedCredentials => "unsaved_credentials",
        }
    }

    /// The hook event an engine event stands for, with its account.
    pub fn of(event: &EngineEvent) -> Option<(Self, &str)> {
        match event {
            EngineEvent::Refreshed { account } => Some((Self::Refreshed, account)),
            EngineEvent::UnsavedCredentials { account } => {
                Some((Self::UnsavedCredentials, account))
            }
            EngineEvent::HealthChanged {
                account,
                notice: Some(notice),
                ..
            } => Some((Self::from_notice(*notice), account)),
            _ => None,
        }
    }

    fn from_notice(notice: Notice) -> Self {
        match notice {
            Notice::ReconnectNeeded => Self::ReconnectNeeded,
            Notice::NeedsAdmin | Notice::AppMisconfigured => Self::NeedsAdmin,
            Notice::ExpiringSoon => Self::ExpiringSoon,
            Notice::Unreachable => Self::Unreachable,
            Notice::Recovered => Self::Recovered,
        }
    }

    /// Whether the event comes from a failure whose code and title apply.
    fn is_failure(self) -> bool {
        matches!(
            self,
            Self::ReconnectNeeded | Self::NeedsAdmin | Self::Unreachable
        )
    }
}

/// One event, as the program is told about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// What happened.
    pub event: HookEvent,
    /// To which account.
    pub account: String,
    /// The decoded failure's code, for failure events.
    pub code: Option<String>,
    /// The decoded failure's title, for failure events.
    pub title: Option<String>,
}

/// Why a program run did not end well.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The program could not be started (not found, not executable).
    #[error("could not be started")]
    Start(#[source] std::io::Error),
    /// Waiting for the program failed.
    #[error("could not be waited for")]
    Wait(#[source] std::io::Error),
    /// The program ended unsuccessfully.
    #[error("ended unsuccessfully ({0})")]
    Exit(ExitStatus),
    /// The program ran too long; its process group was killed.
    #[error("was still running after {} s and was stopped", .0.as_secs())]
    Timeout(Duration),
}

/// The configured program and its time limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHook {
    argv: Vec<String>,
    timeout: Duration,
}

impl EventHook {
    /// A hook running `argv` (program first; must not be empty).
    pub fn new(argv: Vec<String>, timeout: Duration) -> Option<Self> {
        argv.first()?;
        Some(Self { argv, timeout })
    }

    /// The hook a profile's settings name, if any.
    pub fn from_config(config: &ProfileConfig) -> Option<Self> {
        let timeout = config
            .hook_timeout_seconds
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
        Self::new(config.on_event.clone()?, timeout)
    }

    /// The program's name, for messages.
    pub fn program(&self) -> &str {
        &self.argv[0]
    }

    /// Runs the program once for `occurrence` and waits for it (at most the
    /// timeout, after which its process group is killed).
    pub async fn run(&self, occurrence: &Occurrence) -> Result<(), HookError> {
        let mut command = tokio::process::Command::new(&self.argv[0]);
        command
            .args(&self.argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::io::stderr()))
            .kill_on_drop(true);
        for (name, value) in std::env::vars_os() {
            if looks_secret(&name, &value) {
                command.env_remove(name);
            }
        }
        command
            .env("RECONNECT_EVENT", occurrence.event.name())
            .env("RECONNECT_ACCOUNT", &occurrence.account);
        for (name, value) in [
            ("RECONNECT_CODE", &occurrence.code),
            ("RECONNECT_TITLE", &occurrence.title),
        ] {
            match value {
                Some(v) => command.env(name, v),
                None => command.env_remove(name),
            };
        }
        group::own_group(&mut command);
        let mut child = command.spawn().map_err(HookError::Start)?;
        let group = group::Group::of(&child);
        match tokio::time::timeout(self.timeout, child.wait()).await {
            Ok(waited) => {
                group.release();
                let status = waited.map_err(HookError::Wait)?;
                if status.success() {
                    Ok(())
                } else {
                    Err(HookError::Exit(status))
                }
            }
            Err(_) => {
                drop(group); // kills the whole group
                let _ = child.wait().await;
                Err(HookError::Timeout(self.timeout))
            }
        }
    }
}

/// Whether an inherited variable must not reach a hook: a name that says
/// it holds a secret, or a value shaped like a bearer token or a JWT.
fn looks_secret(name: &OsStr, value: &OsStr) -> bool {
    const WORDS: [&str; 8] = [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
    ];
    let name = name.to_string_lossy().to_ascii_uppercase();
    let value = value.to_string_lossy();
    let value = value.trim();
    let jwt = value.starts_with("eyJ") && value.split('.').count() >= 3;
    WORDS.iter().any(|w| name.contains(w)) || jwt || value.starts_with("Bearer ")
}

/// The hook's task: runs the program for each event of one engine.
#[derive(Debug)]
pub struct HookRunner {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl HookRunner {
    /// Starts running `hook` for every event `engine` sends from now on.
    pub fn start(engine: &Engine, hook: EventHook) -> Self {
        let events = engine.subscribe();
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(follow(engine.clone(), hook, events, stopped));
        Self { stop, task }
    }

    /// Runs the events already sent, then ends. With a `grace`, whatever
    /// still runs after it is stopped (its process group killed).
    pub async fn finish(self, grace: Option<Duration>) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        let Some(grace) = grace else {
            let _ = task.await;
            return;
        };
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            tracing::warn!("on_event programs still running at exit were stopped");
            task.abort();
            let _ = task.await;
        }
    }
}

async fn follow(
    engine: Engine,
    hook: EventHook,
    mut events: broadcast::Receiver<EngineEvent>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            biased;
            event = events.recv() => match event {
                Ok(event) => run_for(&engine, &hook, &event).await,
                Err(broadcast::error::RecvError::Lagged(missed)) => tracing::warn!(
                    "the on_event program fell behind; it was not run for {missed} events"
                ),
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = stopped.changed() => break,
        }
    }
    while let Ok(event) = events.try_recv() {
        run_for(&engine, &hook, &event).await;
    }
}

/// Runs the program for `event`, if it is one programs hear about.
async fn run_for(engine: &Engine, hook: &EventHook, event: &EngineEvent) {
    let Some((kind, account)) = HookEvent::of(event) else {
        return;
    };
    let occurrence = occurrence(engine, kind, account).await;
    match hook.run(&occurrence).await {
        Ok(()) => tracing::debug!(
            "on_event `{}` ran for {} of {account}",
            hook.program(),
            kind.name()
        ),
        Err(err) => {
            let cause = std::error::Error::source(&err)
                .map(|c| format!(": {c}"))
                .unwrap_or_default();
            tracing::warn!(
                "on_event `{}` for {} of {account} {err}{cause}",
                hook.program(),
                kind.name()
            );
        }
    }
}

/// The event with its failure's code and title, when it has one.
async fn occurrence(engine: &Engine, event: HookEvent, account: &str) -> Occurrence {
    let failure = if event.is_failure() {
        engine
            .status(Some(account))
            .await
            .ok()
            .and_then(|mut s| s.pop())
            .and_then(|s| s.last_failure)
    } else {
        None
    };
    Occurrence {
        event,
        account: account.to_owned(),
        code: failure.as_ref().and_then(|v| {
            v.primary_code
                .map(|c| format!("AADSTS{c}"))
                .or_else(|| v.error.clone())
        }),
        title: failure.map(|v| v.title),
    }
}

#[cfg(test)]
mod tests;
