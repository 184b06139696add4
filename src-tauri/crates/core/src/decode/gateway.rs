//! Which token-endpoint answers are the grant's verdict, and which only
//! look like one.
//!
//! Only a 400 or 401 carrying an OAuth error Reconnect recognises judges
//! the grant. Anything else that arrives with an error body is treated as
//! trouble on the way there and waited out with a long backoff, so a
//! company proxy answering 403 in JSON never turns into "reconnect needed":
//!
//! - another status (403, 404, 407 and the like), from a proxy, firewall or
//!   gateway between this computer and the sign-in service;
//! - an error neither the code table nor the OAuth error names explain;
//! - AADSTS50053: the account is locked for a while, often by someone else
//!   trying passwords against it, which clears by itself.
//!
//! Throttling (429) and server failures (5xx) are handled before this, with
//! their own, shorter waits.

use super::class::{Category, ReconnectFixes, WhoActs};
use super::classify::Context;
use super::rules::Base;
use super::verdict::Source;

/// The account is locked (failed sign-ins or a risky address).
const ACCOUNT_LOCKED: u32 = 50053;

/// Refines `b` for the cases above; returns whether to wait long.
pub(super) fn refine(b: &mut Base, ctx: Context, primary: Option<u32>, known: bool) -> bool {
    if primary == Some(ACCOUNT_LOCKED) {
        return true;
    }
    if ctx.source != Source::TokenEndpoint {
        return false;
    }
    match ctx.http_status {
        Some(429) | None => false,
        Some(s) if s >= 500 => false,
        Some(400 | 401) if known || b.category != Category::Unknown => false,
        Some(400 | 401) => {
            unrecognised(b);
            true
        }
        Some(status) => {
            in_between(b, status);
            true
        }
    }
}

/// An answer with another status: something on the network path replied.
fn in_between(b: &mut Base, status: u16) {
    b.category = Category::Network;
    b.who = WhoActs::User;
    b.fixes = ReconnectFixes::No;
    b.transient = true;
    b.title = "Can't reach the sign-in service".to_owned();
    b.user = format!(
        "Something between this computer and the sign-in service answered in its place \
         (HTTP {status}), often a proxy or firewall. Reconnect keeps trying, less often; if it \
         lasts, check your network or VPN, or ask your IT."
    );
    b.admin = format!(
        "HTTP {status} from the token endpoint's address. Microsoft's token endpoint judges a grant \
         only with 400 or 401, so this came from a proxy, firewall or gateway on the way and says \
         nothing about the grant, whatever its body names. Check the proxy's logs and its rules \
         for the sign-in host."
    );
}

/// A 400/401 whose error Reconnect does not recognise: not acted on as
/// the grant's verdict until something says more.
fn unrecognised(b: &mut Base) {
    b.who = WhoActs::User;
    b.fixes = ReconnectFixes::No;
    b.transient = true;
    b.user = "The sign-in service gave an answer Reconnect does not recognise. Reconnect keeps \
              trying, less often; if it lasts, ask your IT."
        .to_owned();
    b.admin = "The token endpoint named an error Reconnect does not recognise, with no known \
               AADSTS code. It is not treated as the grant's verdict: Reconnect waits with a long \
               backoff. The server's own text and the sign-in logs hold the reason."
        .to_owned();
}

#[cfg(test)]
mod tests {
    use crate::decode::{TokenResponse, decode_token_response};
    use crate::policy::{FailureClass, LONG_BACKOFF_SECONDS};

    use super::*;

    fn answer(status: u16, body: &str) -> crate::decode::verdict::Verdict {
        let response = TokenResponse {
            status,
            retry_after: None,
            content_type: Some("application/json"),
            body: body.as_bytes(),
        };
        decode_token_response(&response, 0)
    }

    fn waits_long(v: &crate::decode::verdict::Verdict) -> bool {
        matches!(
            FailureClass::from_verdict(v),
            FailureClass::Transient { retry_after: Some(s) } if s >= LONG_BACKOFF_SECONDS
        )
    }

    const DEAD_GRANT: &str =
        r#"{"error":"invalid_grant","error_description":"AADSTS70000: bad","error_codes":[70000]}"#;

    #[test]
    fn a_proxy_answering_with_an_oauth_body_is_not_the_grants_verdict() {
        for status in [403, 404, 407, 302] {
            let v = answer(status, DEAD_GRANT);
            assert!(v.transient && v.long_backoff, "{status}: {v:?}");
            assert_eq!(v.category, Category::Network, "{status}");
            assert_eq!(v.title, "Can't reach the sign-in service");
            assert_ne!(v.reconnect_fixes, ReconnectFixes::Yes);
            assert!(v.user_message.contains(&format!("HTTP {status}")));
            assert!(waits_long(&v), "{status}");
        }
        let judged = answer(400, DEAD_GRANT);
        assert!(!judged.transient && !judged.long_backoff, "{judged:?}");
        assert_eq!(
            FailureClass::from_verdict(&judged),
            FailureClass::ReconnectNeeded
        );
    }

    #[test]
    fn an_unrecognised_error_and_a_locked_account_wait_long() {
        let odd = answer(
            400,
            r#"{"error":"something_new","error_description":"no code"}"#,
        );
        assert!(odd.transient && waits_long(&odd), "{odd:?}");
        let locked = answer(
            400,
            r#"{"error":"invalid_grant","error_description":"AADSTS50053: locked","error_codes":[50053]}"#,
        );
        assert!(locked.transient && waits_long(&locked), "{locked:?}");
        // A known OAuth error with no code is still the grant's verdict.
        let consent = answer(400, r#"{"error":"consent_required"}"#);
        assert!(!consent.transient, "{consent:?}");
    }

    #[test]
    fn b2c_codes_and_client_mismatch_get_their_verdicts() {
        let b2c = answer(
            400,
            r#"{"error":"invalid_grant","error_description":"AADB2C90080: The provided grant has expired."}"#,
        );
        assert_eq!(b2c.title, "Azure AD B2C error 90080");
        assert_eq!(b2c.category, Category::InvalidGrant);
        assert!(!b2c.transient, "a B2C grant error is the grant's verdict");
        let mismatch = answer(
            400,
            r#"{"error":"invalid_grant","suberror":"client_mismatch","error_description":"AADSTS70000: x","error_codes":[70000]}"#,
        );
        assert_eq!(mismatch.reconnect_fixes, ReconnectFixes::Yes);
        assert_eq!(mismatch.who_acts, WhoActs::User);
        assert_eq!(
            FailureClass::from_verdict(&mismatch),
            FailureClass::ReconnectNeeded
        );
    }

    #[test]
    fn next_steps_name_the_accounts_own_sign_in_host() {
        let v = answer(407, DEAD_GRANT);
        assert!(
            v.next_steps
                .iter()
                .any(|s| s.contains("login.microsoftonline.com")),
            "{:?}",
            v.next_steps
        );
        let gov = v.at_authority("login.microsoftonline.us");
        assert!(
            gov.next_steps
                .iter()
                .any(|s| s.contains("login.microsoftonline.us")),
            "{:?}",
            gov.next_steps
        );
        assert!(
            !gov.next_steps
                .iter()
                .any(|s| s.contains("login.microsoftonline.com"))
        );
    }
}
