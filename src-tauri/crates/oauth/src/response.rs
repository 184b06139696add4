//! A successful token-endpoint answer, turned into a [`TokenSet`] plus the
//! non-secret facts that came with it.

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use reconnect_core::secret::{AccessToken, IdToken, RefreshToken};
use reconnect_core::tokens::{TokenSet, UnixTime};
use serde::Deserialize;

use crate::error::TokenError;

/// Microsoft's `client_info`: the user's object id and home tenant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClientInfo {
    /// Object id of the user in their home tenant.
    pub uid: String,
    /// Home tenant id.
    pub utid: String,
}

/// What a successful refresh or code exchange returned.
#[derive(Debug, Clone)]
pub struct TokenResponse {
    /// The tokens, with `access_expires_at` computed from the request time.
    pub tokens: TokenSet,
    /// `token_type` (normally `Bearer`).
    pub token_type: Option<String>,
    /// `expires_in` in seconds, as sent.
    pub expires_in: Option<i64>,
    /// `ext_expires_in` in seconds, as sent (Entra).
    pub ext_expires_in: Option<i64>,
    /// `refresh_token_expires_in`, sent for SPA clients (Entra).
    pub refresh_token_expires_in: Option<i64>,
    /// Decoded `client_info`, when the provider sent it.
    pub client_info: Option<ClientInfo>,
    /// Every other field of the answer, minus anything that looks like a token.
    pub extras: serde_json::Map<String, serde_json::Value>,
}

impl TokenResponse {
    /// The id_token, when one came back.
    pub fn id_token(&self) -> Option<&IdToken> {
        self.tokens.id_token.as_ref()
    }

    /// Granted scopes (space-separated).
    pub fn scope(&self) -> &str {
        &self.tokens.scope
    }

    /// Parses a 2xx body; `now` is when the request was sent.
    pub fn parse(body: &[u8], now: UnixTime) -> Result<Self, TokenError> {
        let invalid = |reason: &str| TokenError::InvalidSuccess {
            reason: reason.to_owned(),
        };
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|_| invalid("the answer is not JSON"))?;
        let serde_json::Value::Object(mut map) = value else {
            return Err(invalid("the answer is not a JSON object"));
        };
        let mut take_str = |key: &str| match map.remove(key) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        };
        let access =
            take_str("access_token").ok_or_else(|| invalid("the answer has no access_token"))?;
        let refresh = take_str("refresh_token");
        let id_token = take_str("id_token");
        let scope = take_str("scope").unwrap_or_default();
        let token_type = take_str("token_type");
        let client_info_raw = take_str("client_info");
        let number = |map: &serde_json::Map<String, serde_json::Value>, key: &str| {
            map.get(key).and_then(|v| {
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
        };
        let expires_in = number(&map, "expires_in");
        let ext_expires_in = number(&map, "ext_expires_in");
        let refresh_token_expires_in = number(&map, "refresh_token_expires_in");
        map.retain(|key, _| {
            !key.contains("token") || key.ends_with("expires_in") || key == "token_type"
        });
        let client_info = client_info_raw.as_deref().and_then(decode_client_info);
        Ok(Self {
            tokens: TokenSet {
                access_token: Some(AccessToken::new(access)),
                access_expires_at: expires_in.map(|s| now.saturating_add(s)),
                refresh_token: refresh.map(RefreshToken::new),
                id_token: id_token.map(IdToken::new),
                scope,
            },
            token_type,
            expires_in,
            ext_expires_in,
            refresh_token_expires_in,
            client_info,
            extras: map,
        })
    }
}

fn decode_client_info(raw: &str) -> Option<ClientInfo> {
    let bytes = URL_SAFE_NO_PAD
        .decode(raw.trim_end_matches('='))
        .or_else(|_| URL_SAFE.decode(raw))
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(raw))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_body_becomes_a_token_set_with_absolute_expiry() {
        let info = URL_SAFE_NO_PAD.encode(br#"{"uid":"u-1","utid":"t-1"}"#);
        let body = format!(
            r#"{{"token_type":"Bearer","scope":"openid User.Read","expires_in":3599,"ext_expires_in":"3599",
               "access_token":"at-secret","refresh_token":"rt-secret","id_token":"id.tok.en",
               "client_info":"{info}","foci":"1"}}"#
        );
        let r = TokenResponse::parse(body.as_bytes(), 1_000).expect("parses");
        assert_eq!(r.tokens.access_expires_at, Some(4_599));
        assert_eq!(r.ext_expires_in, Some(3599));
        assert_eq!(r.scope(), "openid User.Read");
        assert_eq!(
            r.tokens.refresh_token.as_ref().map(|t| t.expose()),
            Some("rt-secret")
        );
        assert_eq!(
            r.client_info,
            Some(ClientInfo {
                uid: "u-1".into(),
                utid: "t-1".into()
            })
        );
        assert_eq!(r.extras.get("foci").and_then(|v| v.as_str()), Some("1"));
        let shown = format!("{r:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn a_body_without_access_token_is_refused_without_echoing_it() {
        let err = TokenResponse::parse(br#"{"refresh_token":"rt-secret"}"#, 0).unwrap_err();
        assert!(err.to_string().contains("no access_token"));
        assert!(!format!("{err:?}").contains("rt-secret"));
        assert!(TokenResponse::parse(b"<html>", 0).is_err());
        assert!(TokenResponse::parse(b"[1]", 0).is_err());
    }
}
