//! The interactive sign-in behind `/authorize`: the steps a person (or a
//! headless browser) walks through (pick a user, password, MFA, consent),
//! kept server-side between form posts, and how the flow ends (a code, an
//! error for the redirect, or an error page). The request itself is read in
//! [`crate::authorize_request`].

use std::collections::HashMap;

pub use crate::authorize_request::{AuthorizeRequest, PageError, RedirectError, parse_request};
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
