//! App registrations, as a tenant holds them: who may sign in
//! (`sign_in_audience`), where the sign-in may return (redirect URIs, each
//! with its platform), whether public client flows are allowed, whether the
//! app's id_tokens are signed with a custom key, and how refresh tokens
//! rotate.
//!
//! A strict simulator (the default) knows only registered apps; a lenient
//! one answers an unknown client id as if it were registered with
//! [`AppRegistration::lenient`].

use serde::{Deserialize, Serialize};

/// Which accounts an app accepts (the registration's "Supported account types").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Accounts in the home tenant only (`AzureADMyOrg`).
    Single,
    /// Work or school accounts of any tenant (`AzureADMultipleOrgs`).
    Multi,
    /// Any work or school account, and personal Microsoft accounts.
    MultiAndPersonal,
    /// Personal Microsoft accounts only.
    Personal,
}

impl Audience {
    /// Whether work or school accounts of tenants other than the home tenant may sign in.
    pub fn other_tenants(self) -> bool {
        matches!(self, Self::Multi | Self::MultiAndPersonal)
    }

    /// Whether personal Microsoft accounts may sign in.
    pub fn personal(self) -> bool {
        matches!(self, Self::MultiAndPersonal | Self::Personal)
    }

    /// Whether work or school accounts may sign in at all.
    pub fn work(self) -> bool {
        self != Self::Personal
    }
}

/// The platform a redirect URI is registered under; Entra decides how to
/// treat a redemption by the platform of the redirect URI it matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// "Mobile and desktop applications": a public client.
    MobileDesktop,
    /// "Single-page application": redeemed cross-origin (with an `Origin`
    /// header); refresh tokens live 24 hours.
    Spa,
    /// "Web": a confidential client, redeemed with a secret.
    Web,
}

/// One registered redirect URI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedirectUri {
    /// The URI as registered.
    pub uri: String,
    /// Its platform.
    pub platform: Platform,
}

/// How refresh tokens rotate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rotation {
    /// Entra's: every refresh returns a new refresh token and the old ones stay valid.
    #[default]
    Entra,
    /// Other OpenID providers' (oidc-provider, Okta, Auth0): a refresh token
    /// works once; presenting a used one revokes the whole grant.
    Strict,
}

/// An app registration (`POST /_sim/apps`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppRegistration {
    /// The application (client) id.
    pub client_id: String,
    /// The tenant the app is registered in: a tenant id or one of its domains.
    #[serde(default = "default_home")]
    pub home_tenant: String,
    /// Who may sign in.
    pub sign_in_audience: Audience,
    /// The redirect URIs, each with its platform.
    #[serde(default)]
    pub redirect_uris: Vec<RedirectUri>,
    /// "Allow public client flows" (the device code flow needs it).
    #[serde(default)]
    pub public_client_flows: bool,
    /// id_tokens are signed with a key published only at `jwks_uri?appid=`.
    #[serde(default)]
    pub custom_signing_key: bool,
    /// Refresh-token rotation.
    #[serde(default)]
    pub rotation: Rotation,
    /// The client secret a `web` redemption must carry; never shown back.
    #[serde(default, skip_serializing)]
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for AppRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppRegistration")
            .field("client_id", &self.client_id)
            .field("home_tenant", &self.home_tenant)
            .field("sign_in_audience", &self.sign_in_audience)
            .field("redirect_uris", &self.redirect_uris)
            .field("public_client_flows", &self.public_client_flows)
            .field("custom_signing_key", &self.custom_signing_key)
            .field("rotation", &self.rotation)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// The default home tenant: the one `alice@contoso.test` belongs to.
pub const DEFAULT_HOME_TENANT: &str = "contoso.test";

fn default_home() -> String {
    DEFAULT_HOME_TENANT.to_owned()
}

