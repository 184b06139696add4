//! The admin detail of one account: the verdict of the last failure, a
//! redacted diagnostics block, the timeline of attempts and token facts.
//! Tokens are read from the vault only to decode their non-secret claims;
//! the tokens themselves never leave this function.

use reconnect_core::jwt;
use reconnect_store::{EventQuery, Store};
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::backend::{AppState, Backend, Failure};
use crate::diagnostics;
use crate::views::AccountView;

/// Everything the detail view shows.
#[derive(Debug, Clone, Serialize)]
pub struct AccountDetail {
    /// The backend's "now".
    pub now: i64,
    /// The card.
    pub account: AccountView,
    /// The last failure's verdict.
    pub verdict: Option<VerdictView>,
    /// A redacted block for a support ticket, when something failed.
    pub diagnostics: Option<String>,
    /// Attempts, newest first.
    pub timeline: Vec<TimelineEntry>,
    /// Facts about the stored tokens, without the tokens.
    pub token: Option<TokenView>,
}

/// The verdict keys of `reconnect decode --json`, read back from the store.
/// Only these keys cross to the webview, whatever else was stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct VerdictView {
    /// See `reconnect_core::decode::Verdict`.
    pub primary_code: Option<u32>,
    /// Every code seen.
    pub codes: Vec<u32>,
    /// OAuth error.
    pub error: Option<String>,
    /// Suberror.
    pub suberror: Option<String>,
    /// Title.
    pub title: String,
    /// Category.
    pub category: String,
    /// Who acts.
    pub who_acts: String,
    /// Whether reconnecting fixes it.
    pub reconnect_fixes: String,
    /// Whether it heals by itself.
    pub transient: bool,
    /// Server-requested wait.
    pub retry_after_seconds: Option<u64>,
    /// Words for the user.
    pub user_message: String,
    /// Words for the admin.
    pub admin_message: String,
    /// Next steps.
    pub next_steps: Vec<String>,
    /// Trace id.
    pub trace_id: Option<String>,
    /// Correlation id.
    pub correlation_id: Option<String>,
    /// Server timestamp.
    pub timestamp: Option<String>,
    /// Claims challenge for the next sign-in.
    pub claims_challenge: Option<String>,
    /// Microsoft's page for the code.
    pub doc_url: Option<String>,
    /// Whether the code is in the table.
    pub known: bool,
}

impl VerdictView {
    /// Reads a stored verdict (possibly wrapped under `verdict`).
    pub fn from_stored(stored: &serde_json::Value) -> Option<Self> {
        let v = stored.get("verdict").unwrap_or(stored);
        let view: Self = serde_json::from_value(v.clone()).ok()?;
        (!view.title.is_empty()).then_some(view)
    }
}

/// One attempt in the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    /// When.
    pub at: i64,
    /// `refresh`, `signin`, `import`, …
    pub kind: String,
    /// Whether it worked.
    pub ok: bool,
    /// The AADSTS code, when there was one.
    pub code: Option<u32>,
    /// The short message recorded.
    pub title: Option<String>,
    /// Error, suberror and correlation id, when recorded.
    pub detail: Option<String>,
}

/// Non-secret claims of one token.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimsView {
    /// `id` or `access`.
    pub token: &'static str,
    /// How the user signed in.
    pub amr: Vec<String>,
    /// Authentication contexts.
    pub acrs: Vec<String>,
    /// Client capabilities.
    pub xms_cc: Vec<String>,
    /// Tenant id.
    pub tid: Option<String>,
    /// User object id.
    pub oid: Option<String>,
    /// Delegated scopes.
    pub scp: Option<String>,
}

/// Token facts without the tokens.
#[derive(Debug, Clone, Serialize)]
pub struct TokenView {
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Access-token expiry.
    pub access_expires_at: Option<i64>,
    /// When the refresh-token chain began.
    pub refresh_first_issued_at: Option<i64>,
    /// When the refresh token was last redeemed.
    pub refresh_last_used_at: Option<i64>,
    /// Whether the tokens were issued to a single-page app.
    pub spa: bool,
    /// Claims decoded from the id and access tokens.
    pub claims: Vec<ClaimsView>,
}

