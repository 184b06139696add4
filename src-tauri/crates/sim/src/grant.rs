//! Deciding token requests: whether a refresh token is honoured (codes:
//! [`crate::code_grant`]), and if not, which Entra failure explains why (a claims
//! challenge on a refresh that asks for MFA the grant lacks is refused with
//! 50076, as Entra does). Pure functions of the world and the request; the
//! route does the IO.

use std::collections::HashMap;

use reconnect_core::claims::Challenge;

use crate::admission::{app_at, one_resource};
use crate::client_auth::{self, Presented};
use crate::clock::{dotnet_span, entra_instant};
use crate::failure::{Failure, shape_of, table_text};
use crate::faults::FaultKind;
use crate::keys::Keys;
use crate::mint::{MintInput, RefreshClaims};
use crate::model::{SPA_LIFETIME_SECONDS, Session, User};
use crate::registry::Platform;
use crate::state::World;
use crate::tenant::Segment;

/// What the log records about a token request, filled in as the decision goes.
#[derive(Debug, Default, Clone)]
pub struct Facts {
    /// The user, once known.
    pub user: Option<String>,
    /// Whether the session had MFA.
    pub mfa: Option<bool>,
    /// The device flow's user code, for device-code polls.
    pub user_code: Option<String>,
    /// The device code's polling interval after the poll.
    pub interval: Option<u32>,
}

/// 900144: a required parameter is absent.
pub(crate) fn missing(param: &str) -> Failure {
    Failure::with_text(
        900144,
        format!("The request body must contain the following parameter: '{param}'."),
    )
}

/// A non-empty form parameter.
pub(crate) fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

/// A queued code fault turned into a failure.
pub fn fault_failure(kind: FaultKind) -> Option<Failure> {
    let FaultKind::Code {
        code,
        error,
        suberror,
        status,
        ..
    } = kind
    else {
        return None;
    };
    let mut failure = Failure::code(code);
    if let Some(error) = error {
        failure.error = error;
    }
    if suberror.is_some() {
        failure.suberror = suberror;
    }
    if let Some(status) = status {
        failure.status = status;
        failure.retry_after = (status == 429).then_some(5);
    }
    Some(failure)
}

/// One token request: its form, where it went (the authority's tenant
/// segment), the simulator's URL as the client reached it, and whether it
/// came cross-origin from a browser (an `Origin` header).
#[derive(Debug, Clone)]
pub struct TokenCall {
    /// The form.
    pub params: HashMap<String, String>,
    /// Where the request went.
    pub segment: Segment,
    /// The simulator's base URL (for `iss`).
    pub base: String,
    /// Whether an `Origin` header came.
    pub origin: bool,
}

impl TokenCall {
    /// What the request shows of its client.
    pub fn presented(&self) -> Presented<'_> {
        Presented::read(&self.params, self.origin)
    }

    /// Whether `client_info=1` was sent.
    pub(crate) fn client_info(&self) -> bool {
        self.params.get("client_info").is_some_and(|v| v == "1")
    }
}

/// 70000 with `text` saying why.
pub(crate) fn grant_invalid(text: &str) -> Failure {
    Failure::with_text(
        70000,
        format!("Provided grant is invalid or malformed. {text}")
            .trim_end()
            .to_owned(),
    )
}

