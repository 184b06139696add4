//! The authorize request (`GET` or `POST /{tenant}/oauth2/v2.0/authorize`),
//! read and checked before any page shows: the client must be registered
//! for this endpoint, its redirect URI registered (the platform of the one
//! it matches is kept for the redemption), and its scopes of one resource.
//! What cannot be redirected ends on an error page ([`PageError`]); what
//! can goes back to the client ([`RedirectError`]).

use std::collections::HashMap;

use crate::state::World;
use crate::tenant::Segment;

/// The authorize request, checked.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    /// Client id.
    pub client_id: String,
    /// Redirect URI.
    pub redirect_uri: String,
    /// `state`, echoed back.
    pub state: Option<String>,
    /// `nonce`, put in the id_token.
    pub nonce: Option<String>,
    /// Scopes.
    pub scope: String,
    /// PKCE challenge and method.
    pub challenge: Option<(String, String)>,
    /// A claims challenge passed by the client.
    pub claims: Option<String>,
    /// `prompt`.
    pub prompt: Option<String>,
    /// `login_hint`.
    pub login_hint: Option<String>,
    /// `query` (default), `fragment` or `form_post`.
    pub response_mode: String,
    /// The platform of the registered redirect URI it matched.
    pub platform: crate::registry::Platform,
    /// Where the request went (the authority's tenant segment).
    pub segment: crate::tenant::Segment,
}

impl AuthorizeRequest {
    /// Whether `claims` holds a real challenge (e.g. `acrs` or `capolids`),
    /// not just the client's declared capabilities (`xms_cc`, such as `cp1`),
    /// which every Conditional-Access-aware client sends and which asks for
    /// no extra step. A value that is not JSON counts as a challenge.
    pub fn has_claims_challenge(&self) -> bool {
        let Some(raw) = self.claims.as_deref() else {
            return false;
        };
        let Ok(serde_json::Value::Object(targets)) = serde_json::from_str(raw) else {
            return true;
        };
        targets.values().any(|target| match target {
            serde_json::Value::Object(claims) => claims.keys().any(|k| k != "xms_cc"),
            _ => true,
        })
    }
}

/// Why an authorize request cannot even be redirected (shown on the page instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError {
    /// AADSTS code.
    pub code: u32,
    /// What is wrong.
    pub text: String,
}

/// An error to send back to the client's redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectError {
    /// OAuth error.
    pub error: &'static str,
    /// `error_subcode` (`cancel`).
    pub subcode: Option<&'static str>,
    /// AADSTS code, if any (goes into `error_description`).
    pub code: Option<u32>,
    /// The description text.
    pub description: Option<String>,
}

