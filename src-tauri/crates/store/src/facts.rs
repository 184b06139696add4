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
    /// Which token write stored the set (set on write): larger is newer,
    /// across all accounts of the database. A write that expected another
    /// number is refused (see [`crate::grant`]).
    pub write_seq: i64,
}

pub(crate) fn get(
    conn: &rusqlite::Connection,
    id: AccountId,
) -> Result<Option<TokenFacts>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT access_expires_at, refresh_issued_at, refresh_last_used_at, rotation_count, \
             spa, stored_at, write_seq FROM token_facts WHERE account_id = ?1",
            [id.0],
            |r| {
                Ok(TokenFacts {
                    access_expires_at: r.get(0)?,
                    refresh_issued_at: r.get(1)?,
                    refresh_last_used_at: r.get(2)?,
                    rotation_count: r.get(3)?,
                    spa: r.get(4)?,
                    stored_at: r.get(5)?,
                    write_seq: r.get(6)?,
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

    /// Records facts after a vault write: `stored_at` is set to now and
    /// `write_seq` to the next number of the database's counter, which is
    /// returned. Called by [`crate::grant`] right after its vault write.
    pub(crate) fn set_token_facts(
        &self,
        id: AccountId,
        facts: &TokenFacts,
    ) -> Result<i64, StoreError> {
        let seq: i64 = self.tx.query_row(
            "UPDATE token_writes SET last_seq = last_seq + 1 RETURNING last_seq",
            [],
            |r| r.get(0),
        )?;
        let result = self.tx.execute(
            "INSERT INTO token_facts (account_id, access_expires_at, refresh_issued_at, \
             refresh_last_used_at, rotation_count, spa, stored_at, write_seq) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT (account_id) DO UPDATE SET access_expires_at = excluded.access_expires_at, \
             refresh_issued_at = excluded.refresh_issued_at, \
             refresh_last_used_at = excluded.refresh_last_used_at, \
             rotation_count = excluded.rotation_count, spa = excluded.spa, \
             stored_at = excluded.stored_at, write_seq = excluded.write_seq",
            params![
                id.0,
                facts.access_expires_at,
                facts.refresh_issued_at,
                facts.refresh_last_used_at,
                facts.rotation_count,
                facts.spa,
                now(),
                seq,
            ],
        );
        match result {
            Ok(_) => Ok(seq),
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
                Err(StoreError::UnknownAccountId(id))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Rewrites the facts of the stored set without touching the keychain,
    /// for tests that age an account's history. Not in normal builds: every
    /// real write of facts goes with its tokens through [`crate::grant`].
    #[cfg(feature = "test-support")]
    pub fn rewrite_token_facts(
        &self,
        id: AccountId,
        facts: &TokenFacts,
    ) -> Result<i64, StoreError> {
        self.set_token_facts(id, facts)
    }

    /// Forgets the facts (after the vault entry was deleted).
    pub(crate) fn clear_token_facts(&self, id: AccountId) -> Result<(), StoreError> {
        self.tx
            .execute("DELETE FROM token_facts WHERE account_id = ?1", [id.0])?;
        Ok(())
    }
}
