//! How a client must present itself at the token endpoint, decided as Entra
//! decides it: by the platform of the redirect URI the grant came through
//! (for a code, the one it matched; for a refresh token, the one its grant
//! started with), or for the device code flow by "Allow public client flows".
//!
//! - `web`: a confidential client; the request carries the app's secret
//!   (7000218 without one, 7000215 with a wrong one);
//! - `spa`: redeemed cross-origin, so the request carries an `Origin`
//!   header (9002327 without one);
//! - `mobile_desktop`: a public client; no secret (700025) and no `Origin`
//!   (9002326, cross-origin redemption being for single-page apps only).

use std::collections::HashMap;

use crate::failure::Failure;
use crate::grant::param;
use crate::registry::{AppRegistration, Platform};

/// What the token request shows of its client.
#[derive(Debug, Clone, Copy)]
pub struct Presented<'a> {
    /// `client_secret` (or a `client_assertion`, taken as proof).
    pub secret: Option<&'a str>,
    /// Whether a `client_assertion` came.
    pub assertion: bool,
    /// Whether the request had an `Origin` header (a browser's cross-origin call).
    pub origin: bool,
}

impl<'a> Presented<'a> {
    /// Reads the form and the `Origin` header.
    pub fn read(params: &'a HashMap<String, String>, origin: bool) -> Self {
        Self {
            secret: param(params, "client_secret"),
            assertion: param(params, "client_assertion").is_some(),
            origin,
        }
    }

    fn credential(&self) -> bool {
        self.secret.is_some() || self.assertion
    }
}

fn secret_required() -> Failure {
    Failure::with_text(
        7000218,
        "The request body must carry a 'client_secret' or 'client_assertion': the app is a confidential client for this grant (its redirect URI is registered as a web one, or public client flows are not allowed).".into(),
    )
}

/// Checks the client of a grant that came through a redirect URI of `platform`.
pub fn check(
    app: &AppRegistration,
    platform: Platform,
    presented: Presented<'_>,
) -> Result<(), Failure> {
    match platform {
        Platform::Web => {
            if !presented.credential() {
                return Err(secret_required());
            }
            if presented.assertion || presented.secret.is_some_and(|s| app.secret_matches(s)) {
                return Ok(());
            }
            Err(Failure::with_text(
                7000215,
                format!(
                    "The client secret sent for the app '{}' is not one of its secrets. Send the secret's value (not its id), and check that it has not expired.",
                    app.client_id
                ),
            ))
        }
        Platform::Spa if !presented.origin => Err(Failure::with_text(
            9002327,
            "This grant came through a redirect URI registered as a single-page application, so it may be redeemed only by a cross-origin request from the browser (one with an Origin header). Register the redirect URI under \"Mobile and desktop applications\" for a native app.".into(),
        )),
        Platform::Spa => Ok(()),
        Platform::MobileDesktop if presented.origin => Err(Failure::with_text(
            9002326,
            "Cross-origin redemption is allowed only for redirect URIs registered as a single-page application.".into(),
        )),
        Platform::MobileDesktop if presented.credential() => Err(Failure::with_text(
            700025,
            format!(
                "The app '{}' is a public client for this grant, so it must send neither 'client_secret' nor 'client_assertion'.",
                app.client_id
            ),
        )),
        Platform::MobileDesktop => Ok(()),
    }
}

/// Checks the client of a device code poll: the flow needs "Allow public client flows".
pub fn check_device(app: &AppRegistration, presented: Presented<'_>) -> Result<(), Failure> {
    if !app.public_client_flows && !presented.credential() {
        return Err(secret_required());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(secret: Option<&str>, origin: bool) -> Presented<'_> {
        Presented {
            secret,
            assertion: false,
            origin,
        }
    }

    fn code(r: Result<(), Failure>) -> Option<u32> {
        r.err().map(|f| f.code)
    }

    #[test]
    fn the_platform_decides_what_the_client_must_show() {
        let mut app = AppRegistration::desktop("a");
        app.client_secret = Some("s".into());
        let check = |p, s| code(check(&app, p, s));
        assert_eq!(check(Platform::Web, shown(None, false)), Some(7000218));
        assert_eq!(check(Platform::Web, shown(Some("x"), false)), Some(7000215));
        assert_eq!(check(Platform::Web, shown(Some("s"), false)), None);
        assert_eq!(check(Platform::Spa, shown(None, false)), Some(9002327));
        assert_eq!(check(Platform::Spa, shown(None, true)), None);
        assert_eq!(check(Platform::MobileDesktop, shown(None, false)), None);
        assert_eq!(
            check(Platform::MobileDesktop, shown(None, true)),
            Some(9002326)
        );
        assert_eq!(
            check(Platform::MobileDesktop, shown(Some("s"), false)),
            Some(700025)
        );
    }

    #[test]
    fn the_device_flow_needs_public_client_flows() {
        let mut app = AppRegistration::desktop("a");
        assert_eq!(code(check_device(&app, shown(None, false))), None);
        app.public_client_flows = false;
        assert_eq!(code(check_device(&app, shown(None, false))), Some(7000218));
    }
}
