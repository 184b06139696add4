//! id_token validation: the signature against the provider's JWKS (by `kid`),
//! then `iss`, `aud` (and `azp` when `aud` names several parties), `nonce`,
//! and `exp`, `nbf` and `iat` with the same clock skew. Unsigned (`alg: none`) and symmetric
//! (`HS*`) tokens are refused outright: a public client has no shared secret,
//! so an HMAC "signature" proves nothing.
//!
//! A token whose key is not in the key set gets one more chance
//! ([`IdTokenValidator::validate_fetching`]): the key set is fetched again
//! (keys rotate) and, for a Microsoft provider ([`IdTokenValidator::with_app_keys`]),
//! so are the keys Entra publishes for the one application at
//! `jwks_uri?appid={client_id}`. An app with a custom signing key (a
//! claims-mapping policy) gets id_tokens signed with a key found only there.
//! Other providers have no such per-application key set, so for them the
//! extra request is not made.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reconnect_core::secret::IdToken;
use reconnect_core::tokens::UnixTime;
use serde::Deserialize;
use url::Url;

use crate::client::TokenClient;
use crate::endpoints::ProviderMetadata;
use crate::error::FetchError;

/// Seconds of clock difference tolerated on `exp`, `nbf` and `iat`.
pub const CLOCK_SKEW_SECONDS: i64 = 300;

/// The identity an id_token vouches for, once validated.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IdTokenClaims {
    /// Issuer.
    pub iss: String,
    /// Subject (pairwise per app on Entra).
    pub sub: String,
    /// Expiry.
    pub exp: i64,
    /// Not valid before.
    #[serde(default)]
    pub nbf: Option<i64>,
    /// Issued at.
    #[serde(default)]
    pub iat: Option<i64>,
    /// The audience: one party, or several.
    #[serde(default)]
    pub aud: Audience,
    /// The party the token was issued to, when `aud` names several.
    #[serde(default)]
    pub azp: Option<String>,
    /// The nonce sent with the authorization request.
    #[serde(default)]
    pub nonce: Option<String>,
    /// Entra object id of the user.
    #[serde(default)]
    pub oid: Option<String>,
    /// Entra tenant id.
    #[serde(default)]
    pub tid: Option<String>,
    /// The sign-in name (Entra) shown to people.
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// E-mail, when the provider sends one.
    #[serde(default)]
    pub email: Option<String>,
}

/// An id_token's `aud`: a string or an array of strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// No `aud` (refused before this is read).
    #[default]
    None,
    /// One party.
    One(String),
    /// Several parties.
    Many(Vec<String>),
}

impl IdTokenClaims {
    /// The best human-readable name of who signed in.
    pub fn display_user(&self) -> &str {
        self.preferred_username
            .as_deref()
            .or(self.email.as_deref())
            .or(self.name.as_deref())
            .unwrap_or(&self.sub)
    }
}

/// Why an id_token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum IdTokenError {
    /// The signing keys could not be fetched.
    #[error("could not fetch the provider's signing keys")]
    Keys(#[from] FetchError),
    /// Not a JWT at all.
    #[error("the id_token is not a well-formed JWT")]
    Malformed,
    /// `alg: none`.
    #[error("the id_token is unsigned (alg \"none\") and was refused")]
    Unsigned,
    /// A symmetric or unknown algorithm.
    #[error("the id_token uses algorithm {0}, which Reconnect does not accept")]
    Algorithm(String),
    /// No key in the JWKS has the token's `kid` (for a Microsoft provider,
    /// after the application's own key set was looked at too).
    #[error(
        "the provider publishes no signing key `{0}` (for Microsoft, neither among the \
         tenant's keys nor among the application's own)"
    )]
    UnknownKey(String),
    /// The key in the JWKS cannot be used.
    #[error("the provider's signing key `{kid}` is unusable")]
    BadKey {
        /// The key id.
        kid: String,
        /// Why.
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    /// `aud` names several parties and `azp` does not name this app.
    #[error("the id_token names several audiences but was not issued to this application (azp)")]
    AuthorizedParty,
    /// `nbf` or `iat` lies in the future beyond the allowed clock skew.
    #[error(
        "the id_token is not valid yet (it claims a time {ahead} s ahead of this computer's clock; \
         check the clock)"
    )]
    NotYetValid {
        /// How far ahead, in seconds.
        ahead: i64,
    },
    /// The signature (or the token's shape) did not verify.
    #[error("the id_token's signature does not verify")]
    Signature(#[source] jsonwebtoken::errors::Error),
    /// Missing or wrong audience.
    #[error("the id_token is not addressed to this application (aud missing or different)")]
    Audience,
    /// Wrong issuer.
    #[error("the id_token was issued by `{found}`, expected `{expected}`")]
    Issuer {
        /// Expected issuer.
        expected: String,
        /// Issuer in the token.
        found: String,
    },
    /// Nonce missing or different.
    #[error("the id_token's nonce does not match this sign-in (possible replay)")]
    Nonce,
    /// Expired.
    #[error("the id_token expired at {exp} (now {now})")]
    Expired {
        /// Its `exp`.
        exp: i64,
        /// Now.
        now: i64,
    },
}

