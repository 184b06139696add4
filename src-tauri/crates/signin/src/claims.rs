//! The `claims` request parameter: a Conditional Access / MFA claims challenge
//! from the last failure, merged with the client capabilities Reconnect
//! declares (`cp1`: "I can handle claims challenges"), so a step-up completes
//! in one sign-in instead of looping.

use base64::Engine as _;
use serde_json::{Map, Value, json};

/// The client capabilities Reconnect declares to Entra.
pub const CLIENT_CAPABILITIES: &[&str] = &["cp1"];

/// Why a claims challenge could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the stored claims challenge is not a JSON object (nor base64 of one)")]
pub struct BadChallenge;

fn parse_object(text: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str(text.trim()) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// Reads a challenge given as JSON text, or as base64 of it (the form used in
/// `WWW-Authenticate` headers).
pub fn parse_challenge(text: &str) -> Result<Map<String, Value>, BadChallenge> {
    if let Some(map) = parse_object(text) {
        return Ok(map);
    }
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
    ];
    for engine in engines {
        if let Ok(bytes) = engine.decode(text.trim())
            && let Ok(decoded) = String::from_utf8(bytes)
            && let Some(map) = parse_object(&decoded)
        {
            return Ok(map);
        }
    }
    let padded =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.trim().trim_end_matches('='));
    padded
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| parse_object(&s))
        .ok_or(BadChallenge)
}

/// The `claims` parameter to send: the challenge (if any) with
/// `access_token.xms_cc.values` extended by `capabilities`. Returns `None`
/// when there is neither a challenge nor a capability to declare.
pub fn merge(
    challenge: Option<&str>,
    capabilities: &[&str],
) -> Result<Option<String>, BadChallenge> {
    let mut root = match challenge.map(str::trim).filter(|c| !c.is_empty()) {
        Some(text) => parse_challenge(text)?,
        None => Map::new(),
    };
    if !capabilities.is_empty() {
        let access = root.entry("access_token").or_insert_with(|| json!({}));
        if !access.is_object() {
            *access = json!({});
        }
        let xms_cc = access
            .as_object_mut()
            .map(|a| a.entry("xms_cc").or_insert_with(|| json!({})))
            .ok_or(BadChallenge)?;
        if !xms_cc.is_object() {
            *xms_cc = json!({});
        }
        let values = xms_cc
            .as_object_mut()
            .map(|x| x.entry("values").or_insert_with(|| json!([])))
            .ok_or(BadChallenge)?;
        if !values.is_array() {
            *values = json!([]);
        }
        if let Some(list) = values.as_array_mut() {
            for cap in capabilities {
                if !list.iter().any(|v| v.as_str() == Some(cap)) {
                    list.push(json!(cap));
                }
            }
        }
    }
    if root.is_empty() {
        return Ok(None);
    }
    Ok(Some(Value::Object(root).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn capability_alone_is_declared() {
        let merged = merge(None, CLIENT_CAPABILITIES).unwrap().unwrap();
        assert_eq!(
            parsed(&merged),
            json!({"access_token":{"xms_cc":{"values":["cp1"]}}})
        );
        assert_eq!(merge(None, &[]).unwrap(), None);
    }

    #[test]
    fn challenge_keeps_its_claims_and_gains_the_capability() {
        let challenge = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
        let merged = parsed(
            &merge(Some(challenge), CLIENT_CAPABILITIES)
                .unwrap()
                .unwrap(),
        );
        assert_eq!(merged["access_token"]["acrs"]["value"], "c1");
        assert_eq!(merged["access_token"]["xms_cc"]["values"], json!(["cp1"]));
    }

    #[test]
    fn base64_challenges_and_existing_capabilities_are_handled() {
        let raw = r#"{"access_token":{"xms_cc":{"values":["cp1","cp2"]},"nbf":{"essential":true,"value":"1"}}}"#;
        let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
        let merged = parsed(&merge(Some(&b64), CLIENT_CAPABILITIES).unwrap().unwrap());
        assert_eq!(
            merged["access_token"]["xms_cc"]["values"],
            json!(["cp1", "cp2"])
        );
        assert_eq!(merged["access_token"]["nbf"]["value"], "1");
    }

    #[test]
    fn garbage_is_refused_not_sent() {
        assert_eq!(
            merge(Some("not json"), CLIENT_CAPABILITIES),
            Err(BadChallenge)
        );
        assert_eq!(merge(Some("[1]"), CLIENT_CAPABILITIES), Err(BadChallenge));
    }
}
