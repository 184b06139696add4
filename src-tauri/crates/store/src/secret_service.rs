//! The Secret Service (Linux) over one D-Bus connection and one encrypted
//! session per process, opened on first use and reused by every call.
//!
//! Why not a connection per call (what the `keyring` crate does): each call
//! then costs a new D-Bus connection and a Diffie-Hellman key exchange
//! (`OpenSession`), and gnome-keyring 42 (Debian 12) aborts with SIGTRAP
//! when a client disconnects while its session is being negotiated
//! (`plain_negotiate: assertion 'session' failed`, then a GVariant error).
//! A process killed or finished at the wrong moment could take the user's
//! keyring down, and D-Bus activation then brings it back *locked*. So the
//! pattern we avoid is "open a session, use it once, drop the connection":
//! a process negotiates at most one session, and the availability probe
//! opens none at all (it reads the default collection's `Locked` property).
//!
//! When the link breaks (daemon restarted, session gone) a call reopens it
//! once and tries again; a second failure is reported with its precise cause.
//! Items carry the attributes the `keyring` crate gave them, so entries
//! written by earlier versions are found and replaced in place.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use dbus::arg::{RefArg as _, Variant};
use dbus::blocking::Connection;
use dbus_secret_service::{EncryptionType, Error as SsError, SecretService};

use crate::keychain_error::{Case, KeychainError, flatten, secret_service_case};

const DEST: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
/// How long one D-Bus call may take before it counts as no answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// The collection `keyring` called "default" (the `default` alias).
const TARGET: &str = "default";
/// Kept from the `keyring` crate's items so old entries match exactly
/// (gnome-keyring replaces an item only when every attribute matches).
const APPLICATION: &str = "rust-keyring";

/// This process's link to the Secret Service.
struct Link {
    /// A plain bus connection for the probe (no Secret Service session).
    bus: Option<Connection>,
    /// The connection with its encrypted session, for secrets.
    service: Option<SecretService>,
}

// One conversation at a time per process: the mutex makes the link usable
// from any thread and keeps a busy process from flooding the daemon.
static LINK: Mutex<Link> = Mutex::new(Link {
    bus: None,
    service: None,
});

fn link() -> MutexGuard<'static, Link> {
    LINK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether the keychain can be used now, without prompting and without
/// opening a session: the bus, a provider, and an unlocked default
/// collection.
pub(crate) fn check() -> Result<(), KeychainError> {
    if no_bus_address() {
        return Err(KeychainError::NoSession {
            cause: "DBUS_SESSION_BUS_ADDRESS is not set and $XDG_RUNTIME_DIR/bus does not exist"
                .into(),
        });
    }
    let mut link = link();
    match default_collection_locked(&mut link) {
        Ok(locked) => locked,
        // A connection that has gone bad (bus restarted) is opened again once.
        Err(_) => {
            link.bus = None;
            default_collection_locked(&mut link).map_err(|e| bus_error(e, Case::NoProvider))?
        }
    }
}

fn no_bus_address() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none_or(|a| a.is_empty())
        && std::env::var_os("XDG_RUNTIME_DIR")
            .is_none_or(|d| !std::path::Path::new(&d).join("bus").exists())
}