/// Checks the user's own state (disabled, blocked, consent): shared by both grants.
pub(crate) fn check_user(user: &User, client_id: &str) -> Result<(), Failure> {
    if user.disabled {
        return Err(Failure::with_text(
            50057,
            "The user account is disabled. The account has been disabled by an administrator."
                .into(),
        ));
    }
    if user.ca_blocked {
        return Err(Failure::with_text(53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.".into()));
    }
    if !user.has_consented(client_id) {
        return Err(Failure::with_text(
            65001,
            format!(
                "The user or administrator has not consented to use the application with ID '{client_id}'. Send an interactive authorization request for this user and resource."
            ),
        ));
    }
    Ok(())
}

/// Takes a code fault for `upn` (or for anyone), if one is queued.
pub(crate) fn queued_fault(world: &mut World, upn: Option<&str>) -> Result<(), Failure> {
    if world.faults.is_empty() {
        return Ok(());
    }
    match world.faults.take_code(upn).and_then(fault_failure) {
        Some(failure) => Err(failure),
        None => Ok(()),
    }
}

/// Decides a `refresh_token` grant.
pub fn refresh(
    world: &mut World,
    keys: &Keys,
    call: &TokenCall,
    facts: &mut Facts,
) -> Result<MintInput, Failure> {
    let params = &call.params;
    let client_id = param(params, "client_id").ok_or_else(|| missing("client_id"))?;
    let token = param(params, "refresh_token");
    let claims: Option<RefreshClaims> = token.and_then(|t| keys.unseal(t));
    let session = claims
        .as_ref()
        .and_then(|c| world.sessions.get(&c.sid))
        .cloned();
    if let Some(s) = &session {
        facts.user = Some(s.upn.clone());
        facts.mfa = Some(s.mfa);
    }
    queued_fault(world, facts.user.as_deref())?;
    let app = app_at(world, &call.segment, client_id)?;
    if token.is_none() {
        return Err(missing("refresh_token"));
    }
    let (Some(claims), Some(session)) = (claims, session) else {
        return Err(Failure::with_text(
            9002313,
            "Invalid request. Request is malformed or invalid.".into(),
        ));
    };
    if session.client_id != client_id {
        return Err(grant_invalid(
            "The refresh token was issued to a different client.",
        ));
    }
    if session.revoked {
        return Err(grant_invalid(
            "The grant was revoked because one of its refresh tokens was used twice.",
        ));
    }
    client_auth::check(&app, session_platform(&session, &app), call.presented())?;
    let user = world.user(&session.upn).ok_or_else(|| grant_invalid(""))?;
    check_user(user, client_id)?;
    check_lifetimes(world, user, &session, &claims)?;
    check_mfa(user, session.mfa, params)?;
    let scope = params
        .get("scope")
        .cloned()
        .unwrap_or_else(|| "openid profile offline_access".into());
    one_resource(&scope)?;
    rotate(world, &claims)?;
    world
        .mint_input(&claims.sid, &scope, &call.base, None, call.client_info())
        .ok_or_else(|| grant_invalid(""))
}

/// The platform a session's grant came through; a grant of an app that no
/// longer has any public client platform (no mobile and desktop or
/// single-page redirect URI, public client flows off) counts as a web one.
fn session_platform(session: &Session, app: &crate::registry::AppRegistration) -> Platform {
    let public = app.public_client_flows
        || app
            .redirect_uris
            .iter()
            .any(|r| r.platform != Platform::Web);
    if session.confidential || !public {
        Platform::Web
    } else if session.spa {
        Platform::Spa
    } else {
        Platform::MobileDesktop
    }
}

/// Strict rotation: only the newest refresh token of the grant works, and
/// an older one coming back revokes the grant (someone else may hold it).
fn rotate(world: &mut World, claims: &RefreshClaims) -> Result<(), Failure> {
    let Some(session) = world.sessions.get_mut(&claims.sid) else {
        return Err(grant_invalid(""));
    };
    if !session.strict_rotation {
        return Ok(());
    }
    if claims.serial != session.serial {
        session.revoked = true;
        return Err(grant_invalid(
            "This refresh token was used already, so the whole grant is revoked: sign in again.",
        ));
    }
    session.serial += 1;
    Ok(())
}

/// Revocation, idle expiry, the single-page-app lifetime and sign-in frequency.
fn check_lifetimes(
    world: &World,
    user: &User,
    session: &Session,
    claims: &RefreshClaims,
) -> Result<(), Failure> {
    let now = world.clock.now();
    if claims.generation < world.generation(&user.upn) {
        let valid_from = user.tokens_valid_from.unwrap_or(now);
        return Err(Failure::with_text(
            50173,
            format!(
                "The provided grant has been revoked, so a fresh sign-in is needed; the user may have changed or reset their password. The grant was issued on '{}' and the TokensValidFrom date (before which tokens are not valid) for this user is '{}'.",
                entra_instant(claims.iat),
                entra_instant(valid_from)
            ),
        ));
    }
    if now - claims.iat > user.idle_limit_seconds {
        return Err(Failure::with_text(
            700082,
            format!(
                "The refresh token has expired due to inactivity. The token was issued on {} and was inactive for {}.",
                entra_instant(claims.iat),
                dotnet_span(user.idle_limit_seconds)
            ),
        ));
    }
    if session.spa && now - session.auth_time > SPA_LIFETIME_SECONDS {
        return Err(Failure::with_text(
            700084,
            format!(
                "The refresh token was issued to a single page app (SPA), so it has a fixed, limited lifetime of {}, which cannot be extended; it has now expired and the SPA must send a new sign-in request. The token was issued on {}.",
                dotnet_span(SPA_LIFETIME_SECONDS),
                entra_instant(session.auth_time)
            ),
        ));
    }
    if let Some(limit) = user.sign_in_frequency_seconds
        && now - session.auth_time > limit
    {
        return Err(Failure::with_text(
            70043,
            format!(
                "The refresh token has expired or is invalid due to sign-in frequency checks by Conditional Access. The token was issued on {} and the maximum allowed lifetime for this request is {limit}.",
                entra_instant(session.auth_time)
            ),
        ));
    }
    Ok(())
}

/// Whether the grant's MFA answers what the user's policy and the request's
/// claims challenge ask for. A challenge that asks for anything beyond the
/// client's capabilities (`xms_cc`) and a fresh token (`nbf`), such as an
/// authentication context (`acrs`) or a policy (`capolids`), needs MFA in the
/// simulator, as its sign-in page does; Entra refuses a refresh without it
/// with 50076 and the challenge echoed, for the app to pass to a sign-in.
fn check_mfa(user: &User, mfa: bool, params: &HashMap<String, String>) -> Result<(), Failure> {
    let challenge = match param(params, "claims") {
        Some(text) => Some(Challenge::parse(text).map_err(|_| {
            Failure::with_text(
                9002313,
                "Invalid request. Request is malformed or invalid. The claims parameter is not valid JSON.".into(),
            )
        })?),
        None => None,
    };
    if mfa {
        return Ok(());
    }
    let demanding = challenge.filter(|c| c.demands().iter().any(|claim| !claim.ends_with(".nbf")));
    if !user.mfa_required && demanding.is_none() {
        return Ok(());
    }
    let resource = params.get("scope").map_or("", String::as_str);
    let mut failure = Failure::code(50076);
    failure.text = format!(
        "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '{}'.",
        resource
            .split_whitespace()
            .find(|s| s.contains("://"))
            .unwrap_or(crate::mint::GRAPH_APP_ID)
    );
    if let Some(asked) = demanding.and_then(|c| c.without_capabilities()) {
        failure.claims = Some(asked.to_json());
    }
    Err(failure)
}

/// Failure for a grant type the simulator does not serve.
pub fn unsupported(grant_type: Option<&str>) -> Failure {
    match grant_type {
        None => missing("grant_type"),
        Some(other) => {
            let mut f = Failure::with_text(
                70003,
                format!("The app requested an unsupported grant type '{other}'."),
            );
            f.error = shape_of(70003).1.to_owned();
            f
        }
    }
}

/// The table wording, re-exported for the authorize page.
pub fn describe(code: u32) -> String {
    table_text(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_claims(claims: Option<&str>) -> HashMap<String, String> {
        let mut params = HashMap::from([(
            "scope".to_owned(),
            "openid offline_access https://graph.microsoft.com/User.Read".to_owned(),
        )]);
        if let Some(claims) = claims {
            params.insert("claims".into(), claims.into());
        }
        params
    }

    #[test]
    fn a_challenge_asking_for_mfa_is_refused_without_it_and_echoed() {
        let user = User::new("alice@contoso.test", None);
        let acrs = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"},"xms_cc":{"values":["cp1"]}}}"#;
        let refused = check_mfa(&user, false, &with_claims(Some(acrs))).unwrap_err();
        assert_eq!((refused.code, refused.status), (50076, 400));
        // As Entra's token endpoint answers it (the shared wire table).
        assert_eq!(
            (refused.error.as_str(), refused.suberror.as_deref()),
            ("invalid_grant", Some("basic_action"))
        );
        let echoed: serde_json::Value =
            serde_json::from_str(refused.claims.as_deref().unwrap()).unwrap();
        assert_eq!(
            echoed,
            serde_json::json!({"access_token":{"acrs":{"essential":true,"value":"c1"}}}),
            "the challenge comes back, without the client's capabilities"
        );
        assert!(
            refused.text.contains("graph.microsoft.com"),
            "{}",
            refused.text
        );
        assert_eq!(check_mfa(&user, true, &with_claims(Some(acrs))), Ok(()));
    }

    #[test]
    fn capabilities_and_a_fresh_token_ask_for_no_mfa() {
        let user = User::new("alice@contoso.test", None);
        let cp1 = r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#;
        let nbf = r#"{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}"#;
        for claims in [None, Some(cp1), Some(nbf)] {
            assert_eq!(
                check_mfa(&user, false, &with_claims(claims)),
                Ok(()),
                "{claims:?}"
            );
        }
        let garbage = check_mfa(&user, true, &with_claims(Some("{not json"))).unwrap_err();
        assert_eq!(garbage.code, 9002313);
    }

    #[test]
    fn an_mfa_policy_still_sends_its_own_challenge() {
        let mut user = User::new("alice@contoso.test", None);
        user.mfa_required = true;
        let cp1 = r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#;
        let refused = check_mfa(&user, false, &with_claims(Some(cp1))).unwrap_err();
        assert_eq!(refused.code, 50076);
        assert_eq!(
            refused.claims.as_deref(),
            Some(crate::failure::MFA_CLAIMS_CHALLENGE)
        );
        assert_eq!(check_mfa(&user, true, &with_claims(Some(cp1))), Ok(()));
    }
}
