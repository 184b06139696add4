//! Where a provider's endpoints are.
//!
//! - Microsoft Entra: by convention, `{authority}/{tenant}/oauth2/v2.0/authorize`,
//!   `/token` and `/devicecode` (RFC 8628 device authorization); its
//!   discovery document (for the JWKS and the issuer) sits at
//!   `{authority}/{tenant}/v2.0/.well-known/openid-configuration`.
//! - Azure AD B2C: the tenant carries the policy, `contoso.onmicrosoft.com/B2C_1_signin`,
//!   and every path has it after the tenant (`{authority}/{tenant}/{policy}/oauth2/v2.0/token`,
//!   `{authority}/{tenant}/{policy}/v2.0/.well-known/openid-configuration`). B2C has no
//!   device authorization endpoint. See [`reconnect_core::authority`].
//! - Any OpenID Connect provider: from its issuer URL by OpenID Discovery
//!   (the device authorization endpoint only when the document names one).
//!
//! Multi-tenant Entra authorities (`common`, `organizations`, `consumers`)
//! publish an issuer with a `{tenantid}` placeholder; see
//! [`ProviderMetadata::issuer_for`].

use reconnect_core::authority::{self, AuthorityKind};
use serde::Deserialize;
use url::Url;

use crate::client::TokenClient;
use crate::error::FetchError;

/// The endpoints a sign-in needs, plus where to find the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEndpoints {
    /// The authorization endpoint (the browser goes here).
    pub authorize: Url,
    /// The token endpoint.
    pub token: Url,
    /// The device authorization endpoint (RFC 8628), when the provider has one.
    pub device_authorization: Option<Url>,
    /// The OpenID discovery document.
    pub discovery: Url,
}

/// Why endpoints could not be worked out.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// The authority or issuer is not a usable base URL.
    #[error("`{0}` is not a usable authority or issuer URL")]
    BadBase(String),
    /// The tenant is empty or contains characters that do not belong in a path.
    #[error("`{0}` is not a valid tenant")]
    BadTenant(String),
    /// The discovery document could not be fetched.
    #[error("OpenID discovery failed")]
    Fetch(#[from] FetchError),
    /// The discovery document names a different issuer than the one asked for.
    #[error("the discovery document names issuer `{found}`, not `{expected}`")]
    IssuerMismatch {
        /// The issuer configured for the account.
        expected: String,
        /// The issuer the document claims.
        found: String,
    },
    /// An endpoint in the document is plain http on a non-loopback host.
    #[error("the provider's {what} `{url}` is not https")]
    Insecure {
        /// Which endpoint.
        what: &'static str,
        /// Its URL.
        url: String,
    },
}

fn join_path(base: &Url, tail: &str) -> Result<Url, EndpointError> {
    let text = format!(
        "{}/{}",
        base.as_str().trim_end_matches('/'),
        tail.trim_start_matches('/')
    );
    Url::parse(&text).map_err(|_| EndpointError::BadBase(base.to_string()))
}

