//! The history of refresh and sign-in attempts: appending with bounded
//! retention (by age and by count), listing, and counting failures by code
//! over time.

use reconnect_core::decode::Category;
use rusqlite::{Row, params};
use serde::Serialize;

use crate::db::{Store, Tx};
use crate::error::StoreError;
use crate::vault::AccountId;

pub use crate::attempt::{EventKind, Outcome};

/// How much history to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Events older than this many seconds are dropped.
    pub max_age_secs: i64,
    /// At most this many events are kept (the newest).
    pub max_count: u32,
}

impl Default for Retention {
    /// 90 days, 20,000 events.
    fn default() -> Self {
        Self {
            max_age_secs: 90 * 24 * 3600,
            max_count: 20_000,
        }
    }
}

/// An event to record. Never put a token in any field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NewEvent {
    /// When it happened (Unix seconds).
    pub at: i64,
    /// The account, if any.
    #[serde(skip)]
    pub account_id: Option<AccountId>,
    /// The account's name at the time (kept after the account is removed).
    pub account_name: Option<String>,
    /// What was attempted.
    pub kind: EventKind,
    /// How it ended.
    pub outcome: Outcome,
    /// How long it took.
    pub duration_ms: Option<i64>,
    /// Provider error code, e.g. `AADSTS70008`.
    pub code: Option<String>,
    /// OAuth `error`, e.g. `invalid_grant`.
    pub error: Option<String>,
    /// `suberror`, e.g. `bad_token`.
    pub suberror: Option<String>,
    /// The provider's trace id.
    pub trace_id: Option<String>,
    /// The correlation id.
    pub correlation_id: Option<String>,
    /// The decoder's category of a failure.
    pub category: Option<Category>,
    /// A short human message.
    pub message: Option<String>,
}

impl NewEvent {
    /// An event of `kind` with `outcome` at `at`, for `account` if given.
    pub fn new(
        at: i64,
        account: Option<&crate::Account>,
        kind: EventKind,
        outcome: Outcome,
    ) -> Self {
        Self {
            at,
            account_id: account.map(|a| a.id),
            account_name: account.map(|a| a.name.clone()),
            kind,
            outcome,
            ..Self::default()
        }
    }
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Sequence number (increasing).
    pub id: i64,
    /// The account id, if the account still exists.
    pub account_id: Option<i64>,
    /// Everything recorded.
    #[serde(flatten)]
    pub event: NewEvent,
}

/// Which events to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Only this account.
    pub account: Option<AccountId>,
    /// Only events at or after this time.
    pub since: Option<i64>,
    /// Only failures (outcome neither `ok` nor `discarded`).
    pub failures_only: bool,
    /// At most this many (newest first); `None` = 100.
    pub limit: Option<u32>,
}

/// Failures with one code in one time bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeCount {
    /// Start of the bucket (Unix seconds, a multiple of the bucket size).
    pub bucket_start: i64,
    /// The code (`None` for failures without one).
    pub code: Option<String>,
    /// How many failures.
    pub count: u32,
    /// How many distinct accounts.
    pub accounts: u32,
}

/// Column `index` read as one of a fixed set of names.
fn named<T>(r: &Row<'_>, index: usize, parse: fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    let text: String = r.get(index)?;
    parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            format!("unknown name {text:?}").into(),
        )
    })
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Event> {
    let account_id: Option<i64> = r.get(2)?;
    Ok(Event {
        id: r.get(0)?,
        account_id,
        event: NewEvent {
            at: r.get(1)?,
            account_id: account_id.map(AccountId),
            account_name: r.get(3)?,
            kind: named(r, 4, EventKind::parse)?,
            outcome: named(r, 5, Outcome::parse)?,
            duration_ms: r.get(6)?,
            code: r.get(7)?,
            error: r.get(8)?,
            suberror: r.get(9)?,
            trace_id: r.get(10)?,
            correlation_id: r.get(11)?,
            message: r.get(12)?,
            category: r
                .get::<_, Option<String>>(13)?
                .as_deref()
                .and_then(Category::parse),
        },
    })
}

impl Store {
    /// Changes how much history is kept (applied on the next append).
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// Records one event on its own (see [`Tx::append_event`] to group it).
    pub fn append_event(&self, event: &NewEvent) -> Result<i64, StoreError> {
        self.write(|tx| tx.append_event(event))
    }

    /// Events matching `query`, newest first.
    pub fn events(&self, query: &EventQuery) -> Result<Vec<Event>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, at, account_id, account_name, kind, outcome, duration_ms, code, error, \
             suberror, trace_id, correlation_id, message, category FROM events \
             WHERE (?1 IS NULL OR account_id = ?1) AND (?2 IS NULL OR at >= ?2) \
             AND (?3 = 0 OR outcome NOT IN ('ok', 'discarded')) \
             ORDER BY at DESC, id DESC LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![
                query.account.map(|a| a.0),
                query.since,
                query.failures_only,
                query.limit.unwrap_or(100),
            ],
            from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Failures since `since`, counted per code per `bucket_secs` window,
    /// oldest bucket first.
    pub fn failures_by_code(
        &self,
        since: i64,
        bucket_secs: i64,
    ) -> Result<Vec<CodeCount>, StoreError> {
        let bucket = bucket_secs.max(1);
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT (at / ?2) * ?2 AS bucket, code, COUNT(*), COUNT(DISTINCT account_name) \
             FROM events WHERE outcome NOT IN ('ok', 'discarded') AND at >= ?1 \
             GROUP BY bucket, code ORDER BY bucket, code",
        )?;
        let rows = stmt.query_map(params![since, bucket], |r| {
            Ok(CodeCount {
                bucket_start: r.get(0)?,
                code: r.get(1)?,
                count: r.get(2)?,
                accounts: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Tx<'_> {
    /// Records one event and applies retention relative to its time.
    pub fn append_event(&self, e: &NewEvent) -> Result<i64, StoreError> {
        self.tx.execute(
            "INSERT INTO events (at, account_id, account_name, kind, outcome, duration_ms, code, \
             error, suberror, trace_id, correlation_id, message, category) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                e.at,
                e.account_id.map(|a| a.0),
                e.account_name,
                e.kind.as_str(),
                e.outcome.as_str(),
                e.duration_ms,
                e.code,
                e.error,
                e.suberror,
                e.trace_id,
                e.correlation_id,
                e.message,
                e.category.map(Category::as_str),
            ],
        )?;
        let id = self.tx.last_insert_rowid();
        self.prune_events(e.at)?;
        Ok(id)
    }

    /// Drops events older than the retention age (relative to `now`) and
    /// all but the newest `max_count`. Returns how many were dropped.
    pub fn prune_events(&self, now: i64) -> Result<usize, StoreError> {
        let r = self.retention;
        let by_age = self.tx.execute(
            "DELETE FROM events WHERE at < ?1",
            [now.saturating_sub(r.max_age_secs)],
        )?;
        let by_count = self.tx.execute(
            "DELETE FROM events WHERE id <= (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?1)",
            [r.max_count],
        )?;
        Ok(by_age + by_count)
    }
}
