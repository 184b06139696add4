//! The OS keychain (macOS Keychain, Windows Credential Manager, the Secret
//! Service on Linux) through the `keyring` crate, one service per profile.
//!
//! On Linux every vault operation first checks, without prompting, that the
//! session bus, a Secret Service provider and an unlocked default collection
//! are there; otherwise it fails with the matching [`KeychainError`]. There is
//! no fallback: without a keychain, no token is stored.

use crate::chunked::ChunkedVault;
use crate::home::Home;
use crate::keychain_error::KeychainError;
use crate::vault::Keychain;

/// The vault backed by the OS keychain.
pub type KeychainVault = ChunkedVault<OsKeychain>;

impl KeychainVault {
    /// The vault for a profile: service name derived from its data dir,
    /// writers serialized by lock files under `<data dir>/locks/vault/`.
    pub fn for_home(home: &Home) -> Self {
        ChunkedVault::new(OsKeychain::new(home.keychain_service()))
            .with_lock_dir(home.dir().join("locks").join("vault"))
    }
}

/// Whether the OS keychain can be used right now, without prompting: one
/// look at the Secret Service on Linux (bus, provider, default collection
/// unlocked). For status displays: the error says why tokens cannot be read
/// or refreshed until the keychain is back. Changes nothing.
pub fn probe(home: &Home) -> Result<(), KeychainError> {
    OsKeychain::new(home.keychain_service()).check()
}

/// Entries of one keychain service in the OS keychain.
#[derive(Debug, Clone)]
pub struct OsKeychain {
    service: String,
}

impl OsKeychain {
    /// Entries under `service` (e.g. `reconnect:1a2b3c4d5e6f`).
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    /// The service name.
    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(&self.service, name).map_err(KeychainError::from_keyring)
    }
}

/// One Secret Service conversation at a time per process: gnome-keyring was
/// seen to crash (and come back locked through D-Bus activation) when many
/// threads opened encrypted sessions and wrote large items at once.
static CALLS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    CALLS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Keychain for OsKeychain {
    fn check(&self) -> Result<(), KeychainError> {
        let _turn = turn();
        #[cfg(target_os = "linux")]
        {
            secret_service_probe::check()
        }
        #[cfg(not(target_os = "linux"))]
        {
            Ok(())
        }
    }

    fn read(&self, entry: &str) -> Result<Option<String>, KeychainError> {
        let _turn = turn();
        match self.entry(entry)?.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(KeychainError::from_keyring(err)),
        }
    }

    fn write(&self, entry: &str, value: &str) -> Result<(), KeychainError> {
        let _turn = turn();
        self.entry(entry)?
            .set_password(value)
            .map_err(KeychainError::from_keyring)
    }

    fn erase(&self, entry: &str) -> Result<(), KeychainError> {
        let _turn = turn();
        match self.entry(entry)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(KeychainError::from_keyring(err)),
        }
    }
}

#[cfg(target_os = "linux")]
mod secret_service_probe {
    //! A prompt-free look at the Secret Service before using it.

    use dbus_secret_service::{EncryptionType, SecretService};

    use crate::keychain_error::{Case, KeychainError, flatten, secret_service_case};

    fn classify(err: dbus_secret_service::Error, fallback: Case) -> KeychainError {
        let case = secret_service_case(&err).unwrap_or(fallback);
        case.with_cause(flatten(&err).unwrap_or_else(|| Box::new(err)))
    }

    /// Connects with prompts disabled and checks the default collection is
    /// there and unlocked.
    pub(super) fn check() -> Result<(), KeychainError> {
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none_or(|a| a.is_empty())
            && std::env::var_os("XDG_RUNTIME_DIR")
                .is_none_or(|d| !std::path::Path::new(&d).join("bus").exists())
        {
            return Err(KeychainError::NoSession {
                cause:
                    "DBUS_SESSION_BUS_ADDRESS is not set and $XDG_RUNTIME_DIR/bus does not exist"
                        .into(),
            });
        }
        let service = SecretService::connect_with_max_prompt_timeout(EncryptionType::Plain, 0)
            .map_err(|e| match e {
                // Opening the session needs the provider; reaching the bus
                // does not. A generic D-Bus failure here is about the bus.
                dbus_secret_service::Error::Dbus(_) => classify(e, Case::NoSession),
                other => classify(other, Case::NoProvider),
            })?;
        let collection = match service.get_default_collection() {
            Ok(c) => c,
            Err(dbus_secret_service::Error::NoResult) => {
                return Err(KeychainError::NoProvider {
                    cause: "the Secret Service has no default collection".into(),
                });
            }
            Err(e) => return Err(classify(e, Case::NoProvider)),
        };
        match collection.is_locked() {
            Ok(false) => Ok(()),
            Ok(true) => Err(KeychainError::Locked { cause: None }),
            Err(e) => Err(classify(e, Case::NoProvider)),
        }
    }
}
