//! Why the keychain can't be used, in words a user can act on.
//!
//! Reconnect fails closed: when no keychain is reachable it stops with one of
//! these errors and never stores a token anywhere else. Each case names the
//! situation and what to do about it. None of these messages can contain a
//! token: they are built from fixed text and the keychain's own error.

type Cause = Box<dyn std::error::Error + Send + Sync>;

/// A keychain failure, classified.
#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    /// There is no D-Bus session bus to talk to (Linux and BSD).
    #[error(
        "no keychain: there is no D-Bus session bus, so the Secret Service cannot be reached. \
         Run Reconnect inside a desktop session, or start one for this shell \
         (for example `dbus-run-session -- sh` with gnome-keyring running inside it). \
         Tokens are never written to disk instead"
    )]
    NoSession {
        /// The underlying error.
        #[source]
        cause: Cause,
    },
    /// The session bus works but nothing provides the Secret Service.
    #[error(
        "no keychain: the D-Bus session has no Secret Service provider (org.freedesktop.secrets). \
         Install and start one, such as gnome-keyring (`gnome-keyring-daemon --start --components=secrets`) \
         or KeePassXC with Secret Service integration enabled. Tokens are never written to disk instead"
    )]
    NoProvider {
        /// The underlying error.
        #[source]
        cause: Cause,
    },
    /// The keychain (collection) is locked.
    #[error(
        "keychain locked: the default keyring collection is locked. Unlock it \
         (log in to the desktop session, open your keyring manager such as Seahorse, or run \
         `gnome-keyring-daemon --unlock` and type the keyring password) and try again"
    )]
    Locked {
        /// The underlying error, if any.
        #[source]
        cause: Option<Cause>,
    },
    /// The keychain refused access (prompt dismissed, policy, sandbox).
    #[error(
        "keychain access denied: the keychain refused Reconnect access (an unlock or permission \
         prompt was dismissed, or a policy or sandbox blocks it). Allow Reconnect in the keychain's \
         prompt or settings and try again"
    )]
    AccessDenied {
        /// The underlying error.
        #[source]
        cause: Cause,
    },
    /// One entry is larger than this keychain accepts.
    #[error(
        "a keychain entry of {size} bytes is larger than this keychain accepts ({limit} bytes)"
    )]
    TooLarge {
        /// Size of the rejected value, in the keychain's own units.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Any other keychain failure.
    #[error("the keychain failed: {cause}")]
    Platform {
        /// The underlying error.
        #[source]
        cause: Cause,
    },
    /// A failure injected by the in-memory test keychain.
    #[error("the test keychain {0}")]
    Injected(&'static str),
}

impl KeychainError {
    /// A short, stable name of the case (for JSON output and tests):
    /// `no_session`, `no_provider`, `locked`, `access_denied`, `too_large`,
    /// `platform`, `injected`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NoSession { .. } => "no_session",
            Self::NoProvider { .. } => "no_provider",
            Self::Locked { .. } => "locked",
            Self::AccessDenied { .. } => "access_denied",
            Self::TooLarge { .. } => "too_large",
            Self::Platform { .. } => "platform",
            Self::Injected(_) => "injected",
        }
    }

    /// What a status display calls the keychain when this error stops it
    /// being used: `locked`, `denied` (access refused) or `unavailable`
    /// (no bus, no provider, or any other failure).
    pub fn availability(&self) -> &'static str {
        match self {
            Self::Locked { .. } => "locked",
            Self::AccessDenied { .. } => "denied",
            Self::NoSession { .. }
            | Self::NoProvider { .. }
            | Self::TooLarge { .. }
            | Self::Platform { .. }
            | Self::Injected(_) => "unavailable",
        }
    }

    /// Classifies an error from the `keyring` crate.
    pub fn from_keyring(err: keyring::Error) -> Self {
        use keyring::Error as K;
        match err {
            K::PlatformFailure(cause) => classify_platform(cause, false),
            K::NoStorageAccess(cause) => classify_platform(cause, true),
            K::TooLong(what, limit) => Self::TooLarge {
                size: what.len(),
                limit: limit as usize,
            },
            other => Self::Platform {
                cause: Box::new(other),
            },
        }
    }
}

/// Classifies a boxed platform error; `denied` is keyring's hint that the
/// store refused access rather than failed.
fn classify_platform(cause: Cause, denied: bool) -> KeychainError {
    #[cfg(target_os = "linux")]
    {
        if let Some(ss) = cause.downcast_ref::<dbus_secret_service::Error>()
            && let Some(kind) = secret_service_case(ss)
        {
            return kind.with_cause(flatten(ss).unwrap_or(cause));
        }
    }
    if denied {
        KeychainError::AccessDenied { cause }
    } else {
        KeychainError::Platform { cause }
    }
}

/// The fail-closed cases, without their cause.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    NoSession,
    NoProvider,
    Locked,
    AccessDenied,
}

#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
impl Case {
    pub(crate) fn with_cause(self, cause: Cause) -> KeychainError {
        match self {
            Case::NoSession => KeychainError::NoSession { cause },
            Case::NoProvider => KeychainError::NoProvider { cause },
            Case::Locked => KeychainError::Locked { cause: Some(cause) },
            Case::AccessDenied => KeychainError::AccessDenied { cause },
        }
    }
}