/// Whether `tenant` is one path segment of safe characters, or a B2C tenant
/// and policy (two segments, see [`authority::b2c_policy`]). A segment of
/// dots only would walk up the path, so it is refused.
fn microsoft_tenant_ok(tenant: &str) -> bool {
    let segment_ok = |s: &str| {
        !s.is_empty()
            && !s.chars().all(|c| c == '.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    };
    match authority::b2c_policy(tenant) {
        Some((name, _policy)) => segment_ok(name),
        None => segment_ok(tenant),
    }
}

/// Whether a URL is https, or http on a loopback host.
pub fn is_secure_or_loopback(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

impl ProviderEndpoints {
    /// Microsoft Entra endpoints for `authority` (e.g.
    /// `https://login.microsoftonline.com`) and `tenant`.
    ///
    /// A B2C tenant with its policy (`contoso.onmicrosoft.com/B2C_1_signin`)
    /// is the one `tenant` that may hold a `/`; B2C authorities (by policy or
    /// by a `*.b2clogin.com` host) get no device authorization endpoint.
    pub fn microsoft(authority: &Url, tenant: &str) -> Result<Self, EndpointError> {
        if !microsoft_tenant_ok(tenant) {
            return Err(EndpointError::BadTenant(tenant.to_owned()));
        }
        if authority.cannot_be_a_base() || !is_secure_or_loopback(authority) {
            return Err(EndpointError::BadBase(authority.to_string()));
        }
        let b2c = authority::kind(authority.as_str(), tenant) == AuthorityKind::B2c;
        let device_authorization = if b2c {
            None
        } else {
            Some(join_path(
                authority,
                &format!("{tenant}/oauth2/v2.0/devicecode"),
            )?)
        };
        Ok(Self {
            authorize: join_path(authority, &format!("{tenant}/oauth2/v2.0/authorize"))?,
            token: join_path(authority, &format!("{tenant}/oauth2/v2.0/token"))?,
            device_authorization,
            discovery: join_path(
                authority,
                &format!("{tenant}/v2.0/.well-known/openid-configuration"),
            )?,
        })
    }

    /// The discovery document's URL for an OpenID issuer.
    pub fn oidc_discovery_url(issuer: &Url) -> Result<Url, EndpointError> {
        if issuer.cannot_be_a_base() || !is_secure_or_loopback(issuer) {
            return Err(EndpointError::BadBase(issuer.to_string()));
        }
        join_path(issuer, ".well-known/openid-configuration")
    }
}

/// The parts of an OpenID discovery document Reconnect uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProviderMetadata {
    /// The issuer (may hold `{tenantid}` for multi-tenant Entra).
    pub issuer: String,
    /// Authorization endpoint.
    pub authorization_endpoint: Url,
    /// Token endpoint.
    pub token_endpoint: Url,
    /// Where the signing keys are.
    pub jwks_uri: Url,
    /// The device authorization endpoint (RFC 8628 §4), when advertised.
    #[serde(default)]
    pub device_authorization_endpoint: Option<Url>,
    /// Signing algorithms the provider uses for id_tokens.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// Whether authorization responses carry `iss` (RFC 9207 §3): then one
    /// without it is refused.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

impl ProviderMetadata {
    /// Fetches and checks a discovery document. With `expected_issuer`, the
    /// document must name that issuer (OpenID Discovery §4.3).
    pub async fn fetch(
        client: &TokenClient,
        url: &Url,
        expected_issuer: Option<&str>,
    ) -> Result<Self, EndpointError> {
        let meta: Self = client.get_json(url).await?;
        if let Some(expected) = expected_issuer
            && meta.issuer.trim_end_matches('/') != expected.trim_end_matches('/')
        {
            return Err(EndpointError::IssuerMismatch {
                expected: expected.to_owned(),
                found: meta.issuer.clone(),
            });
        }
        let device = meta.device_authorization_endpoint.iter();
        let named = [
            ("authorization endpoint", &meta.authorization_endpoint),
            ("token endpoint", &meta.token_endpoint),
            ("JWKS URI", &meta.jwks_uri),
        ];
        for (what, u) in named
            .into_iter()
            .chain(device.map(|u| ("device authorization endpoint", u)))
        {
            if !is_secure_or_loopback(u) {
                return Err(EndpointError::Insecure {
                    what,
                    url: u.to_string(),
                });
            }
        }
        Ok(meta)
    }

    /// Discovers an OpenID provider from its issuer URL alone.
    pub async fn discover(client: &TokenClient, issuer: &Url) -> Result<Self, EndpointError> {
        let url = ProviderEndpoints::oidc_discovery_url(issuer)?;
        Self::fetch(client, &url, Some(issuer.as_str())).await
    }

    /// The issuer an id_token from tenant `tid` must carry. Entra's
    /// multi-tenant documents publish `…/{tenantid}/v2.0`; the token's own
    /// `tid` fills it in.
    pub fn issuer_for(&self, tid: Option<&str>) -> Option<String> {
        if self.issuer.contains("{tenantid}") {
            tid.filter(|t| !t.is_empty())
                .map(|t| self.issuer.replace("{tenantid}", t))
        } else {
            Some(self.issuer.clone())
        }
    }

    /// Whether `found` (an authorization response's `iss`) names this
    /// issuer: the same URL, or for a multi-tenant template the template
    /// with one tenant filled in.
    pub fn names_issuer(&self, found: &str) -> bool {
        let found = found.trim_end_matches('/');
        let issuer = self.issuer.trim_end_matches('/');
        match issuer.split_once("{tenantid}") {
            None => found == issuer,
            Some((before, after)) => found
                .strip_prefix(before)
                .and_then(|rest| rest.strip_suffix(after))
                .is_some_and(|tenant| !tenant.is_empty() && !tenant.contains(['/', '?', '#'])),
        }
    }

    /// The endpoints this document names.
    pub fn endpoints(&self, discovery: Url) -> ProviderEndpoints {
        ProviderEndpoints {
            authorize: self.authorization_endpoint.clone(),
            token: self.token_endpoint.clone(),
            device_authorization: self.device_authorization_endpoint.clone(),
            discovery,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authorization_response_iss_must_fill_the_template() {
        let meta = |issuer: &str| ProviderMetadata {
            issuer: issuer.to_owned(),
            authorization_endpoint: Url::parse("https://idp.test/a").expect("url"),
            token_endpoint: Url::parse("https://idp.test/t").expect("url"),
            jwks_uri: Url::parse("https://idp.test/k").expect("url"),
            device_authorization_endpoint: None,
            id_token_signing_alg_values_supported: Vec::new(),
            authorization_response_iss_parameter_supported: false,
        };
        let multi = meta("https://login.test/{tenantid}/v2.0");
        assert!(multi.names_issuer("https://login.test/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"));
        assert!(!multi.names_issuer("https://login.test//v2.0"));
        assert!(!multi.names_issuer("https://evil.test/72f988bf/v2.0"));
        assert!(!multi.names_issuer("https://login.test/a/b/v2.0"));
        let one = meta("https://idp.test/");
        assert!(one.names_issuer("https://idp.test"));
        assert!(!one.names_issuer("https://idp.test.evil"));
    }

    #[test]
    fn microsoft_endpoints_follow_the_convention() {
        let base = Url::parse("https://login.microsoftonline.com/").unwrap();
        let e = ProviderEndpoints::microsoft(&base, "organizations").unwrap();
        assert_eq!(
            e.token.as_str(),
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/token"
        );
        assert_eq!(
            e.authorize.as_str(),
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize"
        );
        assert_eq!(
            e.device_authorization.as_ref().map(Url::as_str),
            Some("https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode")
        );
        assert_eq!(
            e.discovery.as_str(),
            "https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration"
        );
        assert!(ProviderEndpoints::microsoft(&base, "../x").is_err());
        assert!(ProviderEndpoints::microsoft(&base, "").is_err());
        let plain = Url::parse("http://login.example.com").unwrap();
        assert!(ProviderEndpoints::microsoft(&plain, "common").is_err());
        let local = Url::parse("http://127.0.0.1:4000").unwrap();
        assert!(ProviderEndpoints::microsoft(&local, "common").is_ok());
    }

    #[test]
    fn b2c_endpoints_carry_the_policy_and_no_device_flow() {
        let base = Url::parse("https://contoso.b2clogin.com").unwrap();
        let tenant = "contoso.onmicrosoft.com/B2C_1_signin";
        let e = ProviderEndpoints::microsoft(&base, tenant).unwrap();
        let root = "https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin";
        assert_eq!(
            e.authorize.as_str(),
            format!("{root}/oauth2/v2.0/authorize")
        );
        assert_eq!(e.token.as_str(), format!("{root}/oauth2/v2.0/token"));
        assert_eq!(
            e.discovery.as_str(),
            format!("{root}/v2.0/.well-known/openid-configuration")
        );
        assert_eq!(e.device_authorization, None);
        // The simulator on loopback: B2C by the policy alone.
        let local = Url::parse("http://127.0.0.1:4000").unwrap();
        let e = ProviderEndpoints::microsoft(&local, "t.onmicrosoft.com/b2c_1a_x").unwrap();
        assert_eq!(
            e.token.as_str(),
            "http://127.0.0.1:4000/t.onmicrosoft.com/b2c_1a_x/oauth2/v2.0/token"
        );
        assert_eq!(e.device_authorization, None);
        // A b2clogin.com host without a policy in the tenant: still no device flow.
        let e = ProviderEndpoints::microsoft(&base, "contoso.onmicrosoft.com").unwrap();
        assert_eq!(e.device_authorization, None);
    }

    #[test]
    fn microsoft_refuses_other_slashes_and_odd_tenants() {
        let base = Url::parse("https://login.microsoftonline.com").unwrap();
        for tenant in [
            "contoso/other",
            "contoso/B2C_1_x/extra",
            "/B2C_1_x",
            "contoso.onmicrosoft.com/",
            "../B2C_1_x",
            "..",
            "contoso/B2C_1_x?a=b",
            "contoso/B2C_1_x#f",
            "con toso/B2C_1_x",
            "contoso%2fx",
            "contoso\\B2C_1_x",
        ] {
            assert!(
                matches!(
                    ProviderEndpoints::microsoft(&base, tenant),
                    Err(EndpointError::BadTenant(_))
                ),
                "{tenant}"
            );
        }
    }

    #[test]
    fn issuer_template_is_filled_with_the_token_tenant() {
        let meta = ProviderMetadata {
            issuer: "https://login.microsoftonline.com/{tenantid}/v2.0".into(),
            authorization_endpoint: Url::parse("https://a/x").unwrap(),
            token_endpoint: Url::parse("https://a/y").unwrap(),
            jwks_uri: Url::parse("https://a/z").unwrap(),
            device_authorization_endpoint: None,
            id_token_signing_alg_values_supported: vec![],
            authorization_response_iss_parameter_supported: false,
        };
        assert_eq!(
            meta.issuer_for(Some("t-1")).as_deref(),
            Some("https://login.microsoftonline.com/t-1/v2.0")
        );
        assert_eq!(meta.issuer_for(None), None);
    }

    #[test]
    fn discovery_url_is_under_the_issuer() {
        let issuer = Url::parse("https://idp.example/realms/x").unwrap();
        assert_eq!(
            ProviderEndpoints::oidc_discovery_url(&issuer)
                .unwrap()
                .as_str(),
            "https://idp.example/realms/x/.well-known/openid-configuration"
        );
    }
}