/// Validates id_tokens of one provider.
#[derive(Debug, Clone)]
pub struct IdTokenValidator {
    meta: ProviderMetadata,
    jwks: JwkSet,
    /// Whether an unknown key is also looked for at `jwks_uri?appid=`.
    app_keys: bool,
}

const ACCEPTED: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

impl IdTokenValidator {
    /// Builds a validator from a discovery document and its key set.
    pub fn new(meta: ProviderMetadata, jwks: JwkSet) -> Self {
        Self {
            meta,
            jwks,
            app_keys: false,
        }
    }

    /// This validator, also looking for an unknown key among the keys Entra
    /// publishes for the application (see [`app_keys_uri`]). For Microsoft
    /// providers.
    pub fn with_app_keys(mut self) -> Self {
        self.app_keys = true;
        self
    }

    /// Fetches the provider's JWKS.
    pub async fn fetch(client: &TokenClient, meta: ProviderMetadata) -> Result<Self, IdTokenError> {
        let jwks: JwkSet = client.get_json(&meta.jwks_uri).await?;
        Ok(Self::new(meta, jwks))
    }

    /// The discovery document in use.
    pub fn metadata(&self) -> &ProviderMetadata {
        &self.meta
    }

    /// Checks signature, `iss`, `aud` (= `client_id`), `nonce` and `exp`.
    pub fn validate(
        &self,
        token: &IdToken,
        client_id: &str,
        nonce: &str,
        now: UnixTime,
    ) -> Result<IdTokenClaims, IdTokenError> {
        self.check(token, client_id, Some(nonce), now)
    }

    /// Checks signature, `iss`, `aud` and `exp` of an id_token from a grant
    /// that sends no nonce (the device authorization grant: the token comes
    /// straight from the token endpoint in answer to the flow's own device
    /// code, so there is no redirect to replay into).
    pub fn validate_without_nonce(
        &self,
        token: &IdToken,
        client_id: &str,
        now: UnixTime,
    ) -> Result<IdTokenClaims, IdTokenError> {
        self.check(token, client_id, None, now)
    }

    /// Like [`validate`](Self::validate) (with a nonce) or
    /// [`validate_without_nonce`](Self::validate_without_nonce), but a token
    /// signed with a key this validator lacks is checked once more against
    /// freshly fetched keys (see [`refetched`](Self::refetched)). A failed
    /// fetch is [`IdTokenError::Keys`]; a key still missing is
    /// [`IdTokenError::UnknownKey`].
    pub async fn validate_fetching(
        &self,
        client: &TokenClient,
        token: &IdToken,
        client_id: &str,
        nonce: Option<&str>,
        now: UnixTime,
    ) -> Result<IdTokenClaims, IdTokenError> {
        match self.check(token, client_id, nonce, now) {
            Err(IdTokenError::UnknownKey(_)) => {
                let fresh = self.refetched(client, client_id).await?;
                fresh.check(token, client_id, nonce, now)
            }
            other => other,
        }
    }

    /// This validator with its key set fetched again and, with
    /// [`with_app_keys`](Self::with_app_keys), the application's own keys
    /// (`jwks_uri?appid={client_id}`) added, both fetched at once.
    pub async fn refetched(
        &self,
        client: &TokenClient,
        client_id: &str,
    ) -> Result<Self, IdTokenError> {
        let tenant = client.get_json::<JwkSet>(&self.meta.jwks_uri);
        let jwks = if self.app_keys {
            let app_uri = app_keys_uri(&self.meta.jwks_uri, client_id);
            let (tenant, app) = tokio::join!(tenant, client.get_json::<JwkSet>(&app_uri));
            merged(tenant?, app?)
        } else {
            tenant.await?
        };
        Ok(Self {
            meta: self.meta.clone(),
            jwks,
            app_keys: self.app_keys,
        })
    }