/// `Ok(Ok(()))` unlocked, `Ok(Err(_))` a definite answer that it can't be
/// used, `Err(_)` the D-Bus call itself failed.
fn default_collection_locked(link: &mut Link) -> Result<Result<(), KeychainError>, dbus::Error> {
    if link.bus.is_none() {
        match Connection::new_session() {
            Ok(bus) => link.bus = Some(bus),
            Err(e) => return Ok(Err(bus_error(e, Case::NoSession))),
        }
    }
    let bus = link.bus.as_ref().expect("opened above");
    let service = bus.with_proxy(DEST, SERVICE_PATH, CALL_TIMEOUT);
    let (path,): (dbus::Path<'static>,) =
        service.method_call("org.freedesktop.Secret.Service", "ReadAlias", (TARGET,))?;
    if &*path == "/" {
        return Ok(Err(KeychainError::NoProvider {
            cause: "the Secret Service has no default collection".into(),
        }));
    }
    let collection = bus.with_proxy(DEST, path, CALL_TIMEOUT);
    let (locked,): (Variant<Box<dyn dbus::arg::RefArg>>,) = collection.method_call(
        "org.freedesktop.DBus.Properties",
        "Get",
        ("org.freedesktop.Secret.Collection", "Locked"),
    )?;
    Ok(match locked.0.as_u64() {
        Some(0) => Ok(()),
        Some(_) => Err(KeychainError::Locked { cause: None }),
        None => Err(KeychainError::NoProvider {
            cause: "the default collection's Locked property is not a boolean".into(),
        }),
    })
}

/// A bare D-Bus error, classified by its name.
fn bus_error(err: dbus::Error, fallback: Case) -> KeychainError {
    classify(SsError::Dbus(err), fallback)
}

fn classify(err: SsError, fallback: Case) -> KeychainError {
    if matches!(err, SsError::NoResult) {
        return KeychainError::NoProvider {
            cause: "the Secret Service has no default collection".into(),
        };
    }
    let case = secret_service_case(&err).unwrap_or(fallback);
    case.with_cause(flatten(&err).unwrap_or_else(|| Box::new(err)))
}

/// How long to give a Secret Service provider that went away mid-call to
/// come back (D-Bus activation, or the session restarting it) before the
/// one more try.
const RESTART_GRACE: Duration = Duration::from_millis(300);

/// Runs `op` on this process's session, opening it if needed. A D-Bus
/// failure (the daemon restarted, the session vanished, or the daemon
/// dropped the call while opening the session) reopens the session after
/// [`RESTART_GRACE`] and runs `op` once more; `op` must therefore be safe
/// to repeat.
fn with_service<T>(op: impl Fn(&SecretService) -> Result<T, SsError>) -> Result<T, KeychainError> {
    let mut link = link();
    let first = open(&mut link).and_then(|ss| op(ss).map_err(classify_op));
    match first {
        Err(Retry::Again(_)) => {
            link.service = None;
            std::thread::sleep(RESTART_GRACE);
            open(&mut link)
                .and_then(|ss| op(ss).map_err(classify_op))
                .map_err(Retry::into_error)
        }
        other => other.map_err(Retry::into_error),
    }
}

/// Whether a failed call is worth one more try on a new session.
enum Retry {
    Again(KeychainError),
    Final(KeychainError),
}

impl Retry {
    fn into_error(self) -> KeychainError {
        match self {
            Self::Again(e) | Self::Final(e) => e,
        }
    }
}

fn classify_op(err: SsError) -> Retry {
    let again = matches!(&err, SsError::Dbus(e)
        if e.name() != Some("org.freedesktop.Secret.Error.IsLocked"));
    let classified = classify(err, Case::NoProvider);
    if again {
        Retry::Again(classified)
    } else {
        Retry::Final(classified)
    }
}

fn open(link: &mut Link) -> Result<&SecretService, Retry> {
    if link.service.is_none() {
        let ss =
            SecretService::connect_with_max_prompt_timeout(EncryptionType::Dh, 0).map_err(|e| {
                match e {
                    // The provider went away while the session was being
                    // opened (it crashed, or is restarting): worth one more try.
                    SsError::Dbus(ref d) if provider_went_away(d) => {
                        Retry::Again(classify(e, Case::NoProvider))
                    }
                    // An unnamed D-Bus failure at connect time is about the bus
                    // itself; named ones say whether the provider is missing.
                    SsError::Dbus(_) => Retry::Final(classify(e, Case::NoSession)),
                    other => Retry::Final(classify(other, Case::NoProvider)),
                }
            })?;
        link.service = Some(ss);
    }
    Ok(link.service.as_ref().expect("opened above"))
}

/// A D-Bus error that means the provider left mid-call (not that there is none).
fn provider_went_away(err: &dbus::Error) -> bool {
    matches!(
        err.name(),
        Some("org.freedesktop.DBus.Error.NoReply" | "org.freedesktop.DBus.Error.Disconnected")
    )
}

fn attributes<'a>(service: &'a str, entry: &'a str) -> HashMap<&'a str, &'a str> {
    HashMap::from([
        ("service", service),
        ("username", entry),
        ("target", TARGET),
    ])
}

/// The value of `entry` under `service`, or `None`.
pub(crate) fn read(service: &str, entry: &str) -> Result<Option<String>, KeychainError> {
    let bytes = with_service(|ss| {
        let found = ss.search_items(attributes(service, entry))?;
        if !found.locked.is_empty() && found.unlocked.is_empty() {
            return Err(SsError::Locked);
        }
        found
            .unlocked
            .first()
            .map(|item| item.get_secret())
            .transpose()
    })?;
    bytes
        .map(|b| {
            String::from_utf8(b).map_err(|e| KeychainError::Platform {
                cause: format!("a keychain entry is not UTF-8 text ({e})").into(),
            })
        })
        .transpose()
}

/// Creates or replaces `entry` under `service` in the default collection.
pub(crate) fn write(service: &str, entry: &str, value: &str) -> Result<(), KeychainError> {
    let label = format!("{entry}@{service}:{TARGET} (Reconnect)");
    with_service(|ss| {
        let mut attrs = attributes(service, entry);
        attrs.insert("application", APPLICATION);
        let collection = ss.get_default_collection()?;
        // `replace`: an item with exactly these attributes gets the new
        // secret in one step (the daemon's own atomic replace).
        collection.create_item(&label, attrs, value.as_bytes(), true, "text/plain")?;
        Ok(())
    })
}

/// Removes every item for `entry` under `service`; none is fine.
pub(crate) fn erase(service: &str, entry: &str) -> Result<(), KeychainError> {
    with_service(|ss| {
        let found = ss.search_items(attributes(service, entry))?;
        if !found.locked.is_empty() {
            return Err(SsError::Locked);
        }
        for item in &found.unlocked {
            item.delete()?;
        }
        Ok(())
    })
}

/// The entry names of every item under `service`.
pub(crate) fn names(service: &str) -> Result<Vec<String>, KeychainError> {
    with_service(|ss| {
        let found = ss.search_items(HashMap::from([("service", service), ("target", TARGET)]))?;
        if !found.locked.is_empty() {
            return Err(SsError::Locked);
        }
        let mut names = Vec::new();
        for item in &found.unlocked {
            if let Some(name) = item.get_attributes()?.remove("username") {
                names.push(name);
            }
        }
        Ok(names)
    })
}
