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

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use zbus::message::Header;
use zbus::object_server::SignalEmitter;
use zbus::zvariant::{OwnedValue, Structure, Value};

const NOTIFICATIONS_NAME: &str = "org.freedesktop.Notifications";
const NOTIFICATIONS_PATH: &str = "/org/freedesktop/Notifications";
const WATCHER_NAME: &str = "org.kde.StatusNotifierWatcher";
const WATCHER_PATH: &str = "/StatusNotifierWatcher";
const ITEM_INTERFACE: &str = "org.kde.StatusNotifierItem";
const MENU_INTERFACE: &str = "com.canonical.dbusmenu";

/// The spec's reason for a notification the user dismissed.
const CLOSED_BY_USER: u32 = 2;
/// The spec's reason for a notification its sender closed.
const CLOSED_BY_CALL: u32 = 3;

/// The tests of one binary share one session bus, so they take turns
/// owning the desktop's well-known names.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

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

type Log = Arc<Mutex<Vec<Shown>>>;

/// The notification server's object.
struct NotificationServer {
    log: Log,
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

/// A tray item that registered with the watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayItem {
    /// The unique bus name of the app's connection.
    pub bus: String,
    /// The item's object path.
    pub path: String,
}

type Items = Arc<Mutex<Vec<TrayItem>>>;

/// The tray host's watcher object.
struct Watcher {
    items: Items,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    async fn register_status_notifier_item(
        &self,
        service: &str,
        #[zbus(header)] header: Header<'_>,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> zbus::fdo::Result<()> {
        let sender = header
            .sender()
            .ok_or_else(|| zbus::fdo::Error::InvalidArgs("a call without a sender".into()))?
            .to_string();
        // Items name either their object path (on the caller's connection)
        // or a bus name serving the spec's default path.
        let item = if service.starts_with('/') {
            TrayItem {
                bus: sender,
                path: service.to_owned(),
            }
        } else {
            TrayItem {
                bus: service.to_owned(),
                path: "/StatusNotifierItem".to_owned(),
            }
        };
        let registered = format!("{}{}", item.bus, item.path);
        {
            let mut items = lock(&self.items);
            if !items.contains(&item) {
                items.push(item);
            }
        }
        Self::status_notifier_item_registered(&emitter, &registered).await?;
        Ok(())
    }

    fn register_status_notifier_host(&self, _service: &str) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        lock(&self.items)
            .iter()
            .map(|i| format!("{}{}", i.bus, i.path))
            .collect()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }

    #[zbus(signal)]
    async fn status_notifier_item_registered(
        emitter: &SignalEmitter<'_>,
        service: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn status_notifier_item_unregistered(
        emitter: &SignalEmitter<'_>,
        service: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn status_notifier_host_registered(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;
}

/// What a panel shows for a tray item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrayState {
    /// `Active`, `Passive` or `NeedsAttention`.
    pub status: String,
    /// The icon: a theme name or a file path.
    pub icon_name: String,
    /// Where themed icon names are looked up.
    pub icon_theme_path: String,
    /// The text shown beside the icon (Ayatana's label extension).
    pub label: String,
    /// The item's title.
    pub title: String,
    /// The object path of its menu.
    pub menu: String,
}

impl TrayState {
    /// The PNG file the icon is drawn from, when it is one.
    pub fn icon_file(&self) -> Option<PathBuf> {
        if self.icon_name.is_empty() {
            return None;
        }
        let named = Path::new(&self.icon_name);
        let file = if named.is_absolute() {
            named.to_path_buf()
        } else {
            Path::new(&self.icon_theme_path).join(named)
        };
        if file.extension().is_some() {
            Some(file)
        } else {
            Some(file.with_extension("png"))
        }
    }
}

/// A decoded picture: width, height and 8-bit RGBA pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// RGBA, row by row.
    pub rgba: Vec<u8>,
}

impl Picture {
    /// Decodes a PNG (8-bit RGBA, or anything that expands to it).
    pub fn from_png(bytes: &[u8]) -> anyhow::Result<Self> {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info()?;
        let mut buf = vec![0; reader.output_buffer_size().context("PNG too large")?];
        let frame = reader.next_frame(&mut buf)?;
        buf.truncate(frame.buffer_size());
        let rgba = match frame.color_type {
            png::ColorType::Rgba => buf,
            png::ColorType::Rgb => buf
                .chunks(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect(),
            png::ColorType::GrayscaleAlpha => buf
                .chunks(2)
                .flat_map(|p| [p[0], p[0], p[0], p[1]])
                .collect(),
            png::ColorType::Grayscale => buf.iter().flat_map(|g| [*g, *g, *g, 255]).collect(),
            png::ColorType::Indexed => anyhow::bail!("an unexpanded palette PNG"),
        };
        Ok(Self {
            width: frame.width,
            height: frame.height,
            rgba,
        })
    }

    /// Reads and decodes a PNG file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_png(&bytes).with_context(|| format!("decoding {}", path.display()))
    }
}

