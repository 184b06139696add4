//! The simulator's signing keys and the JWKS that publishes them.
//!
//! id_tokens are RS256-signed with a fixed, public test key (see
//! `fixtures/README.md`). Access tokens for a tester's own API (`api://…`
//! scopes) are ES256-signed with a P-256 key generated per process and
//! published in the JWKS, so an API under test can validate them. Access
//! tokens for Microsoft Graph are, as on Entra, meant for Graph alone (Entra's
//! cannot be validated by anyone else): the simulator signs those with HS256
//! under a per-process secret, which costs a microsecond instead of the
//! ECDSA signature's tens, so the simulator holds up as a load target.
//! Refresh tokens are HS256-sealed with another per-process secret so that
//! they need no storage (old refresh tokens stay valid, as on Entra).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore as _;
use serde::Serialize;

use crate::SimError;

/// The RSA key id published in the JWKS and put in id_token headers.
pub const RSA_KID: &str = "reconnect-sim-key-1";
/// The key id of the custom signing key: the key Entra uses for the id_tokens
/// of apps with a custom signing key (claims-mapping policies), published only
/// at `jwks_uri?appid={client_id}` for those apps.
pub const APP_RSA_KID: &str = "reconnect-sim-app-key-1";
/// The EC key id for access tokens.
pub const EC_KID: &str = "reconnect-sim-es-1";

/// How many signed id_tokens are remembered for reuse (all are let go at once past that).
pub const ID_TOKEN_CACHE: usize = 1_024;

const RSA_PEM: &str = include_str!("../fixtures/signing-key.pem");
const RSA_JWK: &str = include_str!("../fixtures/signing-key.jwk.json");
const APP_RSA_PEM: &str = include_str!("../fixtures/app-signing-key.pem");
const APP_RSA_JWK: &str = include_str!("../fixtures/app-signing-key.jwk.json");

/// Which RSA key signs an app's id_tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdTokenKey {
    /// The tenant's key, in the plain JWKS.
    Tenant,
    /// The custom signing key, only in the JWKS asked for with `?appid=`.
    App,
}

/// All keys one simulator signs with.
pub struct Keys {
    rsa: EncodingKey,
    app_rsa: EncodingKey,
    /// Recently signed id_tokens by their claims (see [`Keys::sign_id_token`]).
    id_tokens: std::sync::Mutex<std::collections::HashMap<String, String>>,
    /// The EC key pair, parsed once (jsonwebtoken 9 parses it again for every signature).
    ec: ring::signature::EcdsaKeyPair,
    random: ring::rand::SystemRandom,
    opaque: EncodingKey,
    seal: EncodingKey,
    unseal: jsonwebtoken::DecodingKey,
    unseal_rules: jsonwebtoken::Validation,
    jwks: serde_json::Value,
    app_jwks: serde_json::Value,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("rsa_kid", &RSA_KID)
            .field("ec_kid", &EC_KID)
            .finish_non_exhaustive()
    }
}

