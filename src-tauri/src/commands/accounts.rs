//! The dashboard's list, and adding and removing accounts. A Microsoft
//! account is added as work or school (Entra ID, in one of the clouds the
//! core defines or at a custom authority), Azure AD B2C or External ID
//! (CIAM); the core builds their authority and tenant.

use reconnect_core::authority::{self, AuthorityKind, Cloud};
use reconnect_engine::Overview;
use reconnect_store::NewAccount;
use serde::Deserialize;
use tauri::{AppHandle, State};

use crate::backend::{AppState, Backend, Failure};
use crate::demo::Demo;
use crate::views::{
    self, AccountList, AccountView, AddChoices, CloudView, KeychainView, SummaryView,
};

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

/// Where a work-or-school (Entra ID) account signs in: one of Microsoft's
/// clouds, or an authority URL of the user's own. Serialized as
/// `{"cloud": "us_government"}` or `{"custom": "https://…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntraAt {
    /// A Microsoft cloud, by the core's definition.
    Cloud(Cloud),
    /// An authority URL typed into the form.
    Custom(String),
}

/// The provider part of the add-account form. The `kind` names of the
/// Microsoft services are the core's [`AuthorityKind`] names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProviderChoice {
    /// Microsoft Entra ID (work or school).
    Entra {
        /// Which cloud, or a custom authority.
        at: EntraAt,
        /// Tenant id or domain, `organizations` or `common`.
        #[serde(default)]
        tenant: Option<String>,
    },
    /// Azure AD B2C.
    B2c {
        /// The tenant's name (before `.onmicrosoft.com`).
        tenant_name: String,
        /// The user flow or custom policy.
        policy: String,
    },
    /// Microsoft Entra External ID (CIAM).
    Ciam {
        /// The tenant's name (before `.onmicrosoft.com`).
        tenant_name: String,
    },
    /// Any other OpenID Connect provider.
    Oidc {
        /// Its issuer URL.
        issuer: String,
    },
}

impl ProviderChoice {
    /// The Microsoft service this choice signs in at (`None` for OpenID).
    pub fn authority_kind(&self) -> Option<AuthorityKind> {
        match self {
            Self::Entra { .. } => Some(AuthorityKind::Entra),
            Self::B2c { .. } => Some(AuthorityKind::B2c),
            Self::Ciam { .. } => Some(AuthorityKind::Ciam),
            Self::Oidc { .. } => None,
        }
    }
}