/// The stand-in desktop: owns the notification server's and the tray
/// watcher's names on the session bus until dropped.
pub struct Desktop {
    connection: zbus::Connection,
    log: Log,
    items: Items,
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

/// How often waits look again.
const POLL: Duration = Duration::from_millis(100);

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
        let log = Log::default();
        let items = Items::default();
        let connection = zbus::connection::Builder::session()?
            .serve_at(NOTIFICATIONS_PATH, NotificationServer { log: log.clone() })?
            .serve_at(
                WATCHER_PATH,
                Watcher {
                    items: items.clone(),
                },
            )?
            .name(NOTIFICATIONS_NAME)?
            .name(WATCHER_NAME)?
            .build()
            .await
            .context("owning the notification server's and tray watcher's names")?;
        Ok(Self {
            connection,
            log,
            items,
            _turn: turn,
        })
    }

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
            .interface::<_, NotificationServer>(NOTIFICATIONS_PATH)
            .await?;
        NotificationServer::action_invoked(server.signal_emitter(), id, "default").await?;
        if close(&self.log, id) {
            NotificationServer::notification_closed(server.signal_emitter(), id, CLOSED_BY_USER)
                .await?;
        }
        Ok(())
    }

    /// Waits for a tray item to register.
    pub async fn wait_for_tray(&self, within: Duration) -> anyhow::Result<TrayItem> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(item) = lock(&self.items).first().cloned() {
                return Ok(item);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "no tray item registered within {within:?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// All the `org.kde.StatusNotifierItem` properties of `item`.
    pub async fn tray_properties(
        &self,
        item: &TrayItem,
    ) -> anyhow::Result<HashMap<String, OwnedValue>> {
        let reply = self
            .connection
            .call_method(
                Some(item.bus.as_str()),
                item.path.as_str(),
                Some("org.freedesktop.DBus.Properties"),
                "GetAll",
                &(ITEM_INTERFACE,),
            )
            .await?;
        Ok(reply.body().deserialize()?)
    }

    /// What a panel would show for `item` now.
    pub async fn tray_state(&self, item: &TrayItem) -> anyhow::Result<TrayState> {
        let props = self.tray_properties(item).await?;
        let text = |key: &str| -> String {
            props
                .get(key)
                .and_then(|v| match &**v {
                    Value::Str(s) => Some(s.to_string()),
                    Value::ObjectPath(p) => Some(p.to_string()),
                    _ => None,
                })
                .unwrap_or_default()
        };
        Ok(TrayState {
            status: text("Status"),
            icon_name: text("IconName"),
            icon_theme_path: text("IconThemePath"),
            label: text("XAyatanaLabel"),
            title: text("Title"),
            menu: text("Menu"),
        })
    }

    /// Waits until `item`'s state satisfies `wanted` (the icon file may be
    /// swapped while it is read, so failures to read are retried too).
    pub async fn wait_for_tray_state(
        &self,
        item: &TrayItem,
        within: Duration,
        what: &str,
        wanted: impl Fn(&TrayState) -> anyhow::Result<bool>,
    ) -> anyhow::Result<TrayState> {
        let deadline = Instant::now() + within;
        loop {
            let last = match self.tray_state(item).await {
                Ok(state) => match wanted(&state) {
                    Ok(true) => return Ok(state),
                    Ok(false) => format!("{state:?}"),
                    Err(e) => format!("{state:?}: {e:#}"),
                },
                Err(e) => format!("{e:#}"),
            };
            anyhow::ensure!(
                Instant::now() < deadline,
                "the tray did not show {what} within {within:?}; last seen: {last}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Clicks the entry labelled `label` in `item`'s menu
    /// (`com.canonical.dbusmenu`), as a panel does.
    pub async fn click_tray_menu(&self, item: &TrayItem, label: &str) -> anyhow::Result<()> {
        let menu = self.tray_state(item).await?.menu;
        anyhow::ensure!(!menu.is_empty(), "the tray item has no menu");
        let no_props: Vec<&str> = Vec::new();
        let reply = self
            .connection
            .call_method(
                Some(item.bus.as_str()),
                menu.as_str(),
                Some(MENU_INTERFACE),
                "GetLayout",
                &(0i32, -1i32, no_props),
            )
            .await?;
        // (revision, layout)
        let body = reply.body();
        let reply: Structure<'_> = body.deserialize()?;
        let layout = reply.fields().get(1).context("GetLayout sent no layout")?;
        let mut labels = Vec::new();
        let id = find_menu_entry(layout, label, &mut labels)
            .with_context(|| format!("no menu entry {label:?}; the menu has {labels:?}"))?;
        let timestamp = 0u32;
        self.connection
            .call_method(
                Some(item.bus.as_str()),
                menu.as_str(),
                Some(MENU_INTERFACE),
                "Event",
                &(id, "clicked", Value::I32(0), timestamp),
            )
            .await?;
        Ok(())
    }
}

/// Searches a dbusmenu layout `(id, properties, children)` for the entry
/// whose label (mnemonic underscores removed) is `label`.
fn find_menu_entry(node: &Value<'_>, label: &str, seen: &mut Vec<String>) -> Option<i32> {
    let node = match node {
        Value::Value(inner) => return find_menu_entry(inner, label, seen),
        Value::Structure(s) => s,
        _ => return None,
    };
    let [Value::I32(id), Value::Dict(props), Value::Array(children)] = node.fields() else {
        return None;
    };
    let text = props.iter().find_map(|(k, v)| match (k, v) {
        (Value::Str(k), Value::Value(v)) if k.as_str() == "label" => match &**v {
            Value::Str(text) => Some(text.replace('_', "")),
            _ => None,
        },
        _ => None,
    });
    if let Some(text) = text {
        if text == label {
            return Some(*id);
        }
        seen.push(text);
    }
    children
        .iter()
        .find_map(|child| find_menu_entry(child, label, seen))
}
