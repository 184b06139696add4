//! The tray host half of the stand-in desktop: a StatusNotifierWatcher the
//! app's tray icon registers with, reading the item's properties as a panel
//! does, and clicking its menu over `com.canonical.dbusmenu`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use zbus::message::Header;
use zbus::object_server::SignalEmitter;
use zbus::zvariant::{OwnedValue, Structure, Value};

use super::{Desktop, POLL, lock};

pub(super) const WATCHER_NAME: &str = "org.kde.StatusNotifierWatcher";
pub(super) const WATCHER_PATH: &str = "/StatusNotifierWatcher";
const ITEM_INTERFACE: &str = "org.kde.StatusNotifierItem";
const MENU_INTERFACE: &str = "com.canonical.dbusmenu";

/// A tray item that registered with the watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayItem {
    /// The unique bus name of the app's connection.
    pub bus: String,
    /// The item's object path.
    pub path: String,
}

pub(super) type Items = Arc<Mutex<Vec<TrayItem>>>;

/// The tray host's watcher object.
pub(super) struct Watcher {
    pub(super) items: Items,
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

impl Desktop {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_icon_file_is_a_path_or_a_name_in_the_theme_path() {
        let mut state = TrayState {
            icon_name: "/run/tray/icon-3.png".into(),
            icon_theme_path: "/elsewhere".into(),
            ..TrayState::default()
        };
        assert_eq!(state.icon_file(), Some("/run/tray/icon-3.png".into()));
        state.icon_name = "icon-4".into();
        assert_eq!(state.icon_file(), Some("/elsewhere/icon-4.png".into()));
        state.icon_name.clear();
        assert_eq!(state.icon_file(), None);
    }

    #[test]
    fn a_menu_entry_is_found_by_its_label_among_nested_entries() {
        let entry = |id: i32, label: &str, children: Vec<Value<'static>>| {
            let mut props = HashMap::new();
            props.insert("label".to_owned(), Value::new(label.to_owned()));
            Value::Value(Box::new(Value::from(Structure::from((
                id,
                props,
                children
                    .into_iter()
                    .map(|c| Value::Value(Box::new(c)))
                    .collect::<Vec<_>>(),
            )))))
        };
        let root = entry(
            0,
            "",
            vec![
                entry(1, "_Open Reconnect", vec![]),
                entry(2, "Quit", vec![]),
            ],
        );
        let mut seen = Vec::new();
        assert_eq!(find_menu_entry(&root, "Quit", &mut seen), Some(2));
        assert_eq!(find_menu_entry(&root, "Open Reconnect", &mut seen), Some(1));
        seen.clear();
        assert_eq!(find_menu_entry(&root, "Settings", &mut seen), None);
        assert_eq!(seen, ["", "Open Reconnect", "Quit"]);
    }
}
