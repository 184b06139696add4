//! Microsoft's clouds and the kinds of authority an account signs in at.
//!
//! Entra ID answers at one host per national cloud ([`Cloud`]). Azure AD B2C
//! and Microsoft Entra External ID (CIAM) answer at a host of their own per
//! tenant, `{name}.b2clogin.com` and `{name}.ciamlogin.com`; B2C adds the
//! policy (user flow or custom policy) as a path segment after the tenant,
//! which Reconnect stores as part of the tenant: `contoso.onmicrosoft.com/B2C_1_signin`.
//!
//! This module is the one place that knows those shapes; the CLI's `add`
//! command, the app's Add-account form, the endpoint builder and the scope
//! string all ask it. Everything here is pure string work.

use serde::{Deserialize, Serialize};

/// A Microsoft national cloud, by the host its Entra ID answers at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cloud {
    /// The worldwide cloud.
    Global,
    /// Azure Government (United States).
    UsGovernment,
    /// Azure China, operated by 21Vianet.
    China,
}

impl Cloud {
    /// Every cloud, in the order a form lists them.
    pub const ALL: [Cloud; 3] = [Cloud::Global, Cloud::UsGovernment, Cloud::China];

    /// The cloud's Entra ID authority: scheme and host, no trailing slash.
    pub fn authority(self) -> &'static str {
        match self {
            Cloud::Global => "https://login.microsoftonline.com",
            Cloud::UsGovernment => "https://login.microsoftonline.us",
            Cloud::China => "https://login.chinacloudapi.cn",
        }
    }

    /// A short human name with the host, for a picker.
    pub fn label(self) -> &'static str {
        match self {
            Cloud::Global => "Global (login.microsoftonline.com)",
            Cloud::UsGovernment => "US Government (login.microsoftonline.us)",
            Cloud::China => "China, run by 21Vianet (login.chinacloudapi.cn)",
        }
    }

    /// The cloud whose Entra ID answers at `url`'s host, if any.
    ///
    /// Case, a trailing slash or a path do not matter; Microsoft's older
    /// aliases of the global and China hosts count too.
    pub fn of_authority(url: &str) -> Option<Cloud> {
        let host = host_of(url)?;
        let host = host.as_str();
        match host {
            "login.microsoftonline.com"
            | "login.microsoft.com"
            | "login.windows.net"
            | "sts.windows.net" => Some(Cloud::Global),
            "login.microsoftonline.us" | "login.usgovcloudapi.net" => Some(Cloud::UsGovernment),
            "login.chinacloudapi.cn" | "login.partner.microsoftonline.cn" => Some(Cloud::China),
            _ => None,
        }
    }
}

/// Which of Microsoft's identity services an authority belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorityKind {
    /// Microsoft Entra ID (work and school accounts, personal accounts).
    Entra,
    /// Azure AD B2C: a tenant plus a user flow or custom policy.
    B2c,
    /// Microsoft Entra External ID for customers (`ciamlogin.com`).
    Ciam,
}

/// Why a B2C or CIAM tenant cannot be built from what was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorityError {
    /// The tenant name is not a single DNS label.
    #[error(
        "`{0}` cannot be a tenant name: use the part before .onmicrosoft.com \
         (letters, digits and inner dashes, at most 63)"
    )]
    TenantName(String),
    /// The policy name has characters a policy cannot have, or is empty.
    #[error(
        "`{0}` cannot be a B2C policy name: only letters, digits, `_` and `-` are allowed \
         (at most 128)"
    )]
    PolicyName(String),
    /// The policy name lacks the prefix every B2C user flow and custom policy has.
    #[error(
        "`{0}` is not a B2C policy: user flows start with B2C_1_, custom policies with B2C_1A_"
    )]
    PolicyPrefix(String),
}

/// The authority and tenant of an Azure AD B2C policy.
///
/// `tenant_name` is the part before `.onmicrosoft.com` (the full
/// `name.onmicrosoft.com` is accepted too); it is lowercased. Returns
/// (`https://{name}.b2clogin.com`, `{name}.onmicrosoft.com/{policy}`).
pub fn b2c(tenant_name: &str, policy: &str) -> Result<(String, String), AuthorityError> {
    let name = tenant_label(tenant_name)?;
    check_policy(policy)?;
    Ok((
        format!("https://{name}.b2clogin.com"),
        format!("{name}.onmicrosoft.com/{policy}"),
    ))
}

