//! The notification server half of the stand-in desktop: the Desktop
//! Notifications spec's methods and signals, a record of what was shown, and
//! a click as a server reports it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zbus::object_server::SignalEmitter;
use zbus::zvariant::OwnedValue;

use super::{Desktop, POLL, lock};

pub(super) const NAME: &str = "org.freedesktop.Notifications";
pub(super) const PATH: &str = "/org/freedesktop/Notifications";

/// The spec's reason for a notification the user dismissed.
const CLOSED_BY_USER: u32 = 2;
/// The spec's reason for a notification its sender closed.
const CLOSED_BY_CALL: u32 = 3;

/// A notification as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The id the server gave it.
    pub id: u32,
    /// The sending application's name.
    pub app_name: String,
    /// The title.
    pub summary: String,
    /// The text.
    pub body: String,
    /// The action keys it offers (`default` is a click on the notification).
    pub actions: Vec<String>,
    /// Whether it is still on screen.
    pub open: bool,
}

impl Shown {
    /// Whether a click on the notification itself is reported to the app.
    pub fn offers_click(&self) -> bool {
        self.actions.iter().any(|a| a == "default")
    }
}

pub(super) type Log = Arc<Mutex<Vec<Shown>>>;

/// The notification server's object.
pub(super) struct NotificationServer {
    pub(super) log: Log,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl NotificationServer {
    fn get_capabilities(&self) -> Vec<&'static str> {
        vec!["actions", "body"]
    }

    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        _hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        // Actions come as key, label pairs.
        let actions: Vec<String> = actions.into_iter().step_by(2).collect();
        let mut log = lock(&self.log);
        let shown = |id| Shown {
            id,
            app_name,
            summary,
            body,
            actions,
            open: true,
        };
        if let Some(old) = log.iter_mut().find(|n| n.id == replaces_id && n.open) {
            *old = shown(replaces_id);
            return replaces_id;
        }
        let id = u32::try_from(log.len() + 1).unwrap_or(u32::MAX);
        log.push(shown(id));
        id
    }

    async fn close_notification(
        &self,
        id: u32,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> zbus::fdo::Result<()> {
        let was_open = close(&self.log, id);
        if was_open {
            Self::notification_closed(&emitter, id, CLOSED_BY_CALL).await?;
        }
        Ok(())
    }

    fn get_server_information(&self) -> (&'static str, &'static str, &'static str, &'static str) {
        ("reconnect-test-desktop", "reconnect", "1", "1.2")
    }

    #[zbus(signal)]
    async fn notification_closed(
        emitter: &SignalEmitter<'_>,
        id: u32,
        reason: u32,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn action_invoked(
        emitter: &SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;
}

/// Marks notification `id` closed; whether it was open.
fn close(log: &Log, id: u32) -> bool {
    lock(log)
        .iter_mut()
        .find(|n| n.id == id && n.open)
        .map(|n| n.open = false)
        .is_some()
}

impl Desktop {
    /// Every notification received so far, oldest first.
    pub fn notifications(&self) -> Vec<Shown> {
        lock(&self.log).clone()
    }

    /// Waits until the notifications received so far satisfy `done`
    /// (described by `what`), and returns them.
    pub async fn wait_for_notifications(
        &self,
        within: Duration,
        what: &str,
        done: impl Fn(&[Shown]) -> bool,
    ) -> anyhow::Result<Vec<Shown>> {
        let deadline = Instant::now() + within;
        loop {
            let shown = self.notifications();
            if done(&shown) {
                return Ok(shown);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "no {what} within {within:?}; notifications: {shown:#?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Clicks notification `id` the way a notification server reports it:
    /// the `default` action, then the notification closes.
    pub async fn click(&self, id: u32) -> anyhow::Result<()> {
        let server = self
            .connection
            .object_server()
            .interface::<_, NotificationServer>(PATH)
            .await?;
        NotificationServer::action_invoked(server.signal_emitter(), id, "default").await?;
        if close(&self.log, id) {
            NotificationServer::notification_closed(server.signal_emitter(), id, CLOSED_BY_USER)
                .await?;
        }
        Ok(())
    }
}
