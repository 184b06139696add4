//! Token facts: what is known about an account's tokens without the tokens
//! themselves (expiry, age, idle time, rotations, SPA origin). A row exists
//! only once the token set is safely in the vault.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::db::{Store, Tx, now};
use crate::error::StoreError;
use crate::vault::AccountId;

/// Non-secret facts about the stored token set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TokenFacts {
    /// When the access token expires (Unix seconds).
    pub access_expires_at: Option<i64>,
    /// When this chain of refresh tokens was first issued (sign-in time).
    pub refresh_issued_at: Option<i64>,
    /// When the refresh token was last redeemed successfully.
    pub refresh_last_used_at: Option<i64>,
    /// How many times the refresh token has rotated.
    pub rotation_count: u32,
    /// Whether the tokens were issued to a single-page app (24 h fixed life).
    pub spa: bool,
    /// When the set was last written to the vault (set on write).
    pub stored_at: i64,
}

pub(crate) fn get(
    conn: &rusqlite::Connection,
    id: AccountId,
) -> Result<Option<TokenFacts>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT access_expires_at, refresh_issued_at, refresh_last_used_at, rotation_count, \
             spa, stored_at FROM token_facts WHERE account_id = ?1",
            [id.0],
            |r| {
                Ok(TokenFacts {
                    access_expires_at: r.get(0)?,
                    refresh_issued_at: r.get(1)?,
                    refresh_last_used_at: r.get(2)?,
                    rotation_count: r.get(3)?,
                    spa: r.get(4)?,
                    stored_at: r.get(5)?,
                })
            },
        )
        .optional()?)
}

impl Store {
    /// Facts about the account's stored tokens; `None` if none are stored.
    pub fn token_facts(&self, id: AccountId) -> Result<Option<TokenFacts>, StoreError> {
        get(&self.conn(), id)
    }
}

impl Tx<'_> {
    /// Facts about the account's stored tokens.
    pub fn token_facts(&self, id: AccountId) -> Result<Option<TokenFacts>, StoreError> {
        get(self.tx, id)
    }

    /// Records facts after a vault write (`stored_at` is set to now). Call
    /// only after the vault write succeeded — or use
    /// [`Profile::save_tokens`](crate::Profile::save_tokens), which does.
    pub fn set_token_facts(&self, id: AccountId, facts: &TokenFacts) -> Result<(), StoreError> {
        let result = self.tx.execute(
            "INSERT INTO token_facts (account_id, access_expires_at, refresh_issued_at, \
             refresh_last_used_at, rotation_count, spa, stored_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (account_id) DO UPDATE SET access_expires_at = excluded.access_expires_at, \
             refresh_issued_at = excluded.refresh_issued_at, \
             refresh_last_used_at = excluded.refresh_last_used_at, \
             rotation_count = excluded.rotation_count, spa = excluded.spa, \
             stored_at = excluded.stored_at",
            params![
                id.0,
                facts.access_expires_at,
                facts.refresh_issued_at,
                facts.refresh_last_used_at,
                facts.rotation_count,
                facts.spa,
                now(),
            ],
        );
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
                Err(StoreError::UnknownAccountId(id))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Forgets the facts (after the vault entry was deleted).
    pub fn clear_token_facts(&self, id: AccountId) -> Result<(), StoreError> {
        self.tx
            .execute("DELETE FROM token_facts WHERE account_id = ?1", [id.0])?;
        Ok(())
    }
}
