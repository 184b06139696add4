//! The token set Reconnect keeps for one account, and the non-secret facts
//! about it.
//!
//! Times are Unix seconds (`i64`) throughout the core: callers pass "now" in,
//! so every policy stays a pure function.

use crate::secret::{AccessToken, IdToken, RefreshToken};

/// Seconds since the Unix epoch.
pub type UnixTime = i64;

/// Everything the token endpoint returned that must stay secret, plus the
/// lifetimes needed to use it. Stored as a whole in the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSet {
    /// The current access token, if any.
    pub access_token: Option<AccessToken>,
    /// When the access token expires.
    pub access_expires_at: Option<UnixTime>,
    /// The refresh token (rotates on every refresh with Entra).
    pub refresh_token: Option<RefreshToken>,
    /// The last id_token seen.
    pub id_token: Option<IdToken>,
    /// Space-separated scopes granted.
    pub scope: String,
}

impl TokenSet {
    /// Whether the access token is present and valid for at least `margin`
    /// more seconds at `now`.
    pub fn access_valid_for(&self, now: UnixTime, margin: i64) -> bool {
        match (&self.access_token, self.access_expires_at) {
            (Some(_), Some(exp)) => exp - margin > now,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(exp: Option<i64>) -> TokenSet {
        TokenSet {
            access_token: Some(AccessToken::new("a")),
            access_expires_at: exp,
            refresh_token: None,
            id_token: None,
            scope: String::new(),
        }
    }

    #[test]
    fn access_validity_respects_margin() {
        assert!(set(Some(1_000)).access_valid_for(600, 300));
        assert!(!set(Some(1_000)).access_valid_for(700, 300));
        assert!(!set(None).access_valid_for(0, 0));
    }
}
