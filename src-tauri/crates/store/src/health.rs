//! Persisted health of each account: its state, the last failure (a typed
//! [`FailureRecord`]), and since when new tokens are held unsaved. The
//! meaning of all three belongs to `reconnect_core` (`health`, `failure`);
//! this module only stores them.

use reconnect_core::failure::FailureRecord;
use reconnect_core::health::HealthState;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::db::{Store, Tx, now};
use crate::error::StoreError;
use crate::vault::AccountId;

/// What was last recorded about an account's health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthRecord {
    /// The state.
    pub state: HealthState,
    /// The last failure, until a success clears it.
    pub last_failure: Option<FailureRecord>,
    /// Since when a process holds new tokens the keychain refused (a later
    /// successful save clears it).
    pub unsaved_since: Option<i64>,
    /// When it was recorded (Unix seconds).
    pub updated_at: i64,
}

pub(crate) type Row = (String, Option<String>, Option<i64>, i64);

pub(crate) fn get(
    conn: &rusqlite::Connection,
    id: AccountId,
) -> Result<Option<HealthRecord>, StoreError> {
    let row: Option<Row> = conn
        .query_row(
            "SELECT state, last_failure, unsaved_since, updated_at FROM health \
             WHERE account_id = ?1",
            [id.0],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    row.map(from_columns).transpose()
}

/// A health row's columns (`state`, `last_failure`, `unsaved_since`,
/// `updated_at`) read back as a record.
pub(crate) fn from_columns(
    (state, failure, unsaved_since, updated_at): Row,
) -> Result<HealthRecord, StoreError> {
    let state = HealthState::parse(&state).ok_or(StoreError::Corrupt("health.state"))?;
    let last_failure = failure
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|_| StoreError::Corrupt("health.last_failure"))?;
    Ok(HealthRecord {
        state,
        last_failure,
        unsaved_since,
        updated_at,
    })
}

impl Store {
    /// The recorded health, if any.
    pub fn health(&self, id: AccountId) -> Result<Option<HealthRecord>, StoreError> {
        get(&self.conn(), id)
    }

    /// Records health on its own (see [`Tx::set_health`] to group it).
    pub fn set_health(
        &self,
        id: AccountId,
        state: HealthState,
        last_failure: Option<&FailureRecord>,
    ) -> Result<(), StoreError> {
        self.write(|tx| tx.set_health(id, state, last_failure))
    }
}

impl Tx<'_> {
    /// The recorded health, if any.
    pub fn health(&self, id: AccountId) -> Result<Option<HealthRecord>, StoreError> {
        get(self.tx, id)
    }

    /// Records the state and the last failure (`None` clears it); leaves
    /// `unsaved_since` as it is.
    pub fn set_health(
        &self,
        id: AccountId,
        state: HealthState,
        last_failure: Option<&FailureRecord>,
    ) -> Result<(), StoreError> {
        let failure = last_failure
            .map(serde_json::to_string)
            .transpose()
            .map_err(|_| StoreError::Corrupt("health.last_failure"))?;
        let result = self.tx.execute(
            "INSERT INTO health (account_id, state, last_failure, updated_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (account_id) DO UPDATE SET state = excluded.state, \
             last_failure = excluded.last_failure, updated_at = excluded.updated_at",
            params![id.0, state.as_str(), failure, now()],
        );
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
                Err(StoreError::UnknownAccountId(id))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Records that new tokens are held unsaved since `since` (`None`: saved).
    /// Keeps an earlier `since`. Call after [`Tx::set_health`] in the same
    /// transaction (it only updates an existing row).
    pub fn set_unsaved(&self, id: AccountId, since: Option<i64>) -> Result<(), StoreError> {
        self.tx.execute(
            "UPDATE health SET unsaved_since = CASE WHEN ?2 IS NULL THEN NULL \
             ELSE coalesce(unsaved_since, ?2) END WHERE account_id = ?1",
            params![id.0, since],
        )?;
        Ok(())
    }
}
