//! The simulator's signing keys and the JWKS that publishes them.
//!
//! id_tokens are RS256-signed with a fixed, public test key (see
//! `fixtures/README.md`). Access tokens are ES256-signed with a P-256 key
//! generated per process: ECDSA signing is fast enough for the simulator to be
//! used as a load target, and clients treat access tokens as opaque anyway.
//! Refresh tokens are HS256-sealed with a per-process secret so that they need
//! no storage (old refresh tokens stay valid, as on Entra).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore as _;
use serde::Serialize;

use crate::SimError;

/// The RSA key id published in the JWKS and put in id_token headers.
pub const RSA_KID: &str = "reconnect-sim-key-1";
/// The EC key id for access tokens.
pub const EC_KID: &str = "reconnect-sim-es-1";

const RSA_PEM: &str = include_str!("../fixtures/signing-key.pem");
const RSA_JWK: &str = include_str!("../fixtures/signing-key.jwk.json");

/// All keys one simulator signs with.
pub struct Keys {
    rsa: EncodingKey,
    ec: EncodingKey,
    seal: EncodingKey,
    seal_secret: Vec<u8>,
    jwks: serde_json::Value,
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
        let ec_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| SimError::Keys(e.to_string()))?;
        let ec = EncodingKey::from_ec_der(&ec_pair.serialize_der());
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
        let mut seal_secret = vec![0u8; 32];
        rand::rng().fill_bytes(&mut seal_secret);
        Ok(Self {
            rsa,
            ec,
            seal: EncodingKey::from_secret(&seal_secret),
            seal_secret,
            jwks: serde_json::json!({ "keys": [rsa_jwk, ec_jwk] }),
        })
    }

    /// The JWKS document.
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }

    /// Signs id_token claims with RS256.
    pub fn sign_id_token(&self, claims: &impl Serialize) -> Result<String, SimError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(RSA_KID.to_owned());
        jsonwebtoken::encode(&header, claims, &self.rsa).map_err(|e| SimError::Keys(e.to_string()))
    }

    /// Signs access-token claims with ES256.
    pub fn sign_access_token(&self, claims: &impl Serialize) -> Result<String, SimError> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(EC_KID.to_owned());
        jsonwebtoken::encode(&header, claims, &self.ec).map_err(|e| SimError::Keys(e.to_string()))
    }

    /// Seals refresh-token contents (HS256) so they can be checked without storage.
    pub fn seal(&self, claims: &impl Serialize) -> Result<String, SimError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.seal)
            .map_err(|e| SimError::Keys(e.to_string()))
    }

    /// Opens a sealed refresh token; `None` when it was not sealed by this process.
    pub fn unseal<T: serde::de::DeserializeOwned>(&self, token: &str) -> Option<T> {
        let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let key = jsonwebtoken::DecodingKey::from_secret(&self.seal_secret);
        jsonwebtoken::decode::<T>(token, &key, &validation)
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
        keys.jwks()["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|k| k["kid"] == kid)
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn published_rsa_key_verifies_id_tokens() {
        let keys = Keys::load().expect("keys");
        let token = keys.sign_id_token(&probe()).expect("sign");
        let k = jwk(&keys, RSA_KID);
        let key = DecodingKey::from_rsa_components(
            k["n"].as_str().unwrap_or(""),
            k["e"].as_str().unwrap_or(""),
        )
        .expect("jwk");
        let mut v = Validation::new(Algorithm::RS256);
        v.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Probe>(&token, &key, &v).expect("verifies");
        assert_eq!(data.claims.sub, "probe");
        assert_eq!(data.header.kid.as_deref(), Some(RSA_KID));
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
}
