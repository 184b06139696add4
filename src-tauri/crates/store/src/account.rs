//! Accounts: the connections Reconnect keeps alive, with the settings needed
//! to refresh or sign in again and, once known, whose account it is.

use reconnect_core::authority::{self, AuthorityKind};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::db::{Store, Tx, now};
use crate::error::StoreError;
use crate::vault::AccountId;

/// Microsoft's login host, the default authority.
pub const DEFAULT_MICROSOFT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// The default Microsoft tenant: any work or school account.
pub const DEFAULT_MICROSOFT_TENANT: &str = "organizations";
/// Scopes requested by default for Microsoft accounts.
pub const DEFAULT_MICROSOFT_SCOPES: &str = "openid profile offline_access User.Read";
/// Scopes requested by default for OpenID Connect accounts.
pub const DEFAULT_OIDC_SCOPES: &str = "openid profile offline_access";

/// Who issues the tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Microsoft Entra ID (identity platform v2.0).
    Microsoft,
    /// Any OpenID Connect provider (found by discovery from its issuer).
    Oidc,
}

impl Provider {
    /// `microsoft` or `oidc`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Microsoft => "microsoft",
            Self::Oidc => "oidc",
        }
    }
}

impl std::str::FromStr for Provider {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        match s {
            "microsoft" => Ok(Self::Microsoft),
            "oidc" => Ok(Self::Oidc),
            other => Err(StoreError::InvalidAccount(format!(
                "unknown provider {other:?} (expected microsoft or oidc)"
            ))),
        }
    }
}

/// Where the loopback redirect listens during interactive sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redirect {
    /// Loopback host: `127.0.0.1`, `[::1]` or `localhost`.
    pub host: String,
    /// Lowest port to try; `0` with `port_max` `0` means any free port.
    pub port_min: u16,
    /// Highest port to try.
    pub port_max: u16,
    /// Path of the redirect URI, starting with `/`.
    pub path: String,
}

impl Default for Redirect {
    fn default() -> Self {
        Self {
            host: "localhost".into(),
            port_min: 0,
            port_max: 0,
            path: "/".into(),
        }
    }
}

/// The signed-in user, once known (from the id_token).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// User principal name (Microsoft), e.g. `ada@contoso.com`.
    pub upn: Option<String>,
    /// Object id of the user (Microsoft).
    pub oid: Option<String>,
    /// Tenant id (Microsoft).
    pub tid: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// `iss` of the id_token.
    pub issuer: Option<String>,
    /// `sub` of the id_token.
    pub subject: Option<String>,
}

impl Identity {
    /// Whether nothing is known yet.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Settings for a new account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    /// Unique label chosen by the user.
    pub name: String,
    /// Who issues the tokens.
    pub provider: Provider,
    /// Microsoft: the base URL (e.g. `https://login.microsoftonline.com`);
    /// oidc: the issuer URL.
    pub authority: String,
    /// Microsoft tenant (`organizations`, `common`, a domain or a GUID).
    pub tenant: Option<String>,
    /// The app registration's client id.
    pub client_id: String,
    /// Scopes to request.
    pub scopes: Vec<String>,
    /// Loopback redirect settings.
    pub redirect: Redirect,
}

impl NewAccount {
    /// A Microsoft account with the default authority, tenant and scopes.
    pub fn microsoft(name: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            provider: Provider::Microsoft,
            authority: DEFAULT_MICROSOFT_AUTHORITY.into(),
            tenant: Some(DEFAULT_MICROSOFT_TENANT.into()),
            client_id: client_id.into(),
            scopes: split_scopes(DEFAULT_MICROSOFT_SCOPES),
            redirect: Redirect::default(),
        }
    }

    /// An OpenID Connect account with the default scopes.
    pub fn oidc(
        name: impl Into<String>,
        issuer: impl Into<String>,
        client_id: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            provider: Provider::Oidc,
            authority: issuer.into(),
            tenant: None,
            client_id: client_id.into(),
            scopes: split_scopes(DEFAULT_OIDC_SCOPES),
            redirect: Redirect::default(),
        }
    }

    /// Checks the settings; see [`crate::validate`].
    pub fn validate(&self) -> Result<(), StoreError> {
        crate::validate::account(self)
    }
}

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Database id (also keys the vault).
    #[serde(serialize_with = "id_as_number")]
    pub id: AccountId,
    /// Unique label.
    pub name: String,
    /// Who issues the tokens.
    pub provider: Provider,
    /// Microsoft base URL, or the OIDC issuer.
    pub authority: String,
    /// Microsoft tenant.
    pub tenant: Option<String>,
    /// Client id.
    pub client_id: String,
    /// Scopes to request.
    pub scopes: Vec<String>,
    /// Loopback redirect settings.
    pub redirect: Redirect,
    /// The user, once known.
    pub identity: Identity,
    /// When it was added (Unix seconds).
    pub created_at: i64,
    /// When its settings or identity last changed.
    pub updated_at: i64,
}

