//! A stand-in desktop on the test's private D-Bus session bus, speaking the
//! same protocols a real desktop does, so the window tests can see what the
//! app shows outside its window:
//!
//! - a notification server (Desktop Notifications spec:
//!   `org.freedesktop.Notifications`) that records every notification and
//!   can "click" one by emitting `ActionInvoked(id, "default")`;
//! - a tray host (`org.kde.StatusNotifierWatcher`) the app's tray icon
//!   registers with; the item's `org.kde.StatusNotifierItem` properties are
//!   then read back as a panel would, and its menu
//!   (`com.canonical.dbusmenu`) can be clicked.
//!
//! Start it before the app: the app looks for both services as it starts.
//! Only one [`Desktop`] exists per bus at a time; a second one waits.

mod notifications;
mod picture;
mod tray;

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::Context;

pub use notifications::Shown;
pub use picture::Picture;
pub use tray::{TrayItem, TrayState};

/// The tests of one binary share one session bus, so they take turns
/// owning the desktop's well-known names.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How often waits look again.
const POLL: Duration = Duration::from_millis(100);

/// The stand-in desktop: owns the notification server's and the tray
/// watcher's names on the session bus until dropped.
pub struct Desktop {
    connection: zbus::Connection,
    log: notifications::Log,
    items: tray::Items,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl std::fmt::Debug for Desktop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desktop")
            .field("notifications", &*lock(&self.log))
            .field("tray_items", &*lock(&self.items))
            .finish_non_exhaustive()
    }
}

impl Desktop {
    /// Takes the notification server's and the tray watcher's names on the
    /// session bus (`DBUS_SESSION_BUS_ADDRESS`, as set by
    /// `scripts/with-session.sh`).
    pub async fn start() -> anyhow::Result<Self> {
        anyhow::ensure!(
            std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
            "no D-Bus session bus: run the tests through scripts/with-session.sh"
        );
        let turn = TURN.lock().await;
        let log = notifications::Log::default();
        let items = tray::Items::default();
        let connection = zbus::connection::Builder::session()?
            .serve_at(
                notifications::PATH,
                notifications::NotificationServer { log: log.clone() },
            )?
            .serve_at(
                tray::WATCHER_PATH,
                tray::Watcher {
                    items: items.clone(),
                },
            )?
            .name(notifications::NAME)?
            .name(tray::WATCHER_NAME)?
            .build()
            .await
            .context(
                "owning the notification server's and tray watcher's names (is a real \
                 desktop's bus in use? run through scripts/with-session.sh)",
            )?;
        Ok(Self {
            connection,
            log,
            items,
            _turn: turn,
        })
    }
}
