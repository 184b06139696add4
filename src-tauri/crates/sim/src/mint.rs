//! Minting token responses: the access token (a JWT: HS256 and opaque for
//! Microsoft Graph, ES256 under the published key for any other API), the
//! id_token (RS256), the sealed refresh token and `client_info`, shaped like
//! Entra's v2.0 success body.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::keys::Keys;
use crate::model::SPA_LIFETIME_SECONDS;

/// Access tokens live one hour.
pub const ACCESS_TOKEN_SECONDS: i64 = 3_600;
/// The audience used when only OpenID scopes were asked for (Microsoft Graph's app id).
pub use reconnect_core::scope::GRAPH_APP_ID;

/// What a refresh token carries (sealed, so the simulator stores nothing per token).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshClaims {
    /// Session id.
    pub sid: String,
    /// When this refresh token was issued (virtual Unix seconds).
    pub iat: i64,
    /// The user's revocation generation when it was issued.
    pub generation: u64,
    /// Random, so every refresh token is distinct.
    pub n: String,
    /// The session's rotation serial when it was issued (strict rotation
    /// honours only the newest).
    #[serde(default)]
    pub serial: u64,
}

/// Everything needed to mint one response, gathered under the state lock.
#[derive(Debug, Clone)]
pub struct MintInput {
    /// Issuer (`{base}/{tid}/v2.0`).
    pub issuer: String,
    /// Tenant id.
    pub tid: String,
    /// Which key signs the id_token.
    pub id_key: crate::keys::IdTokenKey,
    /// The session's rotation serial, put in the new refresh token.
    pub serial: u64,
    /// User object id.
    pub oid: String,
    /// UPN.
    pub upn: String,
    /// Display name.
    pub name: String,
    /// Client id.
    pub client_id: String,
    /// Space-separated scopes asked for.
    pub scope: String,
    /// Session id.
    pub sid: String,
    /// Session auth time.
    pub auth_time: i64,
    /// MFA done in the session.
    pub mfa: bool,
    /// SPA tokens.
    pub spa: bool,
    /// User's revocation generation.
    pub generation: u64,
    /// id_token nonce.
    pub nonce: Option<String>,
    /// Whether `client_info=1` was sent.
    pub client_info: bool,
    /// Virtual now.
    pub now: i64,
}

#[derive(Serialize)]
struct AccessClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    amr: Vec<&'static str>,
    appid: &'a str,
    azp: &'a str,
    name: &'a str,
    oid: &'a str,
    preferred_username: &'a str,
    scp: String,
    sub: String,
    tid: &'a str,
    upn: &'a str,
    uti: String,
    ver: &'static str,
}

#[derive(Serialize)]
struct IdClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    oid: &'a str,
    preferred_username: &'a str,
    sub: String,
    tid: &'a str,
    ver: &'static str,
}

/// Splits a scope string into resource scopes (the OpenID ones dropped).
fn resource_scopes(scope: &str) -> Vec<&str> {
    scope
        .split_whitespace()
        .filter(|s| reconnect_core::scope::resource(s).is_some())
        .collect()
}

/// The audience of the first resource scope (see `reconnect_core::scope`).
fn audience(resources: &[&str]) -> String {
    resources
        .first()
        .and_then(|s| reconnect_core::scope::resource(s))
        .unwrap_or(GRAPH_APP_ID)
        .to_owned()
}

