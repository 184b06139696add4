//! The interactive sign-in behind `/authorize`: the authorize request's
//! parameters, the steps a person (or a headless browser) walks through
//! (pick a user, password, MFA, consent), kept server-side between form
//! posts, and how the flow ends (a code, or an error for the redirect).

use std::collections::HashMap;

use crate::model::{AuthCode, Session};
use crate::state::World;
use crate::tenant::Segment;

/// Where a sign-in page stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Pick or type a user.
    User,
    /// Enter the password.
    Password,
    /// Approve the MFA prompt.
    Mfa,
    /// Accept the permissions.
    Consent,
}

impl Step {
    /// The name used in the `step` form field and `data-step`.
    pub fn name(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Password => "password",
            Self::Mfa => "mfa",
            Self::Consent => "consent",
        }
    }
}

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

/// A sign-in page in progress.
#[derive(Debug, Clone)]
pub struct Flow {
    /// The request that started it.
    pub request: AuthorizeRequest,
    /// The current step.
    pub step: Step,
    /// The user, once chosen.
    pub upn: Option<String>,
    /// MFA approved during this sign-in.
    pub mfa_done: bool,
    /// Real-time creation (for clean-up).
    pub created: std::time::Instant,
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

/// How a step ended.
#[derive(Debug)]
pub enum Outcome {
    /// Show this step (with an optional message).
    Show(Step, Option<String>),
    /// Redirect with a code.
    Code(String),
    /// Redirect with an error.
    Error(RedirectError),
    /// End on an error page, with no redirect (what Entra does when it
    /// cannot or must not send the browser back).
    Page(PageError),
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

/// Whether the chosen account may sign in to the app here: `Ok(None)`
/// when it may, a note to show on the user step, or an error page.
fn admit(world: &World, flow: &Flow, upn: &str) -> Result<Option<String>, PageError> {
    let Some(app) = world.app(&flow.request.client_id) else {
        return Err(crate::admission::unknown_app(&flow.request.client_id, "common").into());
    };
    Ok(crate::admission::account_at(
        &app,
        &flow.request.segment,
        upn,
    )?)
}

fn denied(code: u32, text: &str) -> RedirectError {
    RedirectError {
        error: "access_denied",
        subcode: None,
        code: Some(code),
        description: Some(text.to_owned()),
    }
}

/// Checks what stops a chosen user from signing in at all.
fn user_blocked(world: &World, upn: &str) -> Option<RedirectError> {
    let user = world.user(upn)?;
    if user.disabled {
        return Some(denied(
            50057,
            "The user account is disabled. The account has been disabled by an administrator.",
        ));
    }
    if user.ca_blocked {
        return Some(denied(
            53003,
            "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
        ));
    }
    None
}

/// The first step for a new flow (honouring `login_hint` and `prompt=select_account`).
pub fn first_step(world: &World, flow: &mut Flow) -> Outcome {
    if flow.request.prompt.as_deref() == Some("none") {
        return Outcome::Error(RedirectError {
            error: "login_required",
            subcode: None,
            code: Some(50058),
            description: Some("A silent sign-in request was sent but no user is signed in.".into()),
        });
    }
    if flow.request.prompt.as_deref() != Some("select_account")
        && let Some(hint) = &flow.request.login_hint
        && let Some(user) = world.user(hint)
    {
        flow.upn = Some(user.upn.clone());
        flow.step = Step::Password;
        return Outcome::Show(Step::Password, None);
    }
    Outcome::Show(Step::User, None)
}

/// The step after the password (or after MFA): MFA when the policy or a claims challenge asks, consent when needed.
fn after_auth(world: &mut World, flow: &mut Flow) -> Outcome {
    let Some(upn) = flow.upn.clone() else {
        return Outcome::Show(Step::User, None);
    };
    match admit(world, flow, &upn) {
        Ok(None) => {}
        Ok(Some(note)) => {
            flow.upn = None;
            flow.step = Step::User;
            return Outcome::Show(Step::User, Some(note));
        }
        Err(page) => return Outcome::Page(page),
    }
    if let Some(error) = user_blocked(world, &upn) {
        return Outcome::Error(error);
    }
    let Some(user) = world.user(&upn) else {
        return Outcome::Show(Step::User, None);
    };
    if !flow.mfa_done && (user.mfa_required || flow.request.has_claims_challenge()) {
        flow.step = Step::Mfa;
        return Outcome::Show(Step::Mfa, None);
    }
    if flow.step != Step::Consent
        && (!user.has_consented(&flow.request.client_id)
            || flow.request.prompt.as_deref() == Some("consent"))
    {
        flow.step = Step::Consent;
        return Outcome::Show(Step::Consent, None);
    }
    Outcome::Code(issue_code(world, flow))
}

/// Opens the session and stores a fresh authorization code.
pub fn issue_code(world: &mut World, flow: &Flow) -> String {
    let now = world.clock.now();
    let upn = flow.upn.clone().unwrap_or_default().to_lowercase();
    let mut session = Session::new(&upn, &flow.request.client_id, now, flow.mfa_done);
    if let Some(app) = world.app(&flow.request.client_id) {
        session = session.for_app(&app);
    }
    if let Segment::B2c { tenant, .. } = &flow.request.segment {
        session.tid = tenant.clone();
        session.b2c = true;
    }
    let session_id = world.open_session(session);
    let code = {
        use base64::Engine as _;
        use rand::RngCore as _;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        format!(
            "1.SIM.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        )
    };
    world.codes.insert(
        code.clone(),
        AuthCode {
            session_id,
            client_id: flow.request.client_id.clone(),
            redirect_uri: flow.request.redirect_uri.clone(),
            platform: flow.request.platform,
            scope: flow.request.scope.clone(),
            nonce: flow.request.nonce.clone(),
            challenge: flow.request.challenge.clone(),
            issued_at: now,
            redeemed: false,
        },
    );
    code
}

/// Auto-approve: the user signs in with no page; MFA and consent count as done.
pub fn auto_approve(world: &mut World, flow: &mut Flow, upn: &str) -> Outcome {
    match admit(world, flow, upn) {
        Ok(None) => {}
        Ok(Some(note)) => return Outcome::Show(Step::User, Some(note)),
        Err(page) => return Outcome::Page(page),
    }
    if let Some(error) = user_blocked(world, upn) {
        return Outcome::Error(error);
    }
    flow.upn = world.user(upn).map(|u| u.upn.clone());
    if flow.upn.is_none() {
        return Outcome::Show(Step::User, None);
    }
    flow.mfa_done = true;
    let client = flow.request.client_id.clone();
    if let Some(user) = world.users.get_mut(&upn.to_lowercase()) {
        user.grant_consent(&client);
    }
    Outcome::Code(issue_code(world, flow))
}

/// Applies one form post to the flow.
pub fn advance(world: &mut World, flow: &mut Flow, form: &HashMap<String, String>) -> Outcome {
    let field = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    if field("action").as_deref() == Some("cancel") {
        return Outcome::Error(RedirectError {
            error: "access_denied",
            subcode: Some("cancel"),
            code: None,
            description: None,
        });
    }
    // A stale form (browser back button) for another step just re-shows the current one.
    if field("step").as_deref() != Some(flow.step.name()) {
        return Outcome::Show(flow.step, None);
    }
    match flow.step {
        Step::User => {
            let Some(name) = field("pick").or_else(|| field("username")) else {
                return Outcome::Show(Step::User, Some("Enter a username.".into()));
            };
            match world.user(&name) {
                Some(user) => {
                    flow.upn = Some(user.upn.clone());
                    flow.step = Step::Password;
                    Outcome::Show(Step::Password, None)
                }
                None => Outcome::Show(
                    Step::User,
                    Some(format!(
                        "AADSTS50034: There is no account for '{name}' in this directory."
                    )),
                ),
            }
        }
        Step::Password => {
            let password = form.get("password").map(String::as_str).unwrap_or("");
            let ok = flow
                .upn
                .as_deref()
                .and_then(|u| world.user(u))
                .is_some_and(|u| u.password_matches(password));
            if ok {
                after_auth(world, flow)
            } else {
                Outcome::Show(
                    Step::Password,
                    Some("AADSTS50126: The password is not correct.".into()),
                )
            }
        }
        Step::Mfa => {
            if field("action").as_deref() == Some("approve") {
                flow.mfa_done = true;
                after_auth(world, flow)
            } else {
                Outcome::Show(Step::Mfa, Some("Approve the sign-in to continue.".into()))
            }
        }
        Step::Consent => {
            if field("action").as_deref() == Some("accept") {
                let client = flow.request.client_id.clone();
                if let Some(upn) = &flow.upn
                    && let Some(user) = world.users.get_mut(&upn.to_lowercase())
                {
                    user.grant_consent(&client);
                }
                after_auth(world, flow)
            } else {
                Outcome::Show(
                    Step::Consent,
                    Some("Accept the permissions to continue, or cancel.".into()),
                )
            }
        }
    }
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
