//! The small vocabularies a verdict is made of: the failure category, who has
//! to act, and whether an interactive reconnect fixes it.
//!
//! The same words appear in the code table (`data/aadsts.tsv`), in the JSON of
//! `reconnect decode --json`, and in the UI, so each has one spelling, given
//! by `as_str` and accepted back by `parse`.

use serde::{Deserialize, Serialize};

/// Who has to do something before the connection works again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhoActs {
    /// The signed-in person (sign in again, pass MFA, consent, fix a password).
    #[default]
    User,
    /// A tenant administrator (policy, account state, tenant configuration).
    Admin,
    /// The developer who owns the app registration or the request it sends.
    Developer,
    /// Nobody: the failure is transient and heals by waiting and retrying.
    Nobody,
}

impl WhoActs {
    /// Every value, in a stable order.
    pub const ALL: [WhoActs; 4] = [Self::User, Self::Admin, Self::Developer, Self::Nobody];

    /// The lowercase spelling used in the table and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
            Self::Developer => "developer",
            Self::Nobody => "nobody",
        }
    }

    /// Reads the spelling produced by [`WhoActs::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.as_str() == text)
    }
}

/// Whether an interactive sign-in (reconnect) makes the failure go away.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReconnectFixes {
    /// Signing in again fixes it.
    Yes,
    /// Signing in again will not help; somebody else must act first.
    No,
    /// It may help (for instance after a retry failed, or once an admin acted).
    #[default]
    Maybe,
}

impl ReconnectFixes {
    /// Every value, in a stable order.
    pub const ALL: [ReconnectFixes; 3] = [Self::Yes, Self::No, Self::Maybe];

    /// The lowercase spelling used in the table and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yes => "yes",
            Self::No => "no",
            Self::Maybe => "maybe",
        }
    }

    /// Reads the spelling produced by [`ReconnectFixes::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// What kind of failure this is. Table categories group the AADSTS codes;
/// a few more ([`Category::Network`], [`Category::Cancelled`],
/// [`Category::Unknown`]) only arise from what the decoder reads around them.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// The refresh token or session reached a lifetime or idle limit.
    Expired,
    /// The grant was revoked (password change, admin or user revocation).
    Revoked,
    /// The grant itself was rejected (bad, reused or mismatched).
    InvalidGrant,
    /// MFA or another Conditional Access control must be satisfied interactively.
    StepUp,
    /// The user has to interact with the sign-in page for another reason.
    Interaction,
    /// A policy blocks access; signing in again does not help.
    Blocked,
    /// The user account's state (disabled, locked, password expired, missing).
    Account,
    /// Consent to the app's permissions is missing, declined or needs an admin.
    Consent,
    /// The app registration does not fit how the app signs in.
    AppRegistration,
    /// The request the app sent is malformed or unsupported.
    Request,
    /// The tenant, cloud or directory could not be used for this sign-in.
    Tenant,
    /// A federated identity provider or on-premises component failed.
    Federation,
    /// Device registration, compliance or device authentication.
    Device,
    /// The identity service failed in a way that heals by retrying.
    Service,
    /// Too many requests: the service is throttling this client or tenant.
    Throttled,
    /// DNS, connect, TLS or timeout failures before any answer arrived.
    Network,
    /// The user cancelled or closed the sign-in.
    Cancelled,
    /// Nothing recognisable: kept as unknown, with the server's text.
    #[default]
    Unknown,
}

impl Category {
    /// Every value, in a stable order.
    pub const ALL: [Category; 18] = [
        Self::Expired,
        Self::Revoked,
        Self::InvalidGrant,
        Self::StepUp,
        Self::Interaction,
        Self::Blocked,
        Self::Account,
        Self::Consent,
        Self::AppRegistration,
        Self::Request,
        Self::Tenant,
        Self::Federation,
        Self::Device,
        Self::Service,
        Self::Throttled,
        Self::Network,
        Self::Cancelled,
        Self::Unknown,
    ];

    /// The kebab-case spelling used in the table and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::InvalidGrant => "invalid-grant",
            Self::StepUp => "step-up",
            Self::Interaction => "interaction",
            Self::Blocked => "blocked",
            Self::Account => "account",
            Self::Consent => "consent",
            Self::AppRegistration => "app-registration",
            Self::Request => "request",
            Self::Tenant => "tenant",
            Self::Federation => "federation",
            Self::Device => "device",
            Self::Service => "service",
            Self::Throttled => "throttled",
            Self::Network => "network",
            Self::Cancelled => "cancelled",
            Self::Unknown => "unknown",
        }
    }

    /// Reads the spelling produced by [`Category::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// Whether rows of the code table may (and together must) use this
    /// category. The others describe failures that carry no AADSTS code.
    pub fn in_table(self) -> bool {
        !matches!(self, Self::Network | Self::Cancelled | Self::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).ok(), Some(c.as_str().into()));
        }
        for w in WhoActs::ALL {
            assert_eq!(WhoActs::parse(w.as_str()), Some(w));
            assert_eq!(serde_json::to_value(w).ok(), Some(w.as_str().into()));
        }
        for r in ReconnectFixes::ALL {
            assert_eq!(ReconnectFixes::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).ok(), Some(r.as_str().into()));
        }
        assert_eq!(Category::parse("Expired"), None);
    }
}
