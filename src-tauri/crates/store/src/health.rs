//! Persisted health of each account: a state name and the last decoded
//! failure as JSON. The meaning of both belongs to `reconnect_core`
//! (`health` and `decode`); this module only stores them.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::db::{Store, Tx, now};
use crate::error::StoreError;
use crate::vault::AccountId;

/// What was last recorded about an account's health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthRecord {
    /// The state's name, as `reconnect_core::health` spells it.
    pub state: String,
    /// The last decoded failure (a `reconnect_core::decode` verdict as JSON).
    pub last_failure: Option<serde_json::Value>,
    /// When it was recorded (Unix seconds).
    pub updated_at: i64,
}

pub(crate) fn get(
    conn: &rusqlite::Connection,
    id: AccountId,
) -> Result<Option<HealthRecord>, StoreError> {
    let row = conn
        .query_row(
            "SELECT state, last_failure, updated_at FROM health WHERE account_id = ?1",
            [id.0],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )
        .optional()?;
    let Some((state, failure, updated_at)) = row else {
        return Ok(None);
    };
    let last_failure = failure
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|_| StoreError::Corrupt("health.last_failure"))?;
    Ok(Some(HealthRecord {
        state,
        last_failure,
        updated_at,
    }))
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
        state: &str,
        last_failure: Option<&serde_json::Value>,
    ) -> Result<(), StoreError> {
        self.write(|tx| tx.set_health(id, state, last_failure))
    }
}

impl Tx<'_> {
    /// The recorded health, if any.
    pub fn health(&self, id: AccountId) -> Result<Option<HealthRecord>, StoreError> {
        get(self.tx, id)
    }

    /// Records the state and the last failure (`None` clears it).
    pub fn set_health(
        &self,
        id: AccountId,
        state: &str,
        last_failure: Option<&serde_json::Value>,
    ) -> Result<(), StoreError> {
        let failure = last_failure.map(serde_json::Value::to_string);
        let result = self.tx.execute(
            "INSERT INTO health (account_id, state, last_failure, updated_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (account_id) DO UPDATE SET state = excluded.state, \
             last_failure = excluded.last_failure, updated_at = excluded.updated_at",
            params![id.0, state, failure, now()],
        );
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
                Err(StoreError::UnknownAccountId(id))
            }
            Err(e) => Err(e.into()),
        }
    }
}
