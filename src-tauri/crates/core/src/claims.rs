//! Claims challenges and the client capabilities Reconnect declares.
//!
//! A resource that wants more than the access token it was shown (a revoked
//! session under continuous access evaluation, an authentication context
//! that requires MFA) answers `401` with `WWW-Authenticate: Bearer …,
//! error="insufficient_claims", claims="…"`, the challenge as base64 of a
//! JSON object. Entra expects that object back in the `claims` parameter of
//! the next token or authorize request, together with the client's declared
//! capabilities (`access_token.xms_cc.values`; `cp1` says "I can handle
//! claims challenges"). [`Challenge`] reads a challenge in any form a user or
//! a provider hands it over; [`claims_parameter`] builds the one `claims`
//! value every request to Microsoft sends.

use std::str::FromStr;

use base64::Engine as _;
use serde_json::{Map, Value, json};

/// The client capabilities Reconnect declares to Microsoft Entra ID.
pub const CLIENT_CAPABILITIES: &[&str] = &["cp1"];

/// The claim that carries the declared client capabilities.
const CAPABILITIES_CLAIM: &str = "xms_cc";

/// Why a claims challenge could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the claims challenge is neither a JSON object nor base64 of one (give the `claims` value \
     of the resource's WWW-Authenticate header as it came)"
)]
pub struct BadChallenge;

/// A claims challenge: a JSON object whose keys name the tokens it is about
/// (`access_token`, `id_token`) and whose values name the claims asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge(Map<String, Value>);

impl Challenge {
    /// Reads a challenge given as JSON text or as base64 of it (standard or
    /// URL-safe alphabet, padded or not, as `WWW-Authenticate` headers carry
    /// it); surrounding whitespace and one pair of double quotes are ignored.
    pub fn parse(text: &str) -> Result<Self, BadChallenge> {
        let text = text.trim();
        let text = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(text)
            .trim();
        object(text)
            .or_else(|| object(&decode_base64(text)?))
            .map(Self)
            .ok_or(BadChallenge)
    }

    /// The challenge as compact JSON text.
    pub fn to_json(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }

    /// The claims asked for beyond declared capabilities, as
    /// `target.claim` (e.g. `access_token.acrs`), in the challenge's order.
    /// A target that is not an object counts as asking for itself.
    pub fn demands(&self) -> Vec<String> {
        let mut found = Vec::new();
        for (target, claims) in &self.0 {
            match claims {
                Value::Object(claims) => found.extend(
                    claims
                        .keys()
                        .filter(|k| *k != CAPABILITIES_CLAIM)
                        .map(|k| format!("{target}.{k}")),
                ),
                _ => found.push(target.clone()),
            }
        }
        found
    }

    /// The client capabilities declared in it (`xms_cc` values of any target).
    pub fn capabilities(&self) -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        let declared = self
            .0
            .values()
            .filter_map(|claims| claims.get(CAPABILITIES_CLAIM)?.get("values")?.as_array())
            .flatten()
            .filter_map(Value::as_str);
        for value in declared {
            if !found.iter().any(|f| f == value) {
                found.push(value.to_owned());
            }
        }
        found
    }

    /// The challenge without declared capabilities; `None` when nothing else
    /// is left (a request that only declared `cp1` challenged nothing).
    pub fn without_capabilities(&self) -> Option<Self> {
        let mut rest = Map::new();
        for (target, claims) in &self.0 {
            let mut claims = claims.clone();
            if let Some(map) = claims.as_object_mut() {
                map.remove(CAPABILITIES_CLAIM);
                if map.is_empty() {
                    continue;
                }
            }
            rest.insert(target.clone(), claims);
        }
        (!rest.is_empty()).then_some(Self(rest))
    }

    /// The challenge with `capabilities` added to `access_token.xms_cc.values`
    /// (kept once each, after any already declared), as JSON text.
    pub fn merged(&self, capabilities: &[&str]) -> String {
        let mut root = self.0.clone();
        if !capabilities.is_empty() {
            let values = object_at(&mut root, "access_token");
            let values = object_at(values, CAPABILITIES_CLAIM)
                .entry("values")
                .or_insert_with(|| json!([]));
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
        Value::Object(root).to_string()
    }
}