/// The authority and tenant of a Microsoft Entra External ID (CIAM) tenant.
///
/// `tenant_name` as for [`b2c`]. Returns (`https://{name}.ciamlogin.com`,
/// `{name}.onmicrosoft.com`).
pub fn ciam(tenant_name: &str) -> Result<(String, String), AuthorityError> {
    let name = tenant_label(tenant_name)?;
    Ok((
        format!("https://{name}.ciamlogin.com"),
        format!("{name}.onmicrosoft.com"),
    ))
}

/// The kind of a Microsoft authority and tenant.
///
/// B2C when the tenant carries a policy segment (see [`b2c_policy`]) or the
/// host ends in `.b2clogin.com`; CIAM when the host ends in
/// `.ciamlogin.com`; Entra otherwise.
pub fn kind(authority: &str, tenant: &str) -> AuthorityKind {
    let host = host_of(authority).unwrap_or_default();
    if b2c_policy(tenant).is_some() || host.ends_with(".b2clogin.com") {
        AuthorityKind::B2c
    } else if host.ends_with(".ciamlogin.com") {
        AuthorityKind::Ciam
    } else {
        AuthorityKind::Entra
    }
}

/// Splits a B2C tenant path `tenant/policy` into its two parts.
///
/// `None` unless there is exactly one `/`, the tenant is a domain name or id
/// (letters, digits, `.`, `-`) and the policy is a valid B2C policy name
/// starting with `B2C_1_` or `B2C_1A_` (any case).
pub fn b2c_policy(tenant: &str) -> Option<(&str, &str)> {
    let (name, policy) = tenant.split_once('/')?;
    let name_ok = !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    (name_ok && check_policy(policy).is_ok()).then_some((name, policy))
}

/// The single DNS label naming a tenant, lowercased, with an optional
/// `.onmicrosoft.com` removed.
fn tenant_label(tenant_name: &str) -> Result<String, AuthorityError> {
    let bad = || AuthorityError::TenantName(tenant_name.to_owned());
    let lower = tenant_name.trim().to_ascii_lowercase();
    let label = lower.strip_suffix(".onmicrosoft.com").unwrap_or(&lower);
    let ok = (1..=63).contains(&label.len())
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !label.starts_with('-')
        && !label.ends_with('-');
    if ok { Ok(label.to_owned()) } else { Err(bad()) }
}

/// Whether `policy` is a B2C policy name: allowed characters and prefix.
fn check_policy(policy: &str) -> Result<(), AuthorityError> {
    let chars_ok = (1..=128).contains(&policy.len())
        && policy
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !chars_ok {
        return Err(AuthorityError::PolicyName(policy.to_owned()));
    }
    let upper = policy.to_ascii_uppercase();
    if upper.starts_with("B2C_1_") || upper.starts_with("B2C_1A_") {
        Ok(())
    } else {
        Err(AuthorityError::PolicyPrefix(policy.to_owned()))
    }
}

