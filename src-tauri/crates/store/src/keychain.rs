//! The OS keychain (macOS Keychain, Windows Credential Manager, the Secret
//! Service on Linux), one keychain service per profile: through the `keyring`
//! crate on macOS and Windows, directly on Linux.
//!
//! On Linux the Secret Service is spoken to directly, over one connection
//! and session per process (see `secret_service`), and every vault operation
//! first checks, without prompting or opening a session, that the session
//! bus, a provider and an unlocked default collection are there; otherwise it
//! fails with the matching [`KeychainError`]. There is no fallback: without a
//! keychain, no token is stored.

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

    #[cfg(not(target_os = "linux"))]
    fn entry(&self, name: &str) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(&self.service, name).map_err(KeychainError::from_keyring)
    }
}

/// One keychain conversation at a time per process (the other platforms;
/// on Linux the Secret Service link serializes its own calls).
#[cfg(not(target_os = "linux"))]
static CALLS: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(not(target_os = "linux"))]
fn turn() -> std::sync::MutexGuard<'static, ()> {
    CALLS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(target_os = "linux")]
impl Keychain for OsKeychain {
    /// The Secret Service stores secrets of any practical size, so a token
    /// set is one item.
    fn entry_limit(&self) -> usize {
        usize::MAX
    }

    fn check(&self) -> Result<(), KeychainError> {
        crate::secret_service::check()
    }

    fn read(&self, entry: &str) -> Result<Option<String>, KeychainError> {
        crate::secret_service::read(&self.service, entry)
    }

    fn write(&self, entry: &str, value: &str) -> Result<(), KeychainError> {
        crate::secret_service::write(&self.service, entry, value)
    }

    fn erase(&self, entry: &str) -> Result<(), KeychainError> {
        crate::secret_service::erase(&self.service, entry)
    }

    fn names(&self) -> Result<Option<Vec<String>>, KeychainError> {
        crate::secret_service::names(&self.service).map(Some)
    }
}

#[cfg(not(target_os = "linux"))]
impl Keychain for OsKeychain {
    /// The macOS Keychain holds generic passwords of any practical size, so a
    /// token set is one item there too; Windows Credential Manager keeps the
    /// trait's 2,560-byte limit (parts under a manifest).
    #[cfg(target_os = "macos")]
    fn entry_limit(&self) -> usize {
        usize::MAX
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