fn id_as_number<S: serde::Serializer>(id: &AccountId, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(id.0)
}

/// What every request asks for besides the account's own scopes, as MSAL
/// does: the id_token that says who signed in, and the refresh token that
/// keeps the connection alive.
pub const OIDC_SCOPES: [&str; 3] = ["openid", "profile", "offline_access"];

impl Account {
    /// The scopes to request, space-separated: the account's own, then
    /// any of [`OIDC_SCOPES`] they lack.
    ///
    /// A B2C account whose own scopes name no resource (OpenID scopes only)
    /// also asks for its client id, as MSAL does: B2C issues an access token
    /// only for a resource, and the app itself is one.
    pub fn scope_string(&self) -> String {
        let has = |s: &str| self.scopes.iter().any(|own| own.eq_ignore_ascii_case(s));
        let extra = OIDC_SCOPES.iter().copied().filter(|s| !has(s));
        let app = self
            .needs_client_id_scope()
            .then_some(self.client_id.as_str());
        self.scopes
            .iter()
            .map(String::as_str)
            .chain(app)
            .chain(extra)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether this is a B2C account asking for no resource of its own.
    fn needs_client_id_scope(&self) -> bool {
        let b2c = self.provider == Provider::Microsoft
            && authority::kind(&self.authority, self.tenant.as_deref().unwrap_or(""))
                == AuthorityKind::B2c;
        b2c && self
            .scopes
            .iter()
            .all(|s| reconnect_core::scope::resource(s).is_none())
    }
}

/// Splits a space-separated scope string.
pub fn split_scopes(scopes: &str) -> Vec<String> {
    scopes.split_whitespace().map(str::to_owned).collect()
}

pub(crate) const COLUMNS: &str = "id, name, provider, authority, tenant, client_id, scopes, redirect_host, \
     redirect_port_min, redirect_port_max, redirect_path, upn, oid, tid, display_name, issuer, \
     subject, created_at, updated_at";

pub(crate) fn from_row(row: &Row<'_>) -> rusqlite::Result<Account> {
    let provider: String = row.get(2)?;
    let provider = provider.parse().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            2,
            rusqlite::types::Type::Text,
            "unknown provider".into(),
        )
    })?;
    Ok(Account {
        id: AccountId(row.get(0)?),
        name: row.get(1)?,
        provider,
        authority: row.get(3)?,
        tenant: row.get(4)?,
        client_id: row.get(5)?,
        scopes: split_scopes(&row.get::<_, String>(6)?),
        redirect: Redirect {
            host: row.get(7)?,
            port_min: row.get(8)?,
            port_max: row.get(9)?,
            path: row.get(10)?,
        },
        identity: Identity {
            upn: row.get(11)?,
            oid: row.get(12)?,
            tid: row.get(13)?,
            display_name: row.get(14)?,
            issuer: row.get(15)?,
            subject: row.get(16)?,
        },
        created_at: row.get(17)?,
        updated_at: row.get(18)?,
    })
}

pub(crate) fn by_name(
    conn: &rusqlite::Connection,
    name: &str,
) -> Result<Option<Account>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM accounts WHERE name = ?1"),
            [name],
            from_row,
        )
        .optional()?)
}

pub(crate) fn by_id(
    conn: &rusqlite::Connection,
    id: AccountId,
) -> Result<Option<Account>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM accounts WHERE id = ?1"),
            [id.0],
            from_row,
        )
        .optional()?)
}

impl Store {
    /// The account named `name`.
    pub fn account(&self, name: &str) -> Result<Account, StoreError> {
        by_name(&self.conn(), name)?.ok_or_else(|| StoreError::UnknownAccount(name.to_owned()))
    }

    /// The account named `name`, if any.
    pub fn find_account(&self, name: &str) -> Result<Option<Account>, StoreError> {
        by_name(&self.conn(), name)
    }

    /// The account with this id.
    pub fn account_by_id(&self, id: AccountId) -> Result<Account, StoreError> {
        by_id(&self.conn(), id)?.ok_or(StoreError::UnknownAccountId(id))
    }

    /// Every account, by name.
    pub fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM accounts ORDER BY name"))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Adds an account (validated first).
    pub fn add_account(&self, new: &NewAccount) -> Result<Account, StoreError> {
        self.write(|tx| tx.add_account(new))
    }

    /// Records who the signed-in user is.
    pub fn set_identity(&self, id: AccountId, identity: &Identity) -> Result<(), StoreError> {
        self.write(|tx| tx.set_identity(id, identity))
    }
}

