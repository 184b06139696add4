//! [`SigninStore`] over the real profile: account settings and the last
//! failure's claims challenge from SQLite, tokens into the keychain vault
//! first, then facts, identity, health and the event in one transaction.

use reconnect_store::events::{kind, outcome};
use reconnect_store::{Account, Identity, NewEvent, Profile, Provider, TokenFacts};
use serde_json::Value;

use crate::identity::KnownUser;
use crate::loopback::LoopbackConfig;
use crate::store::{
    AccountSettings, Connected, FailedAttempt, ProviderKind, SigninStore, StoreFailure,
};

/// The claims challenge inside a stored `last_failure`: either a failure
/// record with a `verdict`, or a bare verdict.
pub fn claims_challenge(last_failure: &Value) -> Option<String> {
    let verdict = last_failure.get("verdict").unwrap_or(last_failure);
    verdict
        .get("claims_challenge")
        .and_then(Value::as_str)
        .filter(|c| !c.trim().is_empty())
        .map(str::to_owned)
}

/// The sign-in settings of a stored account.
pub fn settings_of(account: &Account, last_failure: Option<&Value>) -> AccountSettings {
    let r = &account.redirect;
    let ports =
        (r.port_min != 0 || r.port_max != 0).then(|| r.port_min..=r.port_max.max(r.port_min));
    let provider = match account.provider {
        Provider::Microsoft => ProviderKind::Microsoft,
        Provider::Oidc => ProviderKind::Oidc,
    };
    let tenant = account.tenant.clone();
    // A tenant given as a domain name doubles as the domain hint.
    let domain_hint = tenant
        .as_ref()
        .filter(|t| provider == ProviderKind::Microsoft && t.contains('.'))
        .cloned();
    let id = &account.identity;
    AccountSettings {
        name: account.name.clone(),
        provider,
        authority: account.authority.clone(),
        tenant,
        client_id: account.client_id.clone(),
        scope: account.scope_string(),
        loopback: LoopbackConfig {
            host: r.host.clone(),
            ports,
            path: r.path.clone(),
            ..LoopbackConfig::default()
        },
        owner: KnownUser {
            upn: id.upn.clone(),
            oid: id.oid.clone(),
            tid: id.tid.clone(),
            issuer: id.issuer.clone(),
            subject: id.subject.clone(),
        },
        domain_hint,
        claims_challenge: last_failure.and_then(claims_challenge),
    }
}

impl SigninStore for Profile {
    fn settings(&self, account: &str) -> Result<AccountSettings, StoreFailure> {
        let stored = self.store().account(account)?;
        // Reach the keychain now: if it is locked or missing, say so before
        // the user goes through a sign-in whose tokens could not be kept.
        self.vault().get(stored.id)?;
        let health = self.store().health(stored.id)?;
        Ok(settings_of(
            &stored,
            health.as_ref().and_then(|h| h.last_failure.as_ref()),
        ))
    }

    fn connected(&self, account: &str, c: &Connected) -> Result<(), StoreFailure> {
        let stored = self.store().account(account)?;
        let mut tokens = c.response.tokens.clone();
        if tokens.scope.is_empty() {
            tokens.scope = stored.scope_string();
        }
        let facts = TokenFacts {
            access_expires_at: tokens.access_expires_at,
            refresh_issued_at: Some(c.at),
            refresh_last_used_at: Some(c.at),
            rotation_count: 0,
            spa: c.response.refresh_token_expires_in.is_some(),
            stored_at: c.at,
        };
        let identity = Identity {
            upn: c.user.upn.clone(),
            oid: c.user.oid.clone(),
            tid: c.user.tid.clone(),
            display_name: stored.identity.display_name.clone(),
            issuer: c.user.issuer.clone(),
            subject: c.user.subject.clone(),
        };
        let mut event = NewEvent::new(c.at, Some(&stored), kind::SIGNIN, outcome::OK);
        event.duration_ms = Some(c.duration_ms);
        event.message = Some(format!("signed in as {}", c.user.describe()));
        // The keychain first: metadata never claims a token that is not there.
        self.vault().put(stored.id, &tokens)?;
        self.store().write(|tx| {
            tx.set_token_facts(stored.id, &facts)?;
            tx.set_identity(stored.id, &identity)?;
            tx.set_health(stored.id, "healthy", None)?;
            tx.append_event(&event)?;
            Ok(())
        })?;
        Ok(())
    }

    fn attempt_failed(&self, account: &str, a: &FailedAttempt) -> Result<(), StoreFailure> {
        let stored = self.store().account(account)?;
        let result = if a.cancelled {
            outcome::CANCELLED
        } else {
            outcome::FAILED
        };
        let mut event = NewEvent::new(a.at, Some(&stored), kind::SIGNIN, result);
        event.duration_ms = Some(a.duration_ms);
        event.code = a.code.clone();
        event.error = a.error.clone();
        event.suberror = a.suberror.clone();
        event.trace_id = a.trace_id.clone();
        event.correlation_id = a.correlation_id.clone();
        event.message = Some(a.message.clone());
        self.store().append_event(&event)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_challenge_is_found_in_records_and_bare_verdicts() {
        let record =
            json!({"verdict": {"claims_challenge": "{\"access_token\":{}}"}, "class": "x"});
        assert_eq!(
            claims_challenge(&record).as_deref(),
            Some("{\"access_token\":{}}")
        );
        let bare = json!({"claims_challenge": "abc"});
        assert_eq!(claims_challenge(&bare).as_deref(), Some("abc"));
        assert_eq!(
            claims_challenge(&json!({"verdict": {"claims_challenge": null}})),
            None
        );
        assert_eq!(claims_challenge(&json!({"claims_challenge": "  "})), None);
    }
}