    fn check(
        &self,
        token: &IdToken,
        client_id: &str,
        nonce: Option<&str>,
        now: UnixTime,
    ) -> Result<IdTokenClaims, IdTokenError> {
        let text = token.expose();
        let header_part = text.split('.').next().ok_or(IdTokenError::Malformed)?;
        let header_bytes = URL_SAFE_NO_PAD
            .decode(header_part.trim_end_matches('='))
            .map_err(|_| IdTokenError::Malformed)?;
        let header: RawHeader =
            serde_json::from_slice(&header_bytes).map_err(|_| IdTokenError::Malformed)?;
        if header.alg.eq_ignore_ascii_case("none") {
            return Err(IdTokenError::Unsigned);
        }
        let alg = ACCEPTED
            .into_iter()
            .find(|a| format!("{a:?}") == header.alg)
            .ok_or_else(|| IdTokenError::Algorithm(header.alg.clone()))?;
        let jwk = match &header.kid {
            Some(kid) => self
                .jwks
                .find(kid)
                .ok_or_else(|| IdTokenError::UnknownKey(kid.clone()))?,
            None if self.jwks.keys.len() == 1 => &self.jwks.keys[0],
            None => return Err(IdTokenError::UnknownKey("(none given)".into())),
        };
        let kid = header.kid.clone().unwrap_or_default();
        let key =
            DecodingKey::from_jwk(jwk).map_err(|source| IdTokenError::BadKey { kid, source })?;
        let mut validation = Validation::new(alg);
        validation.validate_exp = false;
        // `aud` must be present: jsonwebtoken checks the audience only when
        // the claim exists, so a token without one would otherwise pass.
        validation.set_required_spec_claims(&["aud"]);
        validation.set_audience(&[client_id]);
        let data =
            jsonwebtoken::decode::<IdTokenClaims>(text, &key, &validation).map_err(|e| match e
                .kind()
            {
                jsonwebtoken::errors::ErrorKind::InvalidAudience
                | jsonwebtoken::errors::ErrorKind::MissingRequiredClaim(_) => {
                    IdTokenError::Audience
                }
                _ => IdTokenError::Signature(e),
            })?;
        let claims = data.claims;
        let expected = self
            .meta
            .issuer_for(claims.tid.as_deref())
            .unwrap_or_else(|| self.meta.issuer.clone());
        if claims.iss.trim_end_matches('/') != expected.trim_end_matches('/') {
            return Err(IdTokenError::Issuer {
                expected,
                found: claims.iss,
            });
        }
        if let Some(nonce) = nonce
            && claims.nonce.as_deref() != Some(nonce)
        {
            return Err(IdTokenError::Nonce);
        }
        check_times(&claims, now)?;
        if let Audience::Many(parties) = &claims.aud
            && parties.len() > 1
            && claims.azp.as_deref() != Some(client_id)
        {
            return Err(IdTokenError::AuthorizedParty);
        }
        Ok(claims)
    }
}

/// Where Entra publishes the keys of one application: `jwks_uri` with
/// `appid={client_id}` set. Other query parameters stay; an `appid` already
/// there is replaced.
pub fn app_keys_uri(jwks_uri: &Url, client_id: &str) -> Url {
    let kept: Vec<(String, String)> = jwks_uri
        .query_pairs()
        .filter(|(name, _)| name != "appid")
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let mut url = jwks_uri.clone();
    url.set_query(None);
    url.query_pairs_mut()
        .extend_pairs(kept)
        .append_pair("appid", client_id);
    url
}

/// `first`'s keys followed by those of `more` whose key id `first` lacks.
fn merged(mut first: JwkSet, more: JwkSet) -> JwkSet {
    for jwk in more.keys {
        let known = match &jwk.common.key_id {
            Some(kid) => first.find(kid).is_some(),
            None => first.keys.contains(&jwk),
        };
        if !known {
            first.keys.push(jwk);
        }
    }
    first
}

/// `exp`, `nbf` and `iat` against `now`, each with [`CLOCK_SKEW_SECONDS`].
fn check_times(claims: &IdTokenClaims, now: UnixTime) -> Result<(), IdTokenError> {
    if claims.exp.saturating_add(CLOCK_SKEW_SECONDS) <= now {
        return Err(IdTokenError::Expired {
            exp: claims.exp,
            now,
        });
    }
    let latest = claims.nbf.into_iter().chain(claims.iat).max();
    if let Some(start) = latest
        && start > now.saturating_add(CLOCK_SKEW_SECONDS)
    {
        return Err(IdTokenError::NotYetValid { ahead: start - now });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_keys_uri_adds_appid_and_keeps_the_rest() {
        let plain = Url::parse("https://login.test/t/discovery/v2.0/keys").unwrap();
        assert_eq!(
            app_keys_uri(&plain, "app-1").as_str(),
            "https://login.test/t/discovery/v2.0/keys?appid=app-1"
        );
        let with_query = Url::parse("https://b2c.test/t/discovery/v2.0/keys?p=B2C_1_x").unwrap();
        assert_eq!(
            app_keys_uri(&with_query, "a b").as_str(),
            "https://b2c.test/t/discovery/v2.0/keys?p=B2C_1_x&appid=a+b"
        );
        let again = Url::parse("https://login.test/keys?appid=old&x=1").unwrap();
        assert_eq!(
            app_keys_uri(&again, "new").as_str(),
            "https://login.test/keys?x=1&appid=new"
        );
    }

    #[test]
    fn merged_adds_only_new_key_ids() {
        let set = |kids: &[&str]| -> JwkSet {
            let keys: Vec<serde_json::Value> = kids
                .iter()
                .map(|kid| serde_json::json!({"kty": "oct", "k": "AAAA", "kid": kid}))
                .collect();
            serde_json::from_value(serde_json::json!({ "keys": keys })).unwrap()
        };
        let all = merged(set(&["a", "b"]), set(&["b", "c"]));
        let kids: Vec<_> = all
            .keys
            .iter()
            .filter_map(|k| k.common.key_id.as_deref())
            .collect();
        assert_eq!(kids, ["a", "b", "c"]);
    }
}