impl Tx<'_> {
    /// Adds an account (validated first).
    pub fn add_account(&self, new: &NewAccount) -> Result<Account, StoreError> {
        new.validate()?;
        if by_name(self.tx, &new.name)?.is_some() {
            return Err(StoreError::DuplicateName(new.name.clone()));
        }
        let at = now();
        self.tx.execute(
            "INSERT INTO accounts (name, provider, authority, tenant, client_id, scopes, \
             redirect_host, redirect_port_min, redirect_port_max, redirect_path, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
            params![
                new.name,
                new.provider.as_str(),
                new.authority,
                new.tenant,
                new.client_id,
                new.scopes.join(" "),
                new.redirect.host,
                new.redirect.port_min,
                new.redirect.port_max,
                new.redirect.path,
                at,
            ],
        )?;
        let id = AccountId(self.tx.last_insert_rowid());
        by_id(self.tx, id)?.ok_or(StoreError::UnknownAccountId(id))
    }

    /// The account named `name`.
    pub fn account(&self, name: &str) -> Result<Account, StoreError> {
        by_name(self.tx, name)?.ok_or_else(|| StoreError::UnknownAccount(name.to_owned()))
    }

    /// Records who the signed-in user is.
    pub fn set_identity(&self, id: AccountId, identity: &Identity) -> Result<(), StoreError> {
        let changed = self.tx.execute(
            "UPDATE accounts SET upn = ?2, oid = ?3, tid = ?4, display_name = ?5, issuer = ?6, \
             subject = ?7, updated_at = ?8 WHERE id = ?1",
            params![
                id.0,
                identity.upn,
                identity.oid,
                identity.tid,
                identity.display_name,
                identity.issuer,
                identity.subject,
                now(),
            ],
        )?;
        if changed == 0 {
            return Err(StoreError::UnknownAccountId(id));
        }
        Ok(())
    }

    /// Deletes the account row (facts and health go with it; events keep
    /// their account name). Returns whether it existed.
    pub fn delete_account(&self, id: AccountId) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .execute("DELETE FROM accounts WHERE id = ?1", [id.0])?
            > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(new: NewAccount) -> Account {
        Account {
            id: AccountId(1),
            name: new.name,
            provider: new.provider,
            authority: new.authority,
            tenant: new.tenant,
            client_id: new.client_id,
            scopes: new.scopes,
            redirect: new.redirect,
            identity: Identity::default(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn b2c_without_a_resource_asks_for_its_client_id() {
        let (authority, tenant) = authority::b2c("contoso", "B2C_1_signin").unwrap();
        let mut new = NewAccount::microsoft("b", "0d0e7c5e-1111-2222-3333-444444444444");
        new.authority = authority;
        new.tenant = Some(tenant);
        new.scopes = split_scopes("openid offline_access email");
        let b2c = stored(new);
        assert_eq!(
            b2c.scope_string(),
            "openid offline_access email 0d0e7c5e-1111-2222-3333-444444444444 profile"
        );
        // A policy in the tenant alone makes it B2C (the simulator's loopback authority).
        let local = Account {
            authority: "http://127.0.0.1:4000".into(),
            ..b2c.clone()
        };
        assert!(local.scope_string().contains("0d0e7c5e-"));
        // With a resource scope of its own, nothing is added.
        let api = Account {
            scopes: split_scopes("openid https://contoso.onmicrosoft.com/api/read"),
            ..b2c.clone()
        };
        assert_eq!(
            api.scope_string(),
            "openid https://contoso.onmicrosoft.com/api/read profile offline_access"
        );
        // Entra and CIAM accounts never get the client id added.
        let entra = Account {
            authority: DEFAULT_MICROSOFT_AUTHORITY.into(),
            tenant: Some("contoso.onmicrosoft.com".into()),
            ..b2c.clone()
        };
        assert_eq!(entra.scope_string(), "openid offline_access email profile");
        let (authority, tenant) = authority::ciam("contoso").unwrap();
        let ciam = Account {
            authority,
            tenant: Some(tenant),
            ..b2c
        };
        assert!(!ciam.scope_string().contains("0d0e7c5e-"));
    }

    #[test]
    fn requests_always_ask_for_the_openid_scopes_once() {
        let mut new = NewAccount::microsoft("w", "cid");
        new.scopes = split_scopes("User.Read");
        let account = stored(new);
        assert_eq!(
            account.scope_string(),
            "User.Read openid profile offline_access"
        );
        let full = Account {
            scopes: split_scopes("openid Profile offline_access User.Read"),
            ..account
        };
        assert_eq!(
            full.scope_string(),
            "openid Profile offline_access User.Read"
        );
    }
}