/// Reads and checks the authorize parameters.
pub fn parse_request(
    q: &HashMap<String, String>,
    world: &World,
    segment: &Segment,
) -> Result<Result<AuthorizeRequest, (AuthorizeRequest, RedirectError)>, PageError> {
    let get = |k: &str| {
        q.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let client_id = get("client_id").ok_or(PageError {
        code: 900144,
        text: "The request body must contain the following parameter: 'client_id'.".into(),
    })?;
    let redirect_uri = get("redirect_uri").ok_or(PageError {
        code: 900144,
        text: "The request body must contain the following parameter: 'redirect_uri'.".into(),
    })?;
    if url::Url::parse(&redirect_uri).is_err() {
        return Err(PageError {
            code: 90102,
            text: format!("'redirect_uri' value must be a valid absolute URI: '{redirect_uri}'."),
        });
    }
    let platform = registered_redirect(world, segment, &client_id, &redirect_uri)?;
    let method = get("code_challenge_method").unwrap_or_else(|| "plain".into());
    let challenge = get("code_challenge").map(|c| (c, method.clone()));
    let request = AuthorizeRequest {
        client_id,
        redirect_uri,
        state: q.get("state").cloned(),
        nonce: get("nonce"),
        scope: get("scope").unwrap_or_else(|| "openid".into()),
        challenge,
        claims: get("claims"),
        prompt: get("prompt"),
        login_hint: get("login_hint"),
        response_mode: get("response_mode").unwrap_or_else(|| "query".into()),
        platform,
        segment: segment.clone(),
    };
    let invalid = |code: u32, error: &'static str, text: String| RedirectError {
        error,
        subcode: None,
        code: Some(code),
        description: Some(text),
    };
    let response_type = get("response_type").unwrap_or_default();
    if response_type != "code" {
        let e = invalid(
            70005,
            "unsupported_response_type",
            format!(
                "The response_type '{response_type}' is not supported; the simulator serves 'code'."
            ),
        );
        return Ok(Err((request, e)));
    }
    if request.challenge.is_some() && method != "S256" && method != "plain" {
        let e = invalid(
            5000,
            "invalid_request",
            format!("The code_challenge_method '{method}' is not supported; use S256 or plain."),
        );
        return Ok(Err((request, e)));
    }
    if let Err(refusal) = crate::admission::one_resource(&request.scope) {
        let e = invalid(refusal.code, "invalid_request", refusal.text);
        return Ok(Err((request, e)));
    }
    if !["query", "fragment", "form_post"].contains(&request.response_mode.as_str()) {
        let e = invalid(
            5000,
            "invalid_request",
            format!(
                "The response_mode '{}' is not supported.",
                request.response_mode
            ),
        );
        return Ok(Err((request, e)));
    }
    Ok(Ok(request))
}

impl From<crate::failure::Failure> for PageError {
    fn from(failure: crate::failure::Failure) -> Self {
        Self {
            code: failure.code,
            text: failure.text,
        }
    }
}

/// The app at this endpoint and the platform of the registered redirect URI
/// the request's matches: 50011 when none does, 500113 when the app has none.
fn registered_redirect(
    world: &World,
    segment: &Segment,
    client_id: &str,
    redirect_uri: &str,
) -> Result<crate::registry::Platform, PageError> {
    let app = crate::admission::app_at(world, segment, client_id)?;
    if world
        .apps
        .get(client_id)
        .is_some_and(|a| a.redirect_uris.is_empty())
    {
        return Err(PageError {
            code: 500113,
            text: format!(
                "The application '{client_id}' has no redirect URI registered, so no sign-in can return to it. Register one under its platform (for a desktop app: \"Mobile and desktop applications\", http://localhost)."
            ),
        });
    }
    app.redirect(redirect_uri).ok_or_else(|| PageError {
        code: 50011,
        text: format!(
            "The redirect URI '{redirect_uri}' is not one of the redirect URIs registered for the application '{client_id}'. Register it (for a desktop app: http://localhost under \"Mobile and desktop applications\"; the port is ignored for localhost and 127.0.0.1, the path is not)."
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::AuthorizeRequest;

    fn request(claims: Option<&str>) -> AuthorizeRequest {
        AuthorizeRequest {
            client_id: "c".into(),
            redirect_uri: "http://localhost/".into(),
            state: None,
            nonce: None,
            scope: "openid".into(),
            challenge: None,
            claims: claims.map(str::to_owned),
            prompt: None,
            login_hint: None,
            response_mode: "query".into(),
            platform: crate::registry::Platform::MobileDesktop,
            segment: crate::tenant::Segment::Common,
        }
    }

    #[test]
    fn client_capabilities_alone_are_not_a_challenge() {
        assert!(!request(None).has_claims_challenge());
        let cp1 = r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#;
        assert!(!request(Some(cp1)).has_claims_challenge());
    }

    #[test]
    fn a_real_challenge_with_or_without_cp1_counts() {
        let merged = r#"{"access_token":{"capolids":{"essential":true,"values":["p1"]},"xms_cc":{"values":["cp1"]}}}"#;
        assert!(request(Some(merged)).has_claims_challenge());
        let acrs = r#"{"id_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
        assert!(request(Some(acrs)).has_claims_challenge());
        assert!(request(Some("not json")).has_claims_challenge());
    }
}
