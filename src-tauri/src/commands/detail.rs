//! The admin detail of one account: the verdict of the last failure, a
//! redacted diagnostics block, the timeline of attempts and token facts.
//! Tokens are read from the vault only to decode their non-secret claims;
//! the tokens themselves never leave this function.

use reconnect_core::jwt;
use reconnect_store::{EventQuery, Store};
use serde::Serialize;
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

/// The last failure as the webview sees it: the decoder's verdict, whose
/// serialized form is exactly the keys of `reconnect decode --json` (its
/// internal details are not serialized).
pub type VerdictView = reconnect_core::decode::Verdict;

/// One attempt in the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    /// When.
    pub at: i64,
    /// `refresh`, `signin`, `import`, …
    pub kind: reconnect_store::EventKind,
    /// Whether it worked.
    pub ok: bool,
    /// How it ended (`ok`, `failed`, `cancelled`, `discarded`).
    pub outcome: reconnect_store::Outcome,
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
                ok: e.outcome == reconnect_store::Outcome::Ok,
                outcome: e.outcome,
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
    let view = super::accounts::card(&backend, &account).await?;
    let verdict = health
        .as_ref()
        .and_then(|h| h.last_failure.as_ref())
        .map(|f| f.verdict.clone());
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