/// The lowercased host of an `https://host[:port]/…` address (scheme optional),
/// without a trailing dot.
fn host_of(url: &str) -> Option<String> {
    let rest = url.trim();
    let rest = rest.split_once("://").map_or(rest, |(_, after)| after);
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = authority.split(':').next()?.trim_end_matches('.');
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clouds_round_trip_through_their_authority() {
        for cloud in Cloud::ALL {
            assert_eq!(Cloud::of_authority(cloud.authority()), Some(cloud));
            assert!(cloud.label().contains(&cloud.authority()[8..]));
        }
    }

    #[test]
    fn cloud_of_authority_ignores_case_slash_and_path() {
        assert_eq!(
            Cloud::of_authority("HTTPS://Login.MicrosoftOnline.US/"),
            Some(Cloud::UsGovernment)
        );
        assert_eq!(
            Cloud::of_authority("https://login.chinacloudapi.cn/common/v2.0"),
            Some(Cloud::China)
        );
        assert_eq!(
            Cloud::of_authority("https://login.windows.net"),
            Some(Cloud::Global)
        );
        assert_eq!(Cloud::of_authority("https://contoso.b2clogin.com"), None);
        assert_eq!(Cloud::of_authority("http://127.0.0.1:4000"), None);
        assert_eq!(Cloud::of_authority(""), None);
    }

    #[test]
    fn cloud_serializes_in_snake_case() {
        let json = serde_json::to_string(&Cloud::UsGovernment).unwrap();
        assert_eq!(json, "\"us_government\"");
        let back: Cloud = serde_json::from_str("\"china\"").unwrap();
        assert_eq!(back, Cloud::China);
        let kind = serde_json::to_string(&AuthorityKind::B2c).unwrap();
        assert_eq!(kind, "\"b2c\"");
    }

    #[test]
    fn b2c_builds_authority_and_tenant() {
        let (authority, tenant) = b2c("Contoso", "B2C_1_signin").unwrap();
        assert_eq!(authority, "https://contoso.b2clogin.com");
        assert_eq!(tenant, "contoso.onmicrosoft.com/B2C_1_signin");
        let (_, tenant) = b2c("contoso.onmicrosoft.com", "b2c_1a_signup-signin").unwrap();
        assert_eq!(tenant, "contoso.onmicrosoft.com/b2c_1a_signup-signin");
    }

    #[test]
    fn b2c_refuses_bad_names_and_policies() {
        for name in ["", "-x", "x-", "a.b", "a/b", "con toso", &"a".repeat(64)] {
            assert_eq!(
                b2c(name, "B2C_1_x"),
                Err(AuthorityError::TenantName(name.to_owned())),
                "{name}"
            );
        }
        for policy in ["", "B2C_1_a/b", "B2C_1_a b", "B2C_1_é", "B2C_1_?x"] {
            assert_eq!(
                b2c("contoso", policy),
                Err(AuthorityError::PolicyName(policy.to_owned())),
                "{policy}"
            );
        }
        assert_eq!(
            b2c("contoso", "signin"),
            Err(AuthorityError::PolicyPrefix("signin".into()))
        );
    }

    #[test]
    fn ciam_builds_authority_and_tenant() {
        let (authority, tenant) = ciam("fabrikam").unwrap();
        assert_eq!(authority, "https://fabrikam.ciamlogin.com");
        assert_eq!(tenant, "fabrikam.onmicrosoft.com");
        assert!(matches!(
            ciam("fab.rikam"),
            Err(AuthorityError::TenantName(_))
        ));
        assert!(ciam("x").unwrap().0.ends_with("x.ciamlogin.com"));
    }

    #[test]
    fn kind_tells_entra_b2c_and_ciam_apart() {
        let entra = "https://login.microsoftonline.com";
        assert_eq!(kind(entra, "common"), AuthorityKind::Entra);
        assert_eq!(kind(entra, "contoso.onmicrosoft.com"), AuthorityKind::Entra);
        assert_eq!(
            kind(entra, "contoso.onmicrosoft.com/B2C_1_signin"),
            AuthorityKind::B2c
        );
        assert_eq!(
            kind("http://127.0.0.1:4000", "contoso.onmicrosoft.com/b2c_1a_x"),
            AuthorityKind::B2c
        );
        assert_eq!(
            kind("https://Contoso.B2CLogin.com/", "contoso.onmicrosoft.com"),
            AuthorityKind::B2c
        );
        assert_eq!(
            kind("https://fabrikam.ciamlogin.com", "fabrikam.onmicrosoft.com"),
            AuthorityKind::Ciam
        );
        assert_eq!(kind(entra, "contoso/other"), AuthorityKind::Entra);
        assert_eq!(kind("", ""), AuthorityKind::Entra);
    }

    #[test]
    fn b2c_policy_splits_only_policy_paths() {
        assert_eq!(
            b2c_policy("contoso.onmicrosoft.com/B2C_1_signin"),
            Some(("contoso.onmicrosoft.com", "B2C_1_signin"))
        );
        assert_eq!(
            b2c_policy("9188040d-6c67-4c5b-b112-36a304b66dad/B2C_1A_x"),
            Some(("9188040d-6c67-4c5b-b112-36a304b66dad", "B2C_1A_x"))
        );
        for t in [
            "contoso.onmicrosoft.com",
            "contoso.onmicrosoft.com/",
            "/B2C_1_x",
            "contoso/B2C_1_x/extra",
            "contoso/other",
            "con toso/B2C_1_x",
            "contoso/B2C_1_x?y",
            "contoso/B2C_1X",
        ] {
            assert_eq!(b2c_policy(t), None, "{t}");
        }
    }
}
