//! Deciding an `authorization_code` grant: the code (known, unredeemed,
//! fresh, this client's, this redirect URI's), the client as the platform of
//! the redirect URI the sign-in matched requires it ([`crate::client_auth`]),
//! and PKCE (RFC 7636). Pure functions of the world and the request.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Digest as _;

use crate::admission::app_at;
use crate::client_auth;
use crate::clock::entra_instant;
use crate::failure::Failure;
use crate::grant::{Facts, TokenCall, check_user, grant_invalid, missing, param, queued_fault};
use crate::mint::MintInput;
use crate::model::{AuthCode, CODE_LIFETIME_SECONDS};
use crate::registry::{Platform, redirect_matches};
use crate::state::World;

/// The PKCE check (RFC 7636): S256 or plain.
fn pkce_matches(method: &str, challenge: &str, verifier: &str) -> bool {
    match method {
        "S256" => URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes())) == challenge,
        _ => verifier == challenge,
    }
}

/// Decides an `authorization_code` grant.
pub fn authorization_code(
    world: &mut World,
    call: &TokenCall,
    facts: &mut Facts,
) -> Result<MintInput, Failure> {
    let params = &call.params;
    let client_id = param(params, "client_id").ok_or_else(|| missing("client_id"))?;
    let code_value = param(params, "code");
    let code = code_value.and_then(|c| world.codes.get(c)).cloned();
    if let Some(session) = code
        .as_ref()
        .and_then(|c| world.sessions.get(&c.session_id))
    {
        facts.user = Some(session.upn.clone());
        facts.mfa = Some(session.mfa);
    }
    queued_fault(world, facts.user.as_deref())?;
    let app = app_at(world, &call.segment, client_id)?;
    let code_value = code_value.ok_or_else(|| missing("code"))?;
    let code = code.ok_or_else(|| grant_invalid("The authorization code is not known."))?;
    check_code(world, &code, client_id, params)?;
    client_auth::check(&app, code.platform, call.presented())?;
    check_pkce(&code, params)?;
    if let Some(stored) = world.codes.get_mut(code_value) {
        stored.redeemed = true;
    }
    if let Some(session) = world.sessions.get_mut(&code.session_id) {
        session.spa = code.platform == Platform::Spa;
        session.confidential = code.platform == Platform::Web;
    }
    if let Some(session) = world.sessions.get(&code.session_id).cloned()
        && let Some(user) = world.user(&session.upn).cloned()
    {
        check_user(&user, client_id)?;
    }
    world
        .mint_input(
            &code.session_id,
            &code.scope,
            &call.base,
            code.nonce.clone(),
            call.client_info(),
        )
        .ok_or_else(|| grant_invalid(""))
}

/// The code itself: not redeemed, not expired, this client's, this redirect URI's.
fn check_code(
    world: &World,
    code: &AuthCode,
    client_id: &str,
    params: &HashMap<String, String>,
) -> Result<(), Failure> {
    let now = world.clock.now();
    if code.redeemed {
        return Err(Failure::with_text(
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.".into(),
        ));
    }
    if now - code.issued_at > CODE_LIFETIME_SECONDS {
        return Err(Failure::with_text(
            70008,
            format!(
                "The provided authorization code or refresh token has expired due to inactivity. The code was issued on {}.",
                entra_instant(code.issued_at)
            ),
        ));
    }
    if code.client_id != client_id {
        return Err(grant_invalid(
            "The authorization code was issued to a different client.",
        ));
    }
    let redirect = param(params, "redirect_uri").ok_or_else(|| missing("redirect_uri"))?;
    if !redirect_matches(&code.redirect_uri, redirect) {
        return Err(Failure::with_text(
            50011,
            format!(
                "The redirect URI '{redirect}' specified in the request does not match the redirect URI used in the authorization request."
            ),
        ));
    }
    Ok(())
}

/// The PKCE verifier against the code's challenge.
fn check_pkce(code: &AuthCode, params: &HashMap<String, String>) -> Result<(), Failure> {
    let Some((challenge, method)) = &code.challenge else {
        return Ok(());
    };
    let verifier = param(params, "code_verifier");
    if verifier.is_some_and(|v| pkce_matches(method, challenge, v)) {
        return Ok(());
    }
    let (number, text) = if method == "S256" {
        (
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        )
    } else {
        (
            50148,
            "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.",
        )
    };
    Err(Failure::with_text(number, text.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_checks_both_methods() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches("S256", challenge, verifier));
        assert!(!pkce_matches("S256", challenge, "wrong"));
        assert!(pkce_matches("plain", "abc", "abc"));
        assert!(!pkce_matches("plain", "abc", "abd"));
    }
}
