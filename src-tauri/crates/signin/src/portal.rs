//! Opening the sign-in URL through the desktop portal
//! (`org.freedesktop.portal.OpenURI` on the session bus) where there is
//! one. The URL then travels over D-Bus instead of as a command-line
//! argument of `xdg-open`, where any local user could read its `state` and
//! PKCE challenge in `/proc/*/cmdline` while it runs.

use std::collections::HashMap;

use url::Url;
use zbus::zvariant::Value;

/// The portal's bus name.
pub const PORTAL_NAME: &str = "org.freedesktop.portal.Desktop";
/// The portal's object path.
pub const PORTAL_PATH: &str = "/org/freedesktop/portal/desktop";
/// The interface that opens URIs.
pub const OPEN_URI: &str = "org.freedesktop.portal.OpenURI";

/// Why the portal did not open the URL (the caller falls back to `xdg-open`).
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// No session bus, or no portal on it.
    #[error("no desktop portal on the session bus")]
    Unavailable(#[source] zbus::Error),
    /// The portal refused the request.
    #[error("the desktop portal did not open the address")]
    Refused(#[source] zbus::Error),
}

/// Asks the portal to open `url` in the user's browser.
pub fn open_uri(url: &Url) -> Result<(), PortalError> {
    let bus = zbus::blocking::Connection::session().map_err(PortalError::Unavailable)?;
    let owned = zbus::blocking::fdo::DBusProxy::new(&bus)
        .and_then(|dbus| {
            dbus.name_has_owner(PORTAL_NAME.try_into().map_err(zbus::Error::from)?)
                .map_err(zbus::Error::from)
        })
        .map_err(PortalError::Unavailable)?;
    if !owned {
        return Err(PortalError::Unavailable(zbus::Error::Failure(
            "the portal's name has no owner".into(),
        )));
    }
    let options: HashMap<&str, Value<'_>> = HashMap::new();
    bus.call_method(
        Some(PORTAL_NAME),
        PORTAL_PATH,
        Some(OPEN_URI),
        "OpenURI",
        &("", url.as_str(), options),
    )
    .map(|_| ())
    .map_err(PortalError::Refused)
}
