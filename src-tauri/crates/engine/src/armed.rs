//! Failures armed locally for testing: "make the next refresh of this account
//! fail with AADSTS code N". The tester panel uses it for real accounts, so
//! the whole failure path (decoder, health, timeline, the retry-once rule,
//! notifications) can be watched without touching the tenant.
//!
//! An armed code is held in memory by this engine only. The next refresh that
//! would be sent for the account takes it instead: no request leaves the
//! machine and the keychain is not read. What the refresh then handles is
//! the answer the token endpoint would give for that code (status, OAuth
//! `error`, `suberror`, `error_codes`, description), so it is decoded by the
//! same decoder as a real answer. It applies once; the refresh after it is
//! real again.

use std::collections::HashMap;

use reconnect_core::decode::table;
use reconnect_oauth::TokenError;
use reconnect_oauth::error::EndpointFailure;
use serde_json::json;

use crate::engine::Engine;
use crate::error::EngineError;

/// The codes armed per account name.
pub(crate) type ArmedCodes = std::sync::Mutex<HashMap<String, u32>>;

/// Marks the timeline entry of an armed failure.
pub(crate) const ARMED_NOTE: &str = "armed locally; nothing was sent";

/// The token endpoint's answer for `code`, built locally: an
/// [`TokenError::Endpoint`] whose JSON body the decoder reads as usual.
pub(crate) fn endpoint_answer(code: u32) -> TokenError {
    let reconnect_core::decode::wire::WireShape {
        status,
        error,
        suberror,
    } = reconnect_core::decode::wire::shape_of(code);
    let text = match table::lookup(code) {
        Some(info) => format!("{}.", info.name),
        None => "Failure armed by the tester.".to_owned(),
    };
    let mut body = json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {text} ({ARMED_NOTE})"),
        "error_codes": [code],
    });
    if let Some(sub) = suberror {
        body["suberror"] = json!(sub);
    }
    TokenError::Endpoint(EndpointFailure {
        status,
        retry_after: (status == 429).then(|| "5".to_owned()),
        content_type: Some("application/json; charset=utf-8".to_owned()),
        body: body.to_string().into_bytes(),
        truncated: false,
    })
}

/// Whether `authority` is a simulator on this machine (a loopback host):
/// only such accounts may have failures armed, so a tester can never make a
/// real connection look broken.
fn served_by_a_local_simulator(authority: &str) -> bool {
    url::Url::parse(authority).is_ok_and(|u| match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    })
}

impl Engine {
    /// Makes the next refresh of `name` fail as if the token endpoint had
    /// answered AADSTS `code`, without sending anything (see [`crate::armed`]).
    /// Only for accounts whose authority is a simulator on loopback. Replaces
    /// a code armed earlier. Held in memory by this engine only.
    pub fn fail_next(&self, name: &str, code: u32) -> Result<(), EngineError> {
        if code == 0 {
            return Err(EngineError::InvalidCode { code });
        }
        let Some(account) = self.inner.store.find_account(name)? else {
            return Err(EngineError::UnknownAccount {
                name: name.to_owned(),
            });
        };
        if !served_by_a_local_simulator(&account.authority) {
            return Err(EngineError::NotSimulated {
                name: name.to_owned(),
                authority: account.authority,
            });
        }
        self.armed_codes().insert(name.to_owned(), code);
        Ok(())
    }

    /// Disarms a code armed with [`Engine::fail_next`]; returns it.
    pub fn clear_fail_next(&self, name: &str) -> Option<u32> {
        self.armed_codes().remove(name)
    }

    /// The code armed for `name`'s next refresh, if any.
    pub fn armed_failure(&self, name: &str) -> Option<u32> {
        self.armed_codes().get(name).copied()
    }

    /// Takes the armed code (the refresh about to be sent uses it up).
    pub(crate) fn take_armed(&self, name: &str) -> Option<u32> {
        self.armed_codes().remove(name)
    }

    fn armed_codes(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        self.inner
            .armed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reconnect_core::decode::WhoActs;

    #[test]
    fn armed_answers_decode_like_the_real_ones() {
        let revoked = endpoint_answer(50173).verdict(0);
        assert_eq!(revoked.primary_code, Some(50173));
        assert!(revoked.needs_reconnect());
        assert_eq!(revoked.error.as_deref(), Some("invalid_grant"));

        let mfa = endpoint_answer(50076).verdict(0);
        assert_eq!(mfa.suberror.as_deref(), Some("basic_action"));
        assert!(mfa.needs_reconnect());

        let blocked = endpoint_answer(53003).verdict(0);
        assert_eq!(blocked.who_acts, WhoActs::Admin);
        assert!(!blocked.needs_reconnect());

        let client = endpoint_answer(7000215).verdict(0);
        assert_eq!(client.who_acts, WhoActs::Developer);

        let throttled = endpoint_answer(90055).verdict(0);
        assert!(throttled.is_transient());
        assert_eq!(throttled.retry_after_seconds, Some(5));

        let unknown = endpoint_answer(4_242_424).verdict(0);
        assert_eq!(unknown.primary_code, Some(4_242_424));
        assert!(unknown.title.contains("4242424"), "{}", unknown.title);
    }
}