impl FromStr for Challenge {
    type Err = BadChallenge;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// The `claims` parameter of a token or authorize request: `challenge`
/// merged with the declared `capabilities`, or `None` when there is neither.
pub fn claims_parameter(challenge: Option<&Challenge>, capabilities: &[&str]) -> Option<String> {
    match challenge {
        Some(challenge) => Some(challenge.merged(capabilities)),
        None if capabilities.is_empty() => None,
        None => Some(Challenge(Map::new()).merged(capabilities)),
    }
}

/// [`claims_parameter`] for a challenge kept as text (a stored failure's);
/// blank text means no challenge.
pub fn merge(
    challenge: Option<&str>,
    capabilities: &[&str],
) -> Result<Option<String>, BadChallenge> {
    let challenge = match challenge.map(str::trim).filter(|c| !c.is_empty()) {
        Some(text) => Some(Challenge::parse(text)?),
        None => None,
    };
    Ok(claims_parameter(challenge.as_ref(), capabilities))
}

/// `text` as a JSON object, if it is one.
fn object(text: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// Decodes base64 in either alphabet, with or without padding, to UTF-8.
fn decode_base64(text: &str) -> Option<String> {
    let standard: String = text
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(standard)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// The object under `key`, created (or replacing a non-object) as needed.
fn object_at<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = map.entry(key).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    match entry {
        Value::Object(inner) => inner,
        _ => unreachable!("replaced by an object above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

    fn parsed(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    /// A challenge whose base64 has `+`, `/` and padding in the standard
    /// alphabet, so every encoding below differs.
    const RAW: &str = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"},"nbf":{"essential":true,"value":"1604106651"}},"id_token":{"x":"ÿ~ÿÿ"}}"#;

    #[test]
    fn every_base64_form_of_a_header_value_and_plain_json_read_the_same() {
        let expected = Challenge::parse(RAW).unwrap();
        let encodings = [
            STANDARD.encode(RAW),
            STANDARD_NO_PAD.encode(RAW),
            URL_SAFE.encode(RAW),
            URL_SAFE_NO_PAD.encode(RAW),
        ];
        assert!(
            encodings[0].contains('+') && encodings[0].contains('/'),
            "{}",
            encodings[0]
        );
        assert!(encodings[0].ends_with('='), "{}", encodings[0]);
        for text in encodings {
            assert_eq!(Challenge::parse(&text), Ok(expected.clone()), "{text}");
            let quoted = format!(" \"{text}\"\n");
            assert_eq!(Challenge::parse(&quoted), Ok(expected.clone()), "{quoted}");
        }
        assert_eq!(
            expected.demands(),
            ["access_token.acrs", "access_token.nbf", "id_token.x"]
        );
    }

    #[test]
    fn anything_but_an_object_is_refused() {
        let not_object = STANDARD.encode("[1,2]");
        for text in ["", "not json", "[1]", "\"text\"", "42", &not_object, "%%%"] {
            assert_eq!(Challenge::parse(text), Err(BadChallenge), "{text:?}");
        }
        assert_eq!(
            "{}".parse::<Challenge>().map(|c| c.demands()),
            Ok(vec![]),
            "an empty object asks for nothing but is a challenge"
        );
    }

    #[test]
    fn capability_alone_is_declared() {
        let merged = merge(None, CLIENT_CAPABILITIES).unwrap().unwrap();
        assert_eq!(
            parsed(&merged),
            json!({"access_token":{"xms_cc":{"values":["cp1"]}}})
        );
        assert_eq!(merge(None, &[]).unwrap(), None);
        assert_eq!(merge(Some("  "), &[]).unwrap(), None);
        assert_eq!(claims_parameter(None, &[]), None);
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
        // An OpenID provider gets the challenge as it came.
        let plain = merge(Some(challenge), &[]).unwrap().unwrap();
        assert_eq!(parsed(&plain), parsed(challenge));
    }

    #[test]
    fn base64_challenges_and_existing_capabilities_are_handled() {
        let raw = r#"{"access_token":{"xms_cc":{"values":["cp1","cp2"]},"nbf":{"essential":true,"value":"1"}}}"#;
        let b64 = STANDARD.encode(raw);
        let merged = parsed(&merge(Some(&b64), CLIENT_CAPABILITIES).unwrap().unwrap());
        assert_eq!(
            merged["access_token"]["xms_cc"]["values"],
            json!(["cp1", "cp2"])
        );
        assert_eq!(merged["access_token"]["nbf"]["value"], "1");
    }

    #[test]
    fn a_non_object_access_token_target_is_replaced_to_declare_capabilities() {
        let odd = Challenge::parse(r#"{"access_token":7,"id_token":{"acrs":null}}"#).unwrap();
        let merged = parsed(&odd.merged(CLIENT_CAPABILITIES));
        assert_eq!(
            merged,
            json!({"access_token":{"xms_cc":{"values":["cp1"]}},"id_token":{"acrs":null}})
        );
    }

    #[test]
    fn capabilities_and_demands_are_told_apart() {
        let only_cp1 =
            Challenge::parse(&merge(None, CLIENT_CAPABILITIES).unwrap().unwrap()).unwrap();
        assert_eq!(only_cp1.capabilities(), ["cp1"]);
        assert!(only_cp1.demands().is_empty());
        assert_eq!(only_cp1.without_capabilities(), None);

        let acrs = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
        let both = Challenge::parse(&merge(Some(acrs), &["cp1", "cp2"]).unwrap().unwrap()).unwrap();
        assert_eq!(both.capabilities(), ["cp1", "cp2"]);
        assert_eq!(both.demands(), ["access_token.acrs"]);
        assert_eq!(
            both.without_capabilities(),
            Some(Challenge::parse(acrs).unwrap())
        );
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
