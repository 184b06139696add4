//! Tenants and issuers. Every work or school account lives in the tenant of
//! its organisation (the first label of its domain: `contoso.test` and
//! `contoso.onmicrosoft.com` are one tenant), whose id is a GUID derived from
//! that name: random-looking, but the same in every run. Personal Microsoft
//! accounts (`outlook.com`, `hotmail.com`, `live.com`, `msn.com`) live in the
//! consumers tenant, whose id is fixed, as on Entra.
//!
//! The first path segment of every identity endpoint names where a request
//! goes ([`Segment`]): `common`, `organizations`, `consumers`, a tenant id or
//! a domain, and for Azure AD B2C a tenant followed by a user flow
//! (`contoso.onmicrosoft.com/B2C_1_signin`).

use sha2::Digest as _;

/// The consumers tenant: where personal Microsoft accounts live.
pub const CONSUMERS_TENANT_ID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// Domains whose accounts are personal Microsoft accounts.
pub const PERSONAL_DOMAINS: [&str; 4] = ["outlook.com", "hotmail.com", "live.com", "msn.com"];

/// Whether `upn` is a personal Microsoft account.
pub fn is_personal(upn: &str) -> bool {
    let domain = upn.rsplit('@').next().unwrap_or("").to_ascii_lowercase();
    PERSONAL_DOMAINS.contains(&domain.as_str())
}

/// The organisation a domain belongs to: its first label, lower-cased.
pub fn organisation(domain: &str) -> String {
    domain
        .split('.')
        .next()
        .unwrap_or(domain)
        .to_ascii_lowercase()
}

/// The tenant id of an organisation: a version-4-shaped GUID from a hash of its name.
pub fn tenant_id(organisation: &str) -> String {
    let digest = sha2::Sha256::digest(format!("reconnect-sim tenant {organisation}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// The home tenant id of an account.
pub fn home_tenant(upn: &str) -> String {
    if is_personal(upn) {
        return CONSUMERS_TENANT_ID.to_owned();
    }
    tenant_id(&organisation(upn.rsplit('@').next().unwrap_or("")))
}

/// The tenant id a tenant name (an id or a domain) stands for.
pub fn resolve(name: &str) -> String {
    if uuid::Uuid::parse_str(name).is_ok() {
        return name.to_ascii_lowercase();
    }
    if PERSONAL_DOMAINS.contains(&name.to_ascii_lowercase().as_str()) {
        return CONSUMERS_TENANT_ID.to_owned();
    }
    tenant_id(&organisation(name))
}

/// The Entra issuer of a tenant: `{base}/{tid}/v2.0` (B2C adds a final slash).
pub fn issuer(base: &str, tid: &str, b2c: bool) -> String {
    let slash = if b2c { "/" } else { "" };
    format!("{}/{tid}/v2.0{slash}", base.trim_end_matches('/'))
}

/// Where a request went: the authority's tenant segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// `/common`: work, school and personal accounts.
    Common,
    /// `/organizations`: work and school accounts.
    Organizations,
    /// `/consumers`: personal accounts.
    Consumers,
    /// One tenant, by id or domain (here resolved to its id).
    Tenant(String),
    /// An Azure AD B2C tenant and user flow.
    B2c {
        /// The B2C tenant's id.
        tenant: String,
        /// The user flow (policy), e.g. `B2C_1_signin`.
        policy: String,
    },
}

impl Segment {
    /// Reads the path's tenant (and, for B2C, policy) segments. `None` when
    /// the text cannot be a tenant; whether the tenant exists is the
    /// directory's call ([`crate::state::World::knows_tenant`]).
    pub fn parse(tenant: &str, policy: Option<&str>) -> Option<Self> {
        let plain = !tenant.is_empty()
            && tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
        if !plain {
            return None;
        }
        if let Some(policy) = policy {
            let lower = policy.to_ascii_lowercase();
            let named = lower.starts_with("b2c_1_") || lower.starts_with("b2c_1a_");
            let clean = policy
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c));
            return (named && clean).then(|| Self::B2c {
                tenant: resolve(tenant),
                policy: policy.to_owned(),
            });
        }
        Some(match tenant.to_ascii_lowercase().as_str() {
            "common" => Self::Common,
            "organizations" => Self::Organizations,
            "consumers" => Self::Consumers,
            _ => Self::Tenant(resolve(tenant)),
        })
    }

    /// Whether the segment names one tenant (its id), as opposed to a multi-tenant alias.
    pub fn tenant(&self) -> Option<&str> {
        match self {
            Self::Consumers => Some(CONSUMERS_TENANT_ID),
            Self::Tenant(id) | Self::B2c { tenant: id, .. } => Some(id),
            Self::Common | Self::Organizations => None,
        }
    }

    /// The issuer the discovery document publishes: a `{tenantid}`
    /// template for `common` and `organizations`, as Entra does.
    pub fn published_issuer(&self, base: &str) -> String {
        match self {
            Self::Common | Self::Organizations => issuer(base, "{tenantid}", false),
            Self::B2c { tenant, .. } => issuer(base, tenant, true),
            Self::Consumers | Self::Tenant(_) => {
                issuer(base, self.tenant().unwrap_or_default(), false)
            }
        }
    }

    /// Whether the segment is an Azure AD B2C tenant and user flow.
    pub fn is_b2c(&self) -> bool {
        matches!(self, Self::B2c { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_tenants_are_stable_random_looking_guids() {
        let contoso = home_tenant("alice@contoso.test");
        assert_eq!(contoso, home_tenant("bob@Contoso.onmicrosoft.com"));
        assert_ne!(contoso, home_tenant("carol@fabrikam.test"));
        assert_ne!(contoso, CONSUMERS_TENANT_ID);
        let guid = uuid::Uuid::parse_str(&contoso).expect("a GUID");
        assert_eq!(guid.get_version_num(), 4);
        assert_eq!(resolve("contoso.test"), contoso);
        assert_eq!(resolve(&contoso.to_uppercase()), contoso);
    }

    #[test]
    fn personal_accounts_live_in_the_consumers_tenant() {
        assert!(is_personal("dana@outlook.com") && !is_personal("alice@contoso.test"));
        assert_eq!(home_tenant("dana@Hotmail.com"), CONSUMERS_TENANT_ID);
        assert_eq!(resolve("live.com"), CONSUMERS_TENANT_ID);
    }

    #[test]
    fn segments_and_their_issuers() {
        let base = "http://127.0.0.1:9";
        let common = Segment::parse("common", None).expect("segment");
        assert_eq!(
            common.published_issuer(base),
            "http://127.0.0.1:9/{tenantid}/v2.0"
        );
        assert_eq!(
            Segment::parse("organizations", None)
                .expect("segment")
                .published_issuer(base),
            "http://127.0.0.1:9/{tenantid}/v2.0"
        );
        assert_eq!(
            Segment::parse("consumers", None)
                .expect("segment")
                .published_issuer(base),
            format!("{base}/{CONSUMERS_TENANT_ID}/v2.0")
        );
        let tid = tenant_id("contoso");
        assert_eq!(
            Segment::parse("contoso.test", None),
            Some(Segment::Tenant(tid.clone()))
        );
        let b2c = Segment::parse("contoso.onmicrosoft.com", Some("B2C_1_signin")).expect("b2c");
        assert_eq!(b2c.published_issuer(base), format!("{base}/{tid}/v2.0/"));
        assert_eq!(Segment::parse("contoso.test", Some("signin")), None);
        assert_eq!(Segment::parse("a/b", None), None);
        assert_eq!(Segment::parse("", None), None);
    }
}
