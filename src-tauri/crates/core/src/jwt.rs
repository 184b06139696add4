//! Unverified JWT claims, for display only.
//!
//! Shows what an access or id token says about itself (how the user signed in,
//! which tenant, which scopes, until when) without checking its signature.
//! Nothing here may be used to decide who a user is: the sign-in validates
//! id_tokens against the provider's keys for that.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

/// The claims Reconnect shows about a token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct DisplayClaims {
    /// Authentication methods used (`pwd`, `mfa`, …).
    #[serde(default, deserialize_with = "one_or_many")]
    pub amr: Vec<String>,
    /// Conditional Access authentication contexts satisfied.
    #[serde(default, deserialize_with = "one_or_many")]
    pub acrs: Vec<String>,
    /// Client capabilities the token was issued for (`cp1`).
    #[serde(default, deserialize_with = "one_or_many")]
    pub xms_cc: Vec<String>,
    /// Tenant id.
    #[serde(default)]
    pub tid: Option<String>,
    /// User object id.
    #[serde(default)]
    pub oid: Option<String>,
    /// Delegated scopes, space-separated.
    #[serde(default)]
    pub scp: Option<String>,
    /// Sign-in name.
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// Expiry (Unix seconds).
    #[serde(default)]
    pub exp: Option<i64>,
    /// Issuer.
    #[serde(default)]
    pub iss: Option<String>,
    /// Subject.
    #[serde(default)]
    pub sub: Option<String>,
}

/// Why a token could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three dot-separated parts.
    #[error("not a JWT (expected three dot-separated parts)")]
    Shape,
    /// The payload is not base64url.
    #[error("the JWT payload is not base64url")]
    Base64,
    /// The payload is not a JSON object with the expected types.
    #[error("the JWT payload is not the expected JSON: {0}")]
    Json(String),
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
        Null(()),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
        OneOrMany::Null(()) => Vec::new(),
    })
}

/// The raw payload of a JWT as JSON, unverified.
pub fn payload_unverified(
    token: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, JwtError> {
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Shape);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| JwtError::Base64)?;
    match serde_json::from_slice(&bytes) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(JwtError::Json("not an object".into())),
        Err(e) => Err(JwtError::Json(e.to_string())),
    }
}

/// The display claims of a JWT, unverified.
pub fn display_claims(token: &str) -> Result<DisplayClaims, JwtError> {
    let map = payload_unverified(token)?;
    serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| JwtError::Json(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn reads_the_claims_people_care_about() {
        let t = jwt(
            r#"{"amr":["pwd","mfa"],"acrs":"c1","xms_cc":["cp1"],"tid":"t","oid":"o",
                "scp":"User.Read","preferred_username":"alice@contoso.test","exp":1700000000,"other":1}"#,
        );
        let c = display_claims(&t).expect("decodes");
        assert_eq!(c.amr, ["pwd", "mfa"]);
        assert_eq!(c.acrs, ["c1"]);
        assert_eq!(c.xms_cc, ["cp1"]);
        assert_eq!(c.tid.as_deref(), Some("t"));
        assert_eq!(c.oid.as_deref(), Some("o"));
        assert_eq!(c.scp.as_deref(), Some("User.Read"));
        assert_eq!(c.preferred_username.as_deref(), Some("alice@contoso.test"));
        assert_eq!(c.exp, Some(1_700_000_000));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert_eq!(display_claims("opaque-token"), Err(JwtError::Shape));
        assert_eq!(display_claims("a.b.c.d"), Err(JwtError::Shape));
        assert_eq!(display_claims("a.!!!.c"), Err(JwtError::Base64));
        assert!(matches!(
            display_claims(&jwt("[1,2]")),
            Err(JwtError::Json(_))
        ));
        assert!(matches!(
            display_claims(&jwt(r#"{"exp":"soon"}"#)),
            Err(JwtError::Json(_))
        ));
        assert_eq!(display_claims(&jwt("{}")), Ok(DisplayClaims::default()));
    }
}
