//! The one place a [`TokenSet`] becomes bytes and back, for the vault only.
//!
//! Core's secret types deliberately have no `Serialize`; this explicit
//! encoder calls `expose()` field by field instead. Decoding errors carry a
//! fixed description and never the offending text, so a damaged entry can't
//! leak a token into an error message.

use reconnect_core::secret::{AccessToken, IdToken, RefreshToken};
use reconnect_core::tokens::TokenSet;
use serde_json::{Map, Value};

/// Version tag of the encoded form.
const FORMAT: i64 = 1;

/// Encodes a token set as compact JSON bytes.
pub(crate) fn encode(tokens: &TokenSet) -> Vec<u8> {
    let mut map = Map::new();
    map.insert("v".into(), Value::from(FORMAT));
    if let Some(t) = &tokens.access_token {
        map.insert("at".into(), Value::from(t.expose()));
    }
    if let Some(exp) = tokens.access_expires_at {
        map.insert("exp".into(), Value::from(exp));
    }
    if let Some(t) = &tokens.refresh_token {
        map.insert("rt".into(), Value::from(t.expose()));
    }
    if let Some(t) = &tokens.id_token {
        map.insert("it".into(), Value::from(t.expose()));
    }
    map.insert("scope".into(), Value::from(tokens.scope.as_str()));
    Value::Object(map).to_string().into_bytes()
}

/// Decodes what [`encode`] produced. The error is a fixed description.
pub(crate) fn decode(bytes: &[u8]) -> Result<TokenSet, &'static str> {
    let value: Value = serde_json::from_slice(bytes).map_err(|_| "not valid JSON")?;
    let map = value.as_object().ok_or("not a JSON object")?;
    if map.get("v").and_then(Value::as_i64) != Some(FORMAT) {
        return Err("unknown format version");
    }
    let text = |key: &str| -> Result<Option<String>, &'static str> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err("a token field is not text"),
        }
    };
    let access_expires_at = match map.get("exp") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or("expiry is not an integer")?),
    };
    Ok(TokenSet {
        access_token: text("at")?.map(AccessToken::new),
        access_expires_at,
        refresh_token: text("rt")?.map(RefreshToken::new),
        id_token: text("it")?.map(IdToken::new),
        scope: text("scope")?.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> TokenSet {
        TokenSet {
            access_token: Some(AccessToken::new("eyJ\"quoted\"\\ünïcode")),
            access_expires_at: Some(1_800_000_000),
            refresh_token: Some(RefreshToken::new("0.AAA-refresh")),
            id_token: Some(IdToken::new("eyJ.id.sig")),
            scope: "openid offline_access".into(),
        }
    }

    #[test]
    fn round_trips_every_field() {
        let set = full();
        assert_eq!(decode(&encode(&set)).unwrap(), set);
        let empty = TokenSet {
            access_token: None,
            access_expires_at: None,
            refresh_token: None,
            id_token: None,
            scope: String::new(),
        };
        assert_eq!(decode(&encode(&empty)).unwrap(), empty);
    }

    #[test]
    fn decode_errors_never_echo_the_input() {
        let bad = br#"{"v":1,"rt":12345678}"#;
        assert_eq!(decode(bad).unwrap_err(), "a token field is not text");
        let garbage = b"secret-refresh-token-not-json";
        let err = decode(garbage).unwrap_err();
        assert!(!err.contains("secret"), "{err}");
        assert_eq!(
            decode(br#"{"v":99}"#).unwrap_err(),
            "unknown format version"
        );
    }
}