fn claims(token: &'static str, c: jwt::DisplayClaims) -> ClaimsView {
    ClaimsView {
        token,
        amr: c.amr,
        acrs: c.acrs,
        xms_cc: c.xms_cc,
        tid: c.tid,
        oid: c.oid,
        scp: c.scp,
    }
}

fn timeline(store: &Store, id: reconnect_store::AccountId) -> Result<Vec<TimelineEntry>, Failure> {
    let events = store.events(&EventQuery {
        account: Some(id),
        limit: Some(50),
        ..EventQuery::default()
    })?;
    Ok(events
        .into_iter()
        .map(|e| {
            let e = e.event;
            let detail: Vec<String> = [
                e.error.clone(),
                e.suberror.clone(),
                e.correlation_id
                    .as_ref()
                    .map(|c| format!("correlation {c}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            TimelineEntry {
                at: e.at,
                ok: e.outcome == reconnect_store::events::outcome::OK,
                code: e.code.as_deref().and_then(diagnostics::code_number),
                title: e.message,
                detail: (!detail.is_empty()).then(|| detail.join(" · ")),
                kind: e.kind,
            }
        })
        .collect())
}

fn token_view(
    backend: &Backend,
    account: &reconnect_store::Account,
) -> Result<Option<TokenView>, Failure> {
    let Some(facts) = backend.data.store().token_facts(account.id)? else {
        return Ok(None);
    };
    // A locked or missing keychain must not hide the rest of the detail.
    let tokens = backend.data.load_tokens(account.id).ok().flatten();
    let mut list = Vec::new();
    let mut scopes = account.scopes.clone();
    if let Some(t) = &tokens {
        if let Some(id) = &t.id_token
            && let Ok(c) = jwt::display_claims(id.expose())
        {
            list.push(claims("id", c));
        }
        if let Some(at) = &t.access_token
            && let Ok(c) = jwt::display_claims(at.expose())
        {
            list.push(claims("access", c));
        }
        if !t.scope.is_empty() {
            scopes = reconnect_store::account::split_scopes(&t.scope);
        }
    }
    Ok(Some(TokenView {
        scopes,
        access_expires_at: facts.access_expires_at,
        refresh_first_issued_at: facts.refresh_issued_at,
        refresh_last_used_at: facts.refresh_last_used_at,
        spa: facts.spa,
        claims: list,
    }))
}

/// Everything about one account, without secrets.
#[tauri::command]
pub async fn account_detail(
    state: State<'_, AppState>,
    name: String,
) -> Result<AccountDetail, Failure> {
    let backend = state.current().await?;
    let store = backend.data.store();
    let account = store.account(&name)?;
    let health = store.health(account.id)?;
    let facts = store.token_facts(account.id)?;
    let now = backend.now();
    let view = super::accounts::card(&backend, &account, health.as_ref(), facts.as_ref());
    let verdict = health
        .as_ref()
        .and_then(|h| h.last_failure.as_ref())
        .and_then(VerdictView::from_stored);
    let diagnostics = verdict
        .as_ref()
        .map(|v| diagnostics::block(&account, &view, v, facts.as_ref()));
    Ok(AccountDetail {
        now,
        timeline: timeline(store, account.id)?,
        token: token_view(&backend, &account)?,
        account: view,
        verdict,
        diagnostics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_verdict_keys_cross_to_the_webview_whatever_was_stored() {
        let stored = serde_json::json!({
            "verdict": { "primary_code": 50173, "title": "Grant revoked", "who_acts": "user",
                          "refresh_token": "0.AAA-secret", "access_token": "eyJ.secret" },
            "fingerprint": "client+scope+3",
            "failed_at": 1
        });
        let view = VerdictView::from_stored(&stored).expect("a verdict");
        let sent = serde_json::to_string(&view).unwrap();
        assert!(sent.contains("Grant revoked"));
        for secret in [
            "0.AAA-secret",
            "eyJ.secret",
            "refresh_token",
            "access_token",
            "fingerprint",
        ] {
            assert!(!sent.contains(secret), "{secret} leaked: {sent}");
        }
    }

    #[test]
    fn a_stored_value_without_a_title_is_not_a_verdict() {
        assert!(VerdictView::from_stored(&serde_json::json!({ "class": "transient" })).is_none());
        assert!(VerdictView::from_stored(&serde_json::json!("text")).is_none());
    }
}
