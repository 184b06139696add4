//! The keychain, vault, database, data directory and lock errors in the
//! app's words.

use reconnect_engine::lock::LockError;
use reconnect_store::{HomeError, KeychainError, StoreError, VaultError};

use super::{Failure, FailureCode, chain, mask_credentials};

/// A keychain failure in the app's words (also for views that show the
/// keychain's state without a failed command).
pub fn keychain(err: &KeychainError) -> Failure {
    use FailureCode::{KeychainDenied, KeychainLocked, KeychainUnavailable};
    let never_on_disk = "Tokens are never written anywhere else instead.";
    match err {
        KeychainError::Locked { .. } => Failure::new(
            KeychainLocked,
            "Your keychain is locked. Unlock it (log in to the desktop again, or unlock \
             the login keyring in your keyring manager) and try again.",
        ),
        KeychainError::AccessDenied { .. } => Failure::new(
            KeychainDenied,
            "Your keychain refused Reconnect access (a prompt was dismissed, or a policy \
             or sandbox blocks it). Allow Reconnect when the keychain asks, then try again.",
        ),
        KeychainError::NoSession { .. } => Failure::new(
            KeychainUnavailable,
            format!(
                "No keychain can be reached: this session has no D-Bus session bus. Start \
                 Reconnect from your desktop session. {never_on_disk}"
            ),
        ),
        KeychainError::NoProvider { .. } => Failure::new(
            KeychainUnavailable,
            format!(
                "No keychain can be reached: nothing in this session provides the Secret \
                 Service. Install or start a keyring such as GNOME Keyring, or KeePassXC \
                 with its Secret Service integration on. {never_on_disk}"
            ),
        ),
        KeychainError::TooLarge { size, limit } => Failure::new(
            KeychainUnavailable,
            format!("Your keychain refused an entry of {size} bytes (it takes at most {limit})."),
        ),
        KeychainError::Platform { cause } => Failure::new(
            KeychainUnavailable,
            format!("Your keychain failed: {}.", chain(cause.as_ref())),
        ),
        KeychainError::Injected(what) => {
            Failure::new(KeychainUnavailable, format!("The test keychain {what}."))
        }
    }
}

impl From<KeychainError> for Failure {
    fn from(err: KeychainError) -> Self {
        keychain(&err)
    }
}

pub(super) fn vault(err: &VaultError) -> Failure {
    match err {
        VaultError::Keychain(k) => keychain(k),
        VaultError::Damaged { what, .. } => Failure::new(
            FailureCode::ReconnectNeeded,
            format!(
                "The tokens stored for this account are damaged ({what}). Reconnect the \
                 account to replace them."
            ),
        ),
        VaultError::Lock { path, source } => Failure::new(
            FailureCode::Storage,
            format!(
                "The token lock file {} could not be taken: {source}.",
                path.display()
            ),
        ),
    }
}

impl From<VaultError> for Failure {
    fn from(err: VaultError) -> Self {
        vault(&err)
    }
}

pub(super) fn home(err: &HomeError) -> Failure {
    let message = match err {
        HomeError::Unknown => {
            "Reconnect cannot find a data directory: neither HOME nor XDG_DATA_HOME is set."
                .to_owned()
        }
        HomeError::Empty => {
            "The data directory setting RECONNECT_HOME is empty; unset it or point it at a \
             directory, then start Reconnect again."
                .to_owned()
        }
        HomeError::Io { path, source } => format!(
            "The data directory {} cannot be used: {source}.",
            path.display()
        ),
    };
    Failure::new(FailureCode::Storage, message)
}

impl From<HomeError> for Failure {
    fn from(err: HomeError) -> Self {
        home(&err)
    }
}

pub(super) fn store(err: &StoreError) -> Failure {
    use FailureCode::{DuplicateName, InvalidInput, Storage, UnknownAccount};
    match err {
        StoreError::DuplicateName(name) => Failure::new(
            DuplicateName,
            format!("An account named {name} exists already. Pick another name."),
        ),
        StoreError::UnknownAccount(name) => Failure::new(
            UnknownAccount,
            format!("There is no account named {name}; it may have been removed."),
        ),
        StoreError::UnknownAccountId(_) => Failure::new(
            UnknownAccount,
            "That account no longer exists; it was removed meanwhile.",
        ),
        StoreError::InvalidAccount(why) => Failure::new(
            InvalidInput,
            format!(
                "These account settings cannot be used: {}.",
                mask_credentials(why)
            ),
        ),
        StoreError::TooNew { found, known, .. } => Failure::new(
            Storage,
            format!(
                "The database was written by a newer Reconnect (schema {found}; this version \
                 knows up to {known}). Update Reconnect to open it."
            ),
        ),
        StoreError::Corrupt(what) => Failure::new(
            Storage,
            format!("The database holds a value Reconnect cannot read (in {what})."),
        ),
        StoreError::Sqlite(_) => {
            let text = err.to_string();
            let what = text.strip_prefix("database error: ").unwrap_or(&text);
            Failure::new(Storage, format!("The database failed: {what}."))
        }
        StoreError::Home(h) => home(h),
        StoreError::Vault(v) => vault(v),
    }
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Self {
        store(&err)
    }
}

pub(super) fn lock(err: &LockError) -> Failure {
    match err {
        LockError::Timeout { waited } => Failure::new(
            FailureCode::Busy,
            format!(
                "Another Reconnect process has held this account for over {} s (a refresh or \
                 a sign-in is under way); try again in a moment.",
                waited.as_secs()
            ),
        ),
        LockError::Open { .. } | LockError::Lock { .. } => Failure::new(
            FailureCode::Storage,
            format!("The account's lock could not be taken: {}.", chain(err)),
        ),
    }
}

impl From<reconnect_store::GrantError> for Failure {
    fn from(err: reconnect_store::GrantError) -> Self {
        use reconnect_store::GrantError;
        match &err {
            GrantError::Lock(e) => lock(e),
            GrantError::Vault(e) => vault(e),
            GrantError::Store(e) | GrantError::Metadata(e) => store(e),
        }
    }
}

impl From<LockError> for Failure {
    fn from(err: LockError) -> Self {
        lock(&err)
    }
}
