//! The keeper's side of the desktop: its events on stderr, and OS
//! notifications when accounts need a person, worded and gathered as the
//! desktop app does it ([`reconnect_engine::notification`]). On Linux a
//! notification goes to the Desktop Notifications service on the session
//! bus (`org.freedesktop.Notifications`); without a session bus or such a
//! service the keeper only logs. `RECONNECT_NO_NOTIFICATIONS` turns them off,
//! as for the app.

use reconnect_core::health::{Health, Notice};
use reconnect_engine::notification::{self, Click, Gathering};
use reconnect_engine::{Engine, EngineEvent};
use tokio::sync::{broadcast, watch};

use super::log;

/// The task that follows the engine's events.
#[derive(Debug)]
pub struct Follower {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Follower {
    /// Starts following `engine`.
    pub fn start(engine: &Engine) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(follow(engine.subscribe(), stopped));
        Self { stop, task }
    }

    /// Logs the events already sent, shows what was gathered at once, and ends.
    pub async fn finish(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn follow(mut events: broadcast::Receiver<EngineEvent>, mut stopped: watch::Receiver<bool>) {
    let mut gathering = Gathering::default();
    loop {
        let wait = async {
            if gathering.is_empty() {
                std::future::pending::<()>().await;
            } else {
                tokio::time::sleep(notification::GATHER).await;
            }
        };
        tokio::select! {
            biased;
            event = events.recv() => match event {
                Ok(event) => note(&event, &mut gathering),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!("{missed} events came too fast to be logged");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            () = wait => show(gathering.take()).await,
            _ = stopped.changed() => break,
        }
    }
    while let Ok(event) = events.try_recv() {
        note(&event, &mut gathering);
    }
    show(gathering.take()).await;
}

fn note(event: &EngineEvent, gathering: &mut Gathering) {
    let line = log::event_line(event);
    match event {
        // The refresh's own line follows; this one is for debugging.
        EngineEvent::HealthChanged {
            to: Health::Refreshing { .. },
            ..
        } => tracing::debug!("{line}"),
        EngineEvent::HealthChanged { to, .. }
            if to.is_stopped() || matches!(to, Health::Unreachable { .. }) =>
        {
            tracing::warn!("{line}");
        }
        EngineEvent::Spike(_) | EngineEvent::UnsavedCredentials { .. } => {
            tracing::warn!("{line}");
        }
        _ => tracing::info!("{line}"),
    }
    if let EngineEvent::HealthChanged {
        account,
        notice: Some(notice),
        ..
    } = event
    {
        gathering.add(account, *notice);
    }
}

async fn show(accounts: Vec<(String, Notice)>) {
    if accounts.is_empty() || std::env::var_os("RECONNECT_NO_NOTIFICATIONS").is_some() {
        return;
    }
    let (title, body) = notification::notification_text_for(&accounts, Click::Nothing);
    let shown = tokio::task::spawn_blocking(move || bus::notify(&title, &body)).await;
    match shown {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tracing::info!("no desktop notification shown: {err}"),
        Err(err) => tracing::info!("no desktop notification shown: {err}"),
    }
}

#[cfg(target_os = "linux")]
mod bus {
    //! The Desktop Notifications spec's `Notify`, over the session bus.

    use std::time::Duration;

    const NAME: &str = "org.freedesktop.Notifications";
    const PATH: &str = "/org/freedesktop/Notifications";
    /// How long a notification service may take to answer.
    const ANSWER: Duration = Duration::from_secs(2);

    /// Why a notification was not shown.
    #[derive(Debug, thiserror::Error)]
    pub enum NotifyError {
        /// No session bus to reach.
        #[error("no D-Bus session bus ({0})")]
        Bus(#[source] dbus::Error),
        /// Nobody on the bus shows notifications, or it refused this one.
        #[error("the notification service did not take it ({0})")]
        Refused(#[source] dbus::Error),
    }

    /// Shows one notification.
    pub fn notify(title: &str, body: &str) -> Result<(), NotifyError> {
        let connection = dbus::blocking::Connection::new_session().map_err(NotifyError::Bus)?;
        let proxy = connection.with_proxy(NAME, PATH, ANSWER);
        let hints = dbus::arg::PropMap::new();
        let actions: Vec<&str> = Vec::new();
        let (_id,): (u32,) = proxy
            .method_call(
                NAME,
                "Notify",
                ("Reconnect", 0_u32, "", title, body, actions, hints, -1_i32),
            )
            .map_err(NotifyError::Refused)?;
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
mod bus {
    //! Elsewhere `reconnect keep` shows no notifications yet; it logs.

    /// Why a notification was not shown.
    #[derive(Debug, thiserror::Error)]
    pub enum NotifyError {
        /// Not on this system.
        #[error("`reconnect keep` shows desktop notifications on Linux only")]
        Unsupported,
    }

    /// Shows nothing.
    pub fn notify(_title: &str, _body: &str) -> Result<(), NotifyError> {
        Err(NotifyError::Unsupported)
    }
}