/// `scp`: scope names without their resource prefix.
fn scp(resources: &[&str]) -> String {
    if resources.is_empty() {
        return "User.Read".to_owned();
    }
    resources
        .iter()
        .map(|s| match s.rfind('/') {
            Some(i) if s.contains("://") => &s[i + 1..],
            _ => s,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A pairwise subject: stable per (user, client), different across clients.
fn pairwise_sub(oid: &str, client_id: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("{oid}|{client_id}").as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..24])
}

fn random_id() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Mints the success body.
pub fn mint(keys: &Keys, input: &MintInput) -> Result<serde_json::Value, SimError> {
    let asked: Vec<String> = input
        .scope
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let resources = resource_scopes(&input.scope);
    let now = input.now;
    let amr = if input.mfa {
        vec!["pwd", "mfa"]
    } else {
        vec!["pwd"]
    };
    // B2C: the client id asked for as a scope means a token for the app itself.
    let own = !resources.is_empty() && resources.iter().all(|s| *s == input.client_id);
    let aud = if own {
        input.client_id.clone()
    } else {
        audience(&resources)
    };
    let sub = pairwise_sub(&input.oid, &input.client_id);
    let access = AccessClaims {
        aud: &aud,
        iss: &input.issuer,
        iat: now,
        nbf: now,
        exp: now + ACCESS_TOKEN_SECONDS,
        amr,
        appid: &input.client_id,
        azp: &input.client_id,
        name: &input.name,
        oid: &input.oid,
        preferred_username: &input.upn,
        scp: scp(&resources),
        sub: sub.clone(),
        tid: &input.tid,
        upn: &input.upn,
        uti: random_id(),
        ver: "2.0",
    };
    let mut body = serde_json::Map::new();
    body.insert("token_type".into(), "Bearer".into());
    let granted: Vec<&str> = input
        .scope
        .split_whitespace()
        .filter(|s| !s.eq_ignore_ascii_case("offline_access"))
        .collect();
    let granted = if granted.is_empty() {
        "openid".to_owned()
    } else {
        granted.join(" ")
    };
    body.insert("scope".into(), granted.into());
    body.insert("expires_in".into(), ACCESS_TOKEN_SECONDS.into());
    body.insert("ext_expires_in".into(), ACCESS_TOKEN_SECONDS.into());
    let access_token = if reconnect_core::scope::is_graph(&aud) {
        keys.sign_graph_access_token(&access)?
    } else {
        keys.sign_access_token(&access)?
    };
    body.insert("access_token".into(), access_token.into());
    if asked.iter().any(|s| s == "offline_access") {
        let rt = RefreshClaims {
            sid: input.sid.clone(),
            iat: now,
            generation: input.generation,
            n: random_id(),
            serial: input.serial,
        };
        body.insert("refresh_token".into(), keys.seal(&rt)?.into());
        if input.spa {
            let left = (input.auth_time + SPA_LIFETIME_SECONDS - now).max(0);
            body.insert("refresh_token_expires_in".into(), left.into());
        }
    }
    if asked.iter().any(|s| s == "openid") {
        let id = IdClaims {
            aud: &input.client_id,
            iss: &input.issuer,
            iat: now,
            nbf: now,
            exp: now + ACCESS_TOKEN_SECONDS,
            name: &input.name,
            nonce: input.nonce.as_deref(),
            oid: &input.oid,
            preferred_username: &input.upn,
            sub,
            tid: &input.tid,
            ver: "2.0",
        };
        body.insert(
            "id_token".into(),
            keys.sign_id_token(&id, input.id_key)?.into(),
        );
    }
    if input.client_info {
        let info = serde_json::json!({ "uid": input.oid, "utid": input.tid }).to_string();
        body.insert("client_info".into(), URL_SAFE_NO_PAD.encode(info).into());
    }
    Ok(serde_json::Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audience_and_scp_follow_the_resource() {
        let r = resource_scopes(
            "openid https://graph.microsoft.com/User.Read offline_access api://app/x",
        );
        assert_eq!(
            r,
            vec!["https://graph.microsoft.com/User.Read", "api://app/x"]
        );
        assert_eq!(audience(&r), "https://graph.microsoft.com");
        assert_eq!(scp(&r), "User.Read x");
        assert_eq!(audience(&[]), GRAPH_APP_ID);
        let devops = ["499b84ac-1321-427f-aa17-267ca6975798/.default"];
        assert_eq!(audience(&devops), "499b84ac-1321-427f-aa17-267ca6975798");
        assert_eq!(audience(&["User.Read"]), GRAPH_APP_ID);
        assert_eq!(audience(&["not-an-id/.default"]), GRAPH_APP_ID);
        assert_eq!(audience(&["User.Read"]), GRAPH_APP_ID);
        assert_eq!(scp(&["Mail.Read"]), "Mail.Read");
    }

    #[test]
    fn pairwise_subjects_differ_per_client() {
        assert_ne!(pairwise_sub("o", "a"), pairwise_sub("o", "b"));
        assert_eq!(pairwise_sub("o", "a"), pairwise_sub("o", "a"));
    }
}
