//! The dashboard's list, and adding and removing accounts.

use serde::Deserialize;
use tauri::{AppHandle, State};

use crate::backend::{AppState, Backend, Failure};
use reconnect_engine::Overview;

use crate::views::{self, AccountList, AccountView, KeychainView, SummaryView};

/// Builds the card of the account named `name`.
pub async fn card(
    backend: &Backend,
    account: &reconnect_store::Account,
) -> Result<AccountView, Failure> {
    let status = backend.engine.status(Some(&account.name)).await?;
    let status = status.first().ok_or_else(|| {
        Failure::from(reconnect_engine::EngineError::UnknownAccount {
            name: account.name.clone(),
        })
    })?;
    Ok(views::account_view(account, status, backend.is_demo()))
}

/// Every card of the open profile, with the engine's overview of them.
pub async fn cards(backend: &Backend) -> Result<(Vec<AccountView>, Overview), Failure> {
    let overview = backend.engine.overview().await?;
    let accounts = backend.data.store().accounts()?;
    let cards = overview
        .accounts
        .iter()
        .filter_map(|status| {
            let account = accounts.iter().find(|a| a.name == status.name)?;
            Some(views::account_view(account, status, backend.is_demo()))
        })
        .collect();
    Ok((cards, overview))
}

/// One probe of the profile's keychain (skipped while there are no
/// accounts, as nothing needs it then).
async fn keychain(backend: &Backend, no_accounts: bool) -> KeychainView {
    if no_accounts {
        return KeychainView::from_probe(Ok(()));
    }
    let home = backend.data.home().clone();
    let probe =
        tauri::async_runtime::spawn_blocking(move || reconnect_store::keychain::probe(&home))
            .await
            .unwrap_or(Ok(()));
    KeychainView::from_probe(probe)
}

/// The dashboard's data: every account, "now", and spike alerts.
#[tauri::command]
pub async fn list_accounts(state: State<'_, AppState>) -> Result<AccountList, Failure> {
    let backend = state.current().await?;
    let (accounts, overview) = cards(&backend).await?;
    Ok(AccountList {
        now: overview.now,
        keychain: keychain(&backend, accounts.is_empty()).await,
        accounts,
        summary: SummaryView::from(&overview),
        spikes: overview.spikes.into_iter().map(views::spike_view).collect(),
        keeper: backend.keeper.keeping().into(),
    })
}

/// The add-account form.
#[derive(Debug, Clone, Deserialize)]
pub struct AddRequest {
    /// `microsoft` or `oidc`.
    pub kind: String,
    /// Unique label.
    pub name: String,
    /// Microsoft tenant.
    pub tenant: Option<String>,
    /// OpenID Connect issuer URL.
    pub issuer: Option<String>,
    /// The app registration's client id.
    pub client_id: String,
    /// Scopes; `openid profile offline_access` are added when missing.
    #[serde(default)]
    pub scopes: Vec<String>,
}

fn new_account(backend: &Backend, req: AddRequest) -> Result<reconnect_store::NewAccount, Failure> {
    let mut account = match req.kind.as_str() {
        "microsoft" => {
            let mut a = match &backend.demo {
                Some(demo) => demo.new_account(&req.name),
                None => reconnect_store::NewAccount::microsoft(&req.name, ""),
            };
            if let Some(t) = req.tenant.filter(|t| !t.trim().is_empty()) {
                a.tenant = Some(t.trim().to_owned());
            }
            a
        }
        "oidc" => {
            let issuer = req.issuer.unwrap_or_default();
            reconnect_store::NewAccount::oidc(&req.name, issuer.trim(), "")
        }
        other => {
            return Err(Failure::invalid(format!(
                "Unknown provider kind {other:?}: choose Microsoft or OpenID Connect."
            )));
        }
    };
    account.client_id = req.client_id.trim().to_owned();
    let mut scopes: Vec<String> = ["openid", "profile", "offline_access"]
        .map(String::from)
        .to_vec();
    for s in req.scopes {
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    account.scopes = scopes;
    Ok(account)
}

/// Adds an account (not signed in yet: its card offers Reconnect).
#[tauri::command]
pub async fn add_account(
    app: AppHandle,
    state: State<'_, AppState>,
    request: AddRequest,
) -> Result<AccountView, Failure> {
    let backend = state.current().await?;
    let new = new_account(&backend, request)?;
    new.validate()?;
    let account = backend.data.store().add_account(&new)?;
    super::accounts_changed(&app);
    card(&backend, &account).await
}

/// Removes an account: its keychain entries first, then its records.
#[tauri::command]
pub async fn remove_account(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
) -> Result<(), Failure> {
    let backend = state.current().await?;
    backend.data.remove_account(&name)?;
    // Drops any tokens the engine still holds in memory for it.
    let _ = backend.engine.account_changed(&name).await;
    super::accounts_changed(&app);
    Ok(())
}