impl Keys {
    /// Loads the fixed RSA key and generates the per-process keys.
    pub fn load() -> Result<Self, SimError> {
        let rsa = EncodingKey::from_rsa_pem(RSA_PEM.as_bytes())
            .map_err(|e| SimError::Keys(e.to_string()))?;
        let rsa_jwk: serde_json::Value =
            serde_json::from_str(RSA_JWK).map_err(|e| SimError::Keys(e.to_string()))?;
        let app_rsa = EncodingKey::from_rsa_pem(APP_RSA_PEM.as_bytes())
            .map_err(|e| SimError::Keys(e.to_string()))?;
        let app_jwk: serde_json::Value =
            serde_json::from_str(APP_RSA_JWK).map_err(|e| SimError::Keys(e.to_string()))?;
        let ec_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| SimError::Keys(e.to_string()))?;
        let random = ring::rand::SystemRandom::new();
        let ec = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &ec_pair.serialize_der(),
            &random,
        )
        .map_err(|e| SimError::Keys(e.to_string()))?;
        let raw = ec_pair.public_key_raw();
        // Uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
        if raw.len() != 65 || raw[0] != 4 {
            return Err(SimError::Keys("unexpected P-256 public key shape".into()));
        }
        let ec_jwk = serde_json::json!({
            "kty": "EC", "use": "sig", "alg": "ES256", "crv": "P-256", "kid": EC_KID,
            "x": URL_SAFE_NO_PAD.encode(&raw[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&raw[33..65]),
        });
        let mut seal_secret = [0u8; 32];
        rand::rng().fill_bytes(&mut seal_secret);
        let mut opaque_secret = [0u8; 32];
        rand::rng().fill_bytes(&mut opaque_secret);
        Ok(Self {
            rsa,
            app_rsa,
            id_tokens: std::sync::Mutex::default(),
            ec,
            random,
            opaque: EncodingKey::from_secret(&opaque_secret),
            seal: EncodingKey::from_secret(&seal_secret),
            unseal: jsonwebtoken::DecodingKey::from_secret(&seal_secret),
            unseal_rules: {
                let mut rules = jsonwebtoken::Validation::new(Algorithm::HS256);
                rules.required_spec_claims.clear();
                rules.validate_exp = false;
                rules
            },
            app_jwks: serde_json::json!({ "keys": [rsa_jwk.clone(), ec_jwk.clone(), app_jwk] }),
            jwks: serde_json::json!({ "keys": [rsa_jwk, ec_jwk] }),
        })
    }

    /// The JWKS document.
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }

    /// The JWKS for an app with a custom signing key (`?appid=`): the
    /// tenant's keys and the app's.
    pub fn app_jwks(&self) -> &serde_json::Value {
        &self.app_jwks
    }

    /// Signs id_token claims with RS256.
    ///
    /// An RS256 signature is deterministic and costs about a millisecond, so
    /// the token signed for the same claims moments ago is handed out again:
    /// a client refreshing many times a second gets the id_token it would
    /// have got anyway (claims carry `iat` to the second, so none lives past
    /// its second). At most [`ID_TOKEN_CACHE`] are remembered.
    pub fn sign_id_token(
        &self,
        claims: &impl Serialize,
        with: IdTokenKey,
    ) -> Result<String, SimError> {
        let mut key = serde_json::to_string(claims).map_err(|e| SimError::Keys(e.to_string()))?;
        if with == IdTokenKey::App {
            key.push_str("|app");
        }
        let cache = || self.id_tokens.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(token) = cache().get(&key) {
            return Ok(token.clone());
        }
        let mut header = Header::new(Algorithm::RS256);
        let (kid, rsa) = match with {
            IdTokenKey::Tenant => (RSA_KID, &self.rsa),
            IdTokenKey::App => (APP_RSA_KID, &self.app_rsa),
        };
        header.kid = Some(kid.to_owned());
        let token = jsonwebtoken::encode(&header, claims, rsa)
            .map_err(|e| SimError::Keys(e.to_string()))?;
        let mut cache = cache();
        if cache.len() >= ID_TOKEN_CACHE {
            cache.clear();
        }
        cache.insert(key, token.clone());
        Ok(token)
    }

    /// Signs access-token claims with ES256 under the published EC key
    /// (tokens for a tester's own API, which may validate them).
    pub fn sign_access_token(&self, claims: &impl Serialize) -> Result<String, SimError> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(EC_KID.to_owned());
        let header = serde_json::to_vec(&header).map_err(|e| SimError::Keys(e.to_string()))?;
        let claims = serde_json::to_vec(claims).map_err(|e| SimError::Keys(e.to_string()))?;
        let mut token = URL_SAFE_NO_PAD.encode(header);
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(claims));
        let signature = self
            .ec
            .sign(&self.random, token.as_bytes())
            .map_err(|e| SimError::Keys(e.to_string()))?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature.as_ref()));
        Ok(token)
    }

    /// Signs access-token claims meant for Microsoft Graph alone: HS256 under
    /// a per-process secret that is published nowhere. Clients read such
    /// tokens as opaque, as they must with Entra's Graph tokens.
    pub fn sign_graph_access_token(&self, claims: &impl Serialize) -> Result<String, SimError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.opaque)
            .map_err(|e| SimError::Keys(e.to_string()))
    }

    /// Seals refresh-token contents (HS256) so they can be checked without storage.
    pub fn seal(&self, claims: &impl Serialize) -> Result<String, SimError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.seal)
            .map_err(|e| SimError::Keys(e.to_string()))
    }

    /// Opens a sealed refresh token; `None` when it was not sealed by this process.
    pub fn unseal<T: serde::de::DeserializeOwned>(&self, token: &str) -> Option<T> {
        jsonwebtoken::decode::<T>(token, &self.unseal, &self.unseal_rules)
            .ok()
            .map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    #[derive(Serialize, serde::Deserialize)]
    struct Probe {
        sub: String,
        exp: i64,
    }

    fn probe() -> Probe {
        Probe {
            sub: "probe".into(),
            exp: 4_000_000_000,
        }
    }

    fn jwk(keys: &Keys, kid: &str) -> serde_json::Value {
        find(keys.jwks(), kid)
    }

    fn find(jwks: &serde_json::Value, kid: &str) -> serde_json::Value {
        jwks["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|k| k["kid"] == kid)
            .cloned()
            .unwrap_or_default()
    }

    /// Verifies an RS256 token against a JWK from a published set.
    fn verify_rs256(token: &str, k: &serde_json::Value) -> jsonwebtoken::TokenData<Probe> {
        let key = DecodingKey::from_rsa_components(
            k["n"].as_str().unwrap_or(""),
            k["e"].as_str().unwrap_or(""),
        )
        .expect("jwk");
        let mut v = Validation::new(Algorithm::RS256);
        v.required_spec_claims.clear();
        jsonwebtoken::decode::<Probe>(token, &key, &v).expect("verifies")
    }

    #[test]
    fn published_rsa_key_verifies_id_tokens() {
        let keys = Keys::load().expect("keys");
        let token = keys
            .sign_id_token(&probe(), IdTokenKey::Tenant)
            .expect("sign");
        let data = verify_rs256(&token, &jwk(&keys, RSA_KID));
        assert_eq!(data.claims.sub, "probe");
        assert_eq!(data.header.kid.as_deref(), Some(RSA_KID));
    }

    #[test]
    fn the_custom_signing_key_is_published_only_in_the_app_key_set() {
        let keys = Keys::load().expect("keys");
        assert_eq!(jwk(&keys, APP_RSA_KID), serde_json::Value::Null);
        let k = find(keys.app_jwks(), APP_RSA_KID);
        let token = keys.sign_id_token(&probe(), IdTokenKey::App).expect("sign");
        let data = verify_rs256(&token, &k);
        assert_eq!(data.header.kid.as_deref(), Some(APP_RSA_KID));
        assert_ne!(
            token,
            keys.sign_id_token(&probe(), IdTokenKey::Tenant)
                .expect("sign"),
            "the cache keeps the two keys apart"
        );
        assert_eq!(
            find(keys.app_jwks(), RSA_KID),
            jwk(&keys, RSA_KID),
            "the app's set still has the tenant's key"
        );
    }

    #[test]
    fn published_ec_key_verifies_access_tokens() {
        let keys = Keys::load().expect("keys");
        let token = keys.sign_access_token(&probe()).expect("sign");
        let k = jwk(&keys, EC_KID);
        let key = DecodingKey::from_ec_components(
            k["x"].as_str().unwrap_or(""),
            k["y"].as_str().unwrap_or(""),
        )
        .expect("jwk");
        let mut v = Validation::new(Algorithm::ES256);
        v.required_spec_claims.clear();
        assert!(jsonwebtoken::decode::<Probe>(&token, &key, &v).is_ok());
    }

    #[test]
    fn sealed_tokens_open_only_with_the_same_process_keys() {
        let keys = Keys::load().expect("keys");
        let other = Keys::load().expect("keys");
        let sealed = keys.seal(&probe()).expect("seal");
        assert_eq!(
            keys.unseal::<Probe>(&sealed).map(|p| p.sub).as_deref(),
            Some("probe")
        );
        assert!(other.unseal::<Probe>(&sealed).is_none());
        assert!(keys.unseal::<Probe>("not a token").is_none());
    }

    #[test]
    fn graph_access_tokens_are_not_refresh_tokens() {
        let keys = Keys::load().expect("keys");
        let token = keys.sign_graph_access_token(&probe()).expect("sign");
        let header = jsonwebtoken::decode_header(&token).expect("header");
        assert_eq!(header.alg, Algorithm::HS256);
        assert!(header.kid.is_none(), "no published key signs Graph tokens");
        assert!(
            keys.unseal::<Probe>(&token).is_none(),
            "an access token must not open as a refresh token"
        );
    }

    #[test]
    fn id_tokens_for_the_same_claims_are_reused_and_others_are_signed_afresh() {
        let keys = Keys::load().expect("keys");
        let first = keys
            .sign_id_token(&probe(), IdTokenKey::Tenant)
            .expect("sign");
        assert_eq!(
            keys.sign_id_token(&probe(), IdTokenKey::Tenant)
                .expect("sign"),
            first
        );
        let later = Probe {
            exp: probe().exp + 1,
            ..probe()
        };
        let other = keys
            .sign_id_token(&later, IdTokenKey::Tenant)
            .expect("sign");
        assert_ne!(other, first);
        for exp in 0..ID_TOKEN_CACHE as i64 + 5 {
            let token = keys
                .sign_id_token(&Probe { exp, ..probe() }, IdTokenKey::Tenant)
                .expect("sign");
            let payload = token.split('.').nth(1).expect("payload");
            let claims: serde_json::Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64"))
                    .expect("json");
            assert_eq!(claims["exp"], exp, "each token carries its own claims");
        }
        assert!(keys.id_tokens.lock().expect("cache").len() <= ID_TOKEN_CACHE);
    }
}
