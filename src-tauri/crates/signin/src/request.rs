//! The authorization request: PKCE (S256), `state` and `nonce` from the
//! operating system's CSPRNG (via the `oauth2` crate), and the authorize URL
//! with every parameter the flow sends.

use oauth2::{CsrfToken, PkceCodeChallenge};
use reconnect_core::secret::PkceVerifier;
use url::Url;

/// Bytes of randomness in `state` and `nonce` (256 bits each).
const RANDOM_BYTES: u32 = 32;

/// The one-time secrets of one sign-in attempt.
pub struct AttemptSecrets {
    /// PKCE verifier (sent only to the token endpoint).
    pub verifier: PkceVerifier,
    /// PKCE challenge (S256 of the verifier; sent to the browser).
    pub challenge: String,
    /// The `state` value the callback must echo.
    pub state: String,
    /// The `nonce` the id_token must carry.
    pub nonce: String,
}

impl std::fmt::Debug for AttemptSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttemptSecrets")
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

impl AttemptSecrets {
    /// Fresh random values.
    pub fn generate() -> Self {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        Self {
            verifier: PkceVerifier::new(verifier.secret().clone()),
            challenge: challenge.as_str().to_owned(),
            state: CsrfToken::new_random_len(RANDOM_BYTES).secret().clone(),
            nonce: CsrfToken::new_random_len(RANDOM_BYTES).secret().clone(),
        }
    }
}

/// What goes into the authorize URL besides the secrets.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeParams {
    /// The app's client id.
    pub client_id: String,
    /// Space-separated scopes (`openid` is added when missing).
    pub scope: String,
    /// The loopback redirect URI.
    pub redirect_uri: String,
    /// `login_hint` (the connection's user).
    pub login_hint: Option<String>,
    /// `domain_hint`.
    pub domain_hint: Option<String>,
    /// The merged `claims` parameter.
    pub claims: Option<String>,
    /// Ask the provider to show the account picker.
    pub select_account: bool,
    /// Ask for consent (`prompt=consent`): OpenID Connect providers grant
    /// `offline_access`, and so a refresh token, only with it (Core §11).
    pub consent: bool,
}

/// The scope with `openid` guaranteed (the id_token is what the
/// same-account guard checks).
pub fn with_openid(scope: &str) -> String {
    if scope.split_whitespace().any(|s| s == "openid") {
        scope.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        std::iter::once("openid")
            .chain(scope.split_whitespace())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The full authorize URL.
pub fn authorize_url(endpoint: &Url, params: &AuthorizeParams, secrets: &AttemptSecrets) -> Url {
    let mut url = endpoint.clone();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("client_id", &params.client_id)
            .append_pair("response_type", "code")
            .append_pair("response_mode", "query")
            .append_pair("redirect_uri", &params.redirect_uri)
            .append_pair("scope", &with_openid(&params.scope))
            .append_pair("state", &secrets.state)
            .append_pair("nonce", &secrets.nonce)
            .append_pair("code_challenge", &secrets.challenge)
            .append_pair("code_challenge_method", "S256");
        if let Some(hint) = params.login_hint.as_deref().filter(|h| !h.is_empty()) {
            q.append_pair("login_hint", hint);
        }
        if let Some(hint) = params.domain_hint.as_deref().filter(|h| !h.is_empty()) {
            q.append_pair("domain_hint", hint);
        }
        if let Some(claims) = &params.claims {
            q.append_pair("claims", claims);
        }
        let prompt: Vec<&str> = [
            params.select_account.then_some("select_account"),
            params.consent.then_some("consent"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !prompt.is_empty() {
            q.append_pair("prompt", &prompt.join(" "));
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn secrets_are_long_random_and_distinct() {
        let a = AttemptSecrets::generate();
        let b = AttemptSecrets::generate();
        // 32 random bytes in unpadded base64url are 43 characters (256 bits).
        assert_eq!(a.state.len(), 43);
        assert_eq!(a.nonce.len(), 43);
        assert!(a.verifier.len() >= 43);
        assert_ne!(a.state, b.state);
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.state, a.nonce);
        assert_ne!(a.verifier, b.verifier);
        assert!(!format!("{a:?}").contains(&a.state));
    }

    #[test]
    fn url_carries_pkce_state_nonce_hints_claims_and_prompt() {
        let secrets = AttemptSecrets::generate();
        let params = AuthorizeParams {
            client_id: "app".into(),
            scope: "offline_access User.Read".into(),
            redirect_uri: "http://localhost:5000/".into(),
            login_hint: Some("alice@contoso.test".into()),
            domain_hint: Some("contoso.test".into()),
            claims: Some(r#"{"access_token":{}}"#.into()),
            select_account: true,
            consent: false,
        };
        let endpoint = Url::parse("http://127.0.0.1:9/common/oauth2/v2.0/authorize").unwrap();
        let url = authorize_url(&endpoint, &params, &secrets);
        let q: HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"], secrets.challenge);
        assert_eq!(q["state"], secrets.state);
        assert_eq!(q["nonce"], secrets.nonce);
        assert_eq!(q["scope"], "openid offline_access User.Read");
        assert_eq!(q["login_hint"], "alice@contoso.test");
        assert_eq!(q["domain_hint"], "contoso.test");
        assert_eq!(q["claims"], r#"{"access_token":{}}"#);
        assert_eq!(q["prompt"], "select_account");
        assert!(!url.as_str().contains(secrets.verifier.expose()));
        let plain = AuthorizeParams {
            select_account: false,
            login_hint: None,
            ..params
        };
        let q: HashMap<_, _> = authorize_url(&endpoint, &plain, &secrets)
            .query_pairs()
            .into_owned()
            .collect();
        assert!(!q.contains_key("prompt") && !q.contains_key("login_hint"));
        let both = AuthorizeParams {
            select_account: true,
            consent: true,
            ..plain
        };
        let q: HashMap<_, _> = authorize_url(&endpoint, &both, &secrets)
            .query_pairs()
            .into_owned()
            .collect();
        assert_eq!(q["prompt"], "select_account consent");
    }
}