/// Why a registration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    /// The client id is empty or has characters a client id never has.
    #[error("`{0}` is not a client id (letters, digits, dashes, dots and underscores only)")]
    ClientId(String),
    /// A redirect URI that Entra would not accept.
    #[error(
        "the redirect URI `{0}` cannot be registered: use https, or http on localhost or 127.0.0.1"
    )]
    RedirectUri(String),
    /// A `web` redirect URI without a secret to redeem it with.
    #[error("a web redirect URI needs a client_secret to redeem codes with")]
    NoSecret,
}

impl AppRegistration {
    /// A desktop app as most tests use it: any work or school account,
    /// `http://localhost` under "Mobile and desktop applications", public
    /// client flows allowed, Entra's rotation.
    pub fn desktop(client_id: &str) -> Self {
        Self {
            client_id: client_id.to_owned(),
            home_tenant: default_home(),
            sign_in_audience: Audience::Multi,
            redirect_uris: vec![RedirectUri {
                uri: "http://localhost".to_owned(),
                platform: Platform::MobileDesktop,
            }],
            public_client_flows: true,
            custom_signing_key: false,
            rotation: Rotation::Entra,
            client_secret: None,
        }
    }

    /// What a lenient simulator assumes for a client id nobody registered:
    /// any account, any redirect URI, public client flows.
    pub fn lenient(client_id: &str) -> Self {
        Self {
            sign_in_audience: Audience::MultiAndPersonal,
            redirect_uris: Vec::new(),
            ..Self::desktop(client_id)
        }
    }

    /// Checks the registration as the portal would.
    pub fn check(&self) -> Result<(), RegistrationError> {
        let id_ok = !self.client_id.is_empty()
            && self.client_id.len() <= 128
            && self
                .client_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
        if !id_ok {
            return Err(RegistrationError::ClientId(self.client_id.clone()));
        }
        for r in &self.redirect_uris {
            let ok = url::Url::parse(&r.uri).is_ok_and(|u| match u.scheme() {
                "https" => true,
                "http" => is_loopback(&u),
                _ => r.platform == Platform::MobileDesktop,
            });
            if !ok {
                return Err(RegistrationError::RedirectUri(r.uri.clone()));
            }
        }
        let web = self
            .redirect_uris
            .iter()
            .any(|r| r.platform == Platform::Web);
        if web && self.client_secret.as_deref().is_none_or(str::is_empty) {
            return Err(RegistrationError::NoSecret);
        }
        Ok(())
    }

    /// The registered redirect URI `presented` matches, if any. A lenient
    /// registration (no URIs) accepts any URI as a mobile and desktop one.
    pub fn redirect(&self, presented: &str) -> Option<Platform> {
        if self.redirect_uris.is_empty() {
            return Some(Platform::MobileDesktop);
        }
        self.redirect_uris
            .iter()
            .find(|r| redirect_matches(&r.uri, presented))
            .map(|r| r.platform)
    }

    /// Whether `secret` is this app's client secret.
    pub fn secret_matches(&self, secret: &str) -> bool {
        self.client_secret.as_deref().is_some_and(|s| s == secret)
    }
}

fn is_loopback(u: &url::Url) -> bool {
    matches!(u.host_str(), Some("localhost" | "127.0.0.1"))
}