/// The add-account form.
#[derive(Debug, Clone, Deserialize)]
pub struct AddRequest {
    /// Unique label.
    pub name: String,
    /// Where the account signs in.
    pub provider: ProviderChoice,
    /// The app registration's client id.
    pub client_id: String,
    /// Scopes; `openid profile offline_access` are added when missing.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// An Entra ID account: in the demo at its simulator (whatever cloud was
/// picked: the simulator stands in for all of them), else at the cloud or
/// authority chosen.
fn entra_account(
    demo: Option<&Demo>,
    name: &str,
    at: EntraAt,
    tenant: Option<String>,
) -> NewAccount {
    let mut account = match demo {
        Some(demo) => demo.new_account(name),
        None => {
            let mut a = NewAccount::microsoft(name, "");
            a.authority = match at {
                EntraAt::Cloud(cloud) => cloud.authority().to_owned(),
                EntraAt::Custom(url) => url.trim().trim_end_matches('/').to_owned(),
            };
            a
        }
    };
    if let Some(t) = tenant.filter(|t| !t.trim().is_empty()) {
        account.tenant = Some(t.trim().to_owned());
    }
    account
}

/// A Microsoft account at a B2C or CIAM authority built by the core.
fn built_account(name: &str, (authority, tenant): (String, String)) -> NewAccount {
    let mut account = NewAccount::microsoft(name, "");
    account.authority = authority;
    account.tenant = Some(tenant);
    account
}

fn new_account(demo: Option<&Demo>, req: AddRequest) -> Result<NewAccount, Failure> {
    let mut account = match req.provider {
        ProviderChoice::Entra { at, tenant } => entra_account(demo, &req.name, at, tenant),
        ProviderChoice::B2c {
            tenant_name,
            policy,
        } => built_account(&req.name, authority::b2c(&tenant_name, policy.trim())?),
        ProviderChoice::Ciam { tenant_name } => {
            built_account(&req.name, authority::ciam(&tenant_name)?)
        }
        ProviderChoice::Oidc { issuer } => NewAccount::oidc(&req.name, issuer.trim(), ""),
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

/// The Microsoft clouds the form offers, and whether sign-ins go to the
/// demo's simulator instead.
#[tauri::command]
pub async fn add_account_choices(state: State<'_, AppState>) -> Result<AddChoices, Failure> {
    let backend = state.current().await?;
    Ok(AddChoices {
        clouds: Cloud::ALL.into_iter().map(CloudView::from).collect(),
        simulated: backend.is_demo(),
    })
}

/// Adds an account (not signed in yet: its card offers Reconnect).
#[tauri::command]
pub async fn add_account(
    app: AppHandle,
    state: State<'_, AppState>,
    request: AddRequest,
) -> Result<AccountView, Failure> {
    let backend = state.current().await?;
    let new = new_account(backend.demo.as_ref(), request)?;
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
    super::first::forget(&app, &backend, &name);
    super::accounts_changed(&app);
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(provider: serde_json::Value) -> AddRequest {
        serde_json::from_value(json!({
            "name": "lab",
            "provider": provider,
            "client_id": " cid ",
            "scopes": ["User.Read"],
        }))
        .expect("the form's request parses")
    }

    fn added(provider: serde_json::Value) -> Result<NewAccount, Failure> {
        new_account(None, request(provider))
    }

    #[test]
    fn the_provider_kinds_are_the_cores_authority_kinds() {
        let cases = [
            json!({"kind": "entra", "at": {"cloud": "global"}}),
            json!({"kind": "b2c", "tenant_name": "c", "policy": "B2C_1_x"}),
            json!({"kind": "ciam", "tenant_name": "c"}),
        ];
        for case in cases {
            let kind = request(case.clone()).provider.authority_kind().unwrap();
            assert_eq!(serde_json::to_value(kind).unwrap(), case["kind"]);
        }
        let oidc = request(json!({"kind": "oidc", "issuer": "https://id.example"}));
        assert_eq!(oidc.provider.authority_kind(), None);
        let unknown = serde_json::from_value::<AddRequest>(json!({
            "name": "x", "client_id": "c", "provider": {"kind": "aad"}
        }));
        assert!(
            unknown.is_err(),
            "unknown kinds are refused at the boundary"
        );
    }

    #[test]
    fn an_entra_account_signs_in_at_the_chosen_cloud_or_authority() {
        let gov = added(
            json!({"kind": "entra", "at": {"cloud": "us_government"}, "tenant": " contoso.us "}),
        )
        .unwrap();
        assert_eq!(gov.authority, Cloud::UsGovernment.authority());
        assert_eq!(gov.tenant.as_deref(), Some("contoso.us"));
        assert_eq!(gov.client_id, "cid");
        assert_eq!(
            gov.scopes,
            ["openid", "profile", "offline_access", "User.Read"]
        );
        gov.validate().unwrap();

        let blank =
            added(json!({"kind": "entra", "at": {"cloud": "china"}, "tenant": " "})).unwrap();
        assert_eq!(blank.authority, Cloud::China.authority());
        assert_eq!(
            blank.tenant.as_deref(),
            Some(reconnect_store::account::DEFAULT_MICROSOFT_TENANT)
        );

        let custom =
            added(json!({"kind": "entra", "at": {"custom": " http://127.0.0.1:8400/ "}})).unwrap();
        assert_eq!(custom.authority, "http://127.0.0.1:8400");
    }

    #[test]
    fn b2c_and_ciam_accounts_get_the_cores_authority_and_tenant() {
        let b2c =
            added(json!({"kind": "b2c", "tenant_name": "Contoso", "policy": " B2C_1_signin "}))
                .unwrap();
        assert_eq!(
            (b2c.authority.as_str(), b2c.tenant.as_deref()),
            (
                "https://contoso.b2clogin.com",
                Some("contoso.onmicrosoft.com/B2C_1_signin")
            )
        );
        let ciam = added(json!({"kind": "ciam", "tenant_name": "fabrikam"})).unwrap();
        assert_eq!(
            (ciam.authority.as_str(), ciam.tenant.as_deref()),
            (
                "https://fabrikam.ciamlogin.com",
                Some("fabrikam.onmicrosoft.com")
            )
        );
    }

    #[test]
    fn a_bad_tenant_name_or_policy_is_invalid_input_in_plain_words() {
        let err = added(json!({"kind": "b2c", "tenant_name": "con toso", "policy": "B2C_1_x"}))
            .unwrap_err();
        assert_eq!(err.code, crate::backend::FailureCode::InvalidInput);
        assert!(err.message.contains("not a tenant name"), "{err:?}");
        let err = added(json!({"kind": "b2c", "tenant_name": "contoso", "policy": "signin"}))
            .unwrap_err();
        assert!(err.message.contains("B2C_1_"), "{err:?}");
        let err = added(json!({"kind": "ciam", "tenant_name": "a.b"})).unwrap_err();
        assert_eq!(err.code, crate::backend::FailureCode::InvalidInput);
    }

    #[test]
    fn the_form_offers_every_cloud_of_the_core_with_its_label() {
        let ui = include_str!("../../../ui/views/accounts.js");
        assert!(
            ui.contains("choices.clouds.map"),
            "the form lists the served clouds"
        );
        for cloud in Cloud::ALL {
            assert!(
                !ui.contains(cloud.label()),
                "the UI keeps no list of its own"
            );
        }
        let view = CloudView::from(Cloud::UsGovernment);
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["cloud"], "us_government");
        assert_eq!(json["label"], Cloud::UsGovernment.label());
    }
}
