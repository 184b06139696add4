//! The SQLite database: opening it (WAL, busy timeout, foreign keys),
//! versioned migrations, and transactions that group writes which belong
//! together.
//!
//! Several processes (the app and any number of CLI runs) may open the same
//! file: WAL lets readers and one writer proceed together, writers take the
//! lock up front (`BEGIN IMMEDIATE`) and wait up to [`BUSY_TIMEOUT`] for it.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::StoreError;
use crate::home::Home;

/// How long a write waits for another process's write lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Schema migrations, in order; the database's `user_version` is the number
/// of migrations applied.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_typed_records.sql"),
];

/// The metadata store (accounts, token facts, health, events).
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
    pub(crate) retention: crate::events::Retention,
}

impl Store {
    /// Opens (creating and migrating if needed) the profile's database.
    pub fn open(home: &Home) -> Result<Self, StoreError> {
        Self::open_path(home.database_path())
    }

    /// Opens the database at `path`.
    pub fn open_path(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // WAL persists in the file; setting it needs the write lock, which
        // busy_timeout does not cover for this pragma, so retry briefly.
        let mut tries = 0;
        loop {
            match conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))
            {
                Ok(_) => break,
                Err(e) if tries < 50 && is_busy(&e) => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Self::setup(conn, Some(path.to_path_buf()))
    }

    /// A private in-memory database (for fast unit tests).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::setup(Connection::open_in_memory()?, None)
    }

    fn setup(mut conn: Connection, path: Option<PathBuf>) -> Result<Self, StoreError> {
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        migrate(&mut conn, path.as_deref())?;
        Ok(Self {
            conn: Mutex::new(conn),
            path,
            retention: crate::events::Retention::default(),
        })
    }

    /// The database file, if not in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The schema version this build writes.
    pub fn schema_version() -> u32 {
        MIGRATIONS.len() as u32
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` in one write transaction: everything it writes is committed
    /// together, or nothing is (if `f` returns an error).
    pub fn write<T>(
        &self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&Tx {
            tx: &tx,
            retention: self.retention,
        })?;
        tx.commit()?;
        Ok(value)
    }
}

/// An open write transaction; see [`Store::write`].
#[derive(Debug)]
pub struct Tx<'a> {
    pub(crate) tx: &'a rusqlite::Transaction<'a>,
    pub(crate) retention: crate::events::Retention,
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn migrate(conn: &mut Connection, path: Option<&Path>) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as u32;
    if found > known {
        return Err(StoreError::TooNew {
            path: path.map(Path::to_path_buf).unwrap_or_default(),
            found,
            known,
        });
    }
    for sql in &MIGRATIONS[found as usize..] {
        tx.execute_batch(sql)?;
    }
    if found < known {
        tx.pragma_update(None, "user_version", known)?;
        tracing::debug!(from = found, to = known, "migrated the database");
    }
    tx.commit()?;
    Ok(())
}

/// Current Unix time in seconds.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