/// Entra's redirect URI matching: exact, except that for `localhost` and
/// `127.0.0.1` the port is ignored (the path must still match exactly, and
/// `localhost` and `127.0.0.1` are different hosts). `[::1]` is not a
/// loopback exception on Entra, so it matches only exactly.
pub fn redirect_matches(registered: &str, presented: &str) -> bool {
    if registered == presented {
        return true;
    }
    let (Ok(a), Ok(b)) = (url::Url::parse(registered), url::Url::parse(presented)) else {
        return false;
    };
    if !is_loopback(&a) {
        return a == b;
    }
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.path() == b.path()
        && a.query() == b.query()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_ignore_the_port_only() {
        let m = redirect_matches;
        assert!(m("http://localhost", "http://localhost:53120/"));
        assert!(m("http://localhost/cb", "http://localhost:53120/cb"));
        assert!(m("http://127.0.0.1:1/cb", "http://127.0.0.1:2/cb"));
        assert!(!m("http://127.0.0.1/cb", "http://127.0.0.1:2/other"));
        assert!(!m("http://localhost/cb", "http://localhost:2/CB"));
        assert!(!m("http://localhost/", "http://127.0.0.1:5000/"));
        assert!(!m("http://127.0.0.1/", "http://localhost:5000/"));
        assert!(!m("http://[::1]/", "http://[::1]:5000/"));
        assert!(!m("https://app.test:1/cb", "https://app.test:2/cb"));
        assert!(m("https://app.test/cb", "https://app.test/cb"));
        assert!(!m("http://localhost/", "https://localhost:5000/"));
    }

    #[test]
    fn the_platform_comes_from_the_matched_uri() {
        let mut app = AppRegistration::desktop("a");
        app.redirect_uris.push(RedirectUri {
            uri: "http://localhost/spa".into(),
            platform: Platform::Spa,
        });
        assert_eq!(
            app.redirect("http://localhost:9/"),
            Some(Platform::MobileDesktop)
        );
        assert_eq!(app.redirect("http://localhost:9/spa"), Some(Platform::Spa));
        assert_eq!(app.redirect("http://localhost:9/other"), None);
        assert_eq!(
            AppRegistration::lenient("a").redirect("https://x.test/y"),
            Some(Platform::MobileDesktop)
        );
    }

    #[test]
    fn registrations_entra_would_refuse_are_refused() {
        assert_eq!(AppRegistration::desktop("a").check(), Ok(()));
        let bad_id = AppRegistration::desktop("a b");
        assert!(matches!(
            bad_id.check(),
            Err(RegistrationError::ClientId(_))
        ));
        let mut http = AppRegistration::desktop("a");
        http.redirect_uris[0].uri = "http://app.test/cb".into();
        assert!(matches!(
            http.check(),
            Err(RegistrationError::RedirectUri(_))
        ));
        let mut web = AppRegistration::desktop("a");
        web.redirect_uris[0].platform = Platform::Web;
        assert_eq!(web.check(), Err(RegistrationError::NoSecret));
        web.client_secret = Some("s".into());
        assert_eq!(web.check(), Ok(()));
    }

    #[test]
    fn the_secret_is_neither_shown_nor_printed() {
        let mut app = AppRegistration::desktop("a");
        app.client_secret = Some("hunter2".into());
        assert!(!format!("{app:?}").contains("hunter2"));
        let json = serde_json::to_string(&app).expect("json");
        assert!(
            !json.contains("hunter2") && !json.contains("client_secret"),
            "{json}"
        );
        assert!(app.secret_matches("hunter2") && !app.secret_matches("x"));
    }

    #[test]
    fn the_contract_names_read_as_the_issue_spells_them() {
        let app: AppRegistration = serde_json::from_value(serde_json::json!({
            "client_id": "c", "home_tenant": "contoso.test", "sign_in_audience": "multi_and_personal",
            "redirect_uris": [{"uri": "http://localhost", "platform": "mobile_desktop"},
                              {"uri": "https://app.test/spa", "platform": "spa"},
                              {"uri": "https://app.test/web", "platform": "web"}],
            "public_client_flows": true, "custom_signing_key": true, "rotation": "strict",
            "client_secret": "s"
        }))
        .expect("the issue's shape");
        assert_eq!(app.sign_in_audience, Audience::MultiAndPersonal);
        assert_eq!(app.rotation, Rotation::Strict);
        assert_eq!(app.redirect_uris[2].platform, Platform::Web);
        for audience in ["single", "multi", "personal"] {
            let a: Audience = serde_json::from_value(audience.into()).expect("audience");
            assert_eq!(serde_json::to_value(a).ok(), Some(audience.into()));
        }
    }
}
