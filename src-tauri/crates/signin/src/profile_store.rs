//! [`SigninStore`] over the real profile: account settings and the last
//! failure's claims challenge from SQLite; the new grant through the
//! profile's one guarded write path (keychain first, then facts, identity,
//! health and the event in one transaction, under the account's write lock).

use reconnect_core::failure::FailureRecord;
use reconnect_core::health::HealthState;
use reconnect_store::events::{EventKind, Outcome};
use reconnect_store::{
    Account, Basis, Identity, NewEvent, Profile, Provider, StoreError, TokenFacts, TokenWrite,
    Written,
};

use crate::identity::KnownUser;
use crate::loopback::LoopbackConfig;
use crate::store::{
    AccountSettings, Connected, FailedAttempt, ProviderKind, SigninStore, StoreFailure,
};

/// The sign-in settings of a stored account.
pub fn settings_of(account: &Account, last_failure: Option<&FailureRecord>) -> AccountSettings {
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
        claims_challenge: last_failure
            .and_then(|f| f.verdict.claims_challenge.clone())
            .filter(|c| !c.trim().is_empty()),
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
            ..TokenFacts::default()
        };
        let identity = Identity {
            upn: c.user.upn.clone(),
            oid: c.user.oid.clone(),
            tid: c.user.tid.clone(),
            display_name: stored.identity.display_name.clone(),
            issuer: c.user.issuer.clone(),
            subject: c.user.subject.clone(),
        };
        let mut event = NewEvent::new(c.at, Some(&stored), EventKind::Signin, Outcome::Ok);
        event.duration_ms = Some(c.duration_ms);
        event.message = Some(format!("signed in as {}", c.user.describe()));
        let write = TokenWrite {
            account: &stored,
            tokens: &tokens,
            facts,
            basis: Basis::NewGrant,
            after_vault: None,
        };
        let written = self.grants().write(write, |tx| {
            tx.set_identity(stored.id, &identity)?;
            tx.set_health(stored.id, HealthState::Healthy, None)?;
            tx.append_event(&event).map(|_| ())
        })?;
        match written {
            Written::Saved { .. } => Ok(()),
            // A new grant is never superseded; the account can be removed.
            Written::Removed | Written::Superseded => {
                Err(Box::new(StoreError::UnknownAccount(account.to_owned())))
            }
        }
    }

    fn attempt_failed(&self, account: &str, a: &FailedAttempt) -> Result<(), StoreFailure> {
        let stored = self.store().account(account)?;
        let result = if a.cancelled {
            Outcome::Cancelled
        } else {
            Outcome::Failed
        };
        let mut event = NewEvent::new(a.at, Some(&stored), EventKind::Signin, result);
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
    use reconnect_core::decode;

    #[test]
    fn the_challenge_of_the_last_failure_is_passed_on() {
        let store = reconnect_store::Store::open_in_memory().unwrap();
        let account = store
            .add_account(&reconnect_store::NewAccount::microsoft("work", "cid"))
            .unwrap();
        let mut verdict = decode::decode_code(50076);
        verdict.claims_challenge = Some("{\"access_token\":{}}".into());
        let failure = FailureRecord::new(verdict, 1, String::new());
        let settings = settings_of(&account, Some(&failure));
        assert_eq!(
            settings.claims_challenge.as_deref(),
            Some("{\"access_token\":{}}")
        );
        let mut blank = failure.clone();
        blank.verdict.claims_challenge = Some("  ".into());
        assert_eq!(settings_of(&account, Some(&blank)).claims_challenge, None);
        assert_eq!(settings_of(&account, None).claims_challenge, None);
    }
}