/// Which case a D-Bus error name means, if it is one of ours.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) fn dbus_error_case(name: &str) -> Option<Case> {
    let short = name
        .strip_prefix("org.freedesktop.DBus.Error.")
        .unwrap_or(name);
    match short {
        // The bus itself is missing or unusable.
        "NoServer" | "FileNotFound" | "BadAddress" | "NotSupported" | "Disconnected"
        | "NoNetwork" | "IOError" | "Spawn.ExecFailed" | "Spawn.ForkFailed" => {
            Some(Case::NoSession)
        }
        // The bus works; nobody owns (or can be started as) the Secret Service.
        "ServiceUnknown"
        | "NameHasNoOwner"
        | "Spawn.ChildExited"
        | "Spawn.ServiceNotFound"
        | "Spawn.FailedToSetup"
        | "Spawn.ChildSignaled"
        | "TimedOut"
        | "NoReply" => Some(Case::NoProvider),
        "AccessDenied" | "AuthFailed" | "InteractiveAuthorizationRequired" => {
            Some(Case::AccessDenied)
        }
        _ if name == "org.freedesktop.Secret.Error.IsLocked" => Some(Case::Locked),
        _ => None,
    }
}

/// A D-Bus error reduced to its name and message (the Secret Service
/// crate's error would otherwise print the same message twice).
#[cfg(target_os = "linux")]
#[derive(Debug, thiserror::Error)]
#[error("D-Bus said {name}: {message}")]
pub(crate) struct BusError {
    name: String,
    message: String,
}

/// The D-Bus error inside a Secret Service error, as a one-level cause.
#[cfg(target_os = "linux")]
pub(crate) fn flatten(err: &dbus_secret_service::Error) -> Option<Cause> {
    match err {
        dbus_secret_service::Error::Dbus(e) => Some(Box::new(BusError {
            name: e.name().unwrap_or("an unnamed error").to_owned(),
            message: e.message().unwrap_or("").to_owned(),
        })),
        _ => None,
    }
}

#[cfg(target_os = "linux")]
pub(crate) fn secret_service_case(err: &dbus_secret_service::Error) -> Option<Case> {
    use dbus_secret_service::Error as E;
    match err {
        E::Dbus(e) => e.name().and_then(dbus_error_case),
        E::Locked => Some(Case::Locked),
        E::Prompt => Some(Case::AccessDenied),
        E::Unavailable => Some(Case::NoProvider),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dbus_names_map_to_the_right_case() {
        let cases = [
            ("org.freedesktop.DBus.Error.NoServer", Some(Case::NoSession)),
            (
                "org.freedesktop.DBus.Error.FileNotFound",
                Some(Case::NoSession),
            ),
            (
                "org.freedesktop.DBus.Error.NotSupported",
                Some(Case::NoSession),
            ),
            (
                "org.freedesktop.DBus.Error.ServiceUnknown",
                Some(Case::NoProvider),
            ),
            (
                "org.freedesktop.DBus.Error.NameHasNoOwner",
                Some(Case::NoProvider),
            ),
            (
                "org.freedesktop.DBus.Error.AccessDenied",
                Some(Case::AccessDenied),
            ),
            ("org.freedesktop.Secret.Error.IsLocked", Some(Case::Locked)),
            ("org.freedesktop.Secret.Error.NoSuchObject", None),
        ];
        for (name, want) in cases {
            assert_eq!(dbus_error_case(name), want, "{name}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn keyring_errors_from_the_secret_service_are_classified() {
        use dbus_secret_service::Error as E;
        let denied = dbus::Error::new_custom("org.freedesktop.DBus.Error.AccessDenied", "nope");
        let cases: Vec<(keyring::Error, &str)> = vec![
            (
                keyring::Error::PlatformFailure(Box::new(E::Dbus(denied))),
                "access_denied",
            ),
            (
                keyring::Error::NoStorageAccess(Box::new(E::Locked)),
                "locked",
            ),
            (
                keyring::Error::NoStorageAccess(Box::new(E::Prompt)),
                "access_denied",
            ),
            (
                keyring::Error::PlatformFailure(Box::new(E::Unavailable)),
                "no_provider",
            ),
            (
                keyring::Error::PlatformFailure(Box::new(E::Dbus(dbus::Error::new_custom(
                    "org.freedesktop.DBus.Error.NoServer",
                    "refused",
                )))),
                "no_session",
            ),
            (
                keyring::Error::PlatformFailure(Box::new(E::Parse)),
                "platform",
            ),
            (
                keyring::Error::NoStorageAccess(Box::new(std::io::Error::other("denied"))),
                "access_denied",
            ),
        ];
        for (err, want) in cases {
            let shown = format!("{err}");
            assert_eq!(KeychainError::from_keyring(err).kind(), want, "{shown}");
        }
    }

    #[test]
    fn availability_names_locked_denied_and_unavailable() {
        let cause = || -> Cause { Box::new(std::io::Error::other("x")) };
        let cases = [
            (KeychainError::Locked { cause: None }, "locked"),
            (KeychainError::AccessDenied { cause: cause() }, "denied"),
            (KeychainError::NoSession { cause: cause() }, "unavailable"),
            (KeychainError::NoProvider { cause: cause() }, "unavailable"),
            (KeychainError::Platform { cause: cause() }, "unavailable"),
        ];
        for (err, want) in cases {
            assert_eq!(err.availability(), want, "{}", err.kind());
        }
    }

    #[test]
    fn every_case_says_what_to_do() {
        let cause = || -> Cause { Box::new(std::io::Error::other("x")) };
        let messages = [
            KeychainError::NoSession { cause: cause() }.to_string(),
            KeychainError::NoProvider { cause: cause() }.to_string(),
            KeychainError::Locked { cause: None }.to_string(),
            KeychainError::AccessDenied { cause: cause() }.to_string(),
        ];
        assert!(messages[0].contains("no D-Bus session bus"));
        assert!(messages[1].contains("no Secret Service provider"));
        assert!(messages[2].contains("locked") && messages[2].contains("Unlock"));
        assert!(messages[3].contains("access denied") && messages[3].contains("Allow"));
        for m in &messages[..2] {
            assert!(m.contains("never written to disk"), "{m}");
        }
    }
}
