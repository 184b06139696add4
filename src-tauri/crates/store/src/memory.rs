//! An in-memory keychain for tests: it enforces the 2,560-byte entry limit of
//! the strictest real keychain and can fail or "crash" at any write.
//!
//! Public so other crates' tests can use it ([`MemoryVault::in_memory`]).
//! Clones share the same entries, so a test can "restart the process" by
//! calling [`MemoryKeychain::restart`] and reading through a fresh vault.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::chunked::ChunkedVault;
use crate::keychain_error::KeychainError;
use crate::vault::{ENTRY_LIMIT_UTF16_BYTES, Keychain, utf16_bytes};

/// A vault over the in-memory keychain.
pub type MemoryVault = ChunkedVault<MemoryKeychain>;

impl MemoryVault {
    /// A vault over a fresh in-memory keychain with the 2,560-byte limit.
    pub fn in_memory() -> Self {
        ChunkedVault::new(MemoryKeychain::new())
    }
}

/// A fault to inject at a given write (writes and erases both count, from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// That write fails (and does nothing); later writes work.
    FailAt(usize),
    /// That write and every operation after it fail (nothing is applied),
    /// as if the process died, until [`MemoryKeychain::restart`].
    CrashAt(usize),
}

#[derive(Debug, Default)]
struct State {
    entries: BTreeMap<String, String>,
    limit: usize,
    writes: usize,
    fault: Option<Fault>,
    crashed: bool,
    locked: bool,
}

/// The size-limited, fault-injecting in-memory keychain.
#[derive(Debug, Clone)]
pub struct MemoryKeychain {
    state: Arc<Mutex<State>>,
}

impl Default for MemoryKeychain {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryKeychain {
    /// An empty keychain with the 2,560-byte (UTF-16) entry limit.
    pub fn new() -> Self {
        Self::with_limit(ENTRY_LIMIT_UTF16_BYTES)
    }

    /// An empty keychain without a size limit, as the Secret Service.
    pub fn unlimited() -> Self {
        Self::with_limit(usize::MAX)
    }

    /// An empty keychain with another entry limit (UTF-16 bytes).
    pub fn with_limit(limit: usize) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                limit,
                ..State::default()
            })),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Injects a fault at write number `fault`'s index, counted from now.
    pub fn inject(&self, fault: Fault) {
        let mut s = self.state();
        s.writes = 0;
        s.fault = Some(fault);
    }

    /// "Restarts the process": clears the fault, the crash and the counter;
    /// the entries stay, as they would in a real keychain.
    pub fn restart(&self) {
        let mut s = self.state();
        s.writes = 0;
        s.fault = None;
        s.crashed = false;
    }

    /// Locks or unlocks the keychain; while locked every call fails with
    /// [`KeychainError::Locked`].
    pub fn set_locked(&self, locked: bool) {
        self.state().locked = locked;
    }

    /// Writes and erases attempted since the last [`inject`](Self::inject)
    /// or [`restart`](Self::restart).
    pub fn writes(&self) -> usize {
        self.state().writes
    }

    /// A copy of every entry (name → value).
    pub fn entries(&self) -> BTreeMap<String, String> {
        self.state().entries.clone()
    }

    /// Names of every entry.
    pub fn entry_names(&self) -> Vec<String> {
        self.state().entries.keys().cloned().collect()
    }

    fn usable(s: &State) -> Result<(), KeychainError> {
        if s.crashed {
            return Err(KeychainError::Injected("has crashed"));
        }
        if s.locked {
            return Err(KeychainError::Locked { cause: None });
        }
        Ok(())
    }

    /// Counts a write and applies any fault due.
    fn begin_write(s: &mut State) -> Result<(), KeychainError> {
        Self::usable(s)?;
        let index = s.writes;
        s.writes += 1;
        match s.fault {
            Some(Fault::FailAt(at)) if at == index => {
                Err(KeychainError::Injected("failed this write"))
            }
            Some(Fault::CrashAt(at)) if at == index => {
                s.crashed = true;
                Err(KeychainError::Injected("crashed at this write"))
            }
            _ => Ok(()),
        }
    }
}

impl Keychain for MemoryKeychain {
    fn entry_limit(&self) -> usize {
        self.state().limit
    }

    fn check(&self) -> Result<(), KeychainError> {
        Self::usable(&self.state())
    }

    fn read(&self, entry: &str) -> Result<Option<String>, KeychainError> {
        let s = self.state();
        Self::usable(&s)?;
        Ok(s.entries.get(entry).cloned())
    }

    fn write(&self, entry: &str, value: &str) -> Result<(), KeychainError> {
        let mut s = self.state();
        Self::begin_write(&mut s)?;
        let size = utf16_bytes(value);
        if size > s.limit {
            return Err(KeychainError::TooLarge {
                size,
                limit: s.limit,
            });
        }
        s.entries.insert(entry.to_owned(), value.to_owned());
        Ok(())
    }

    fn erase(&self, entry: &str) -> Result<(), KeychainError> {
        let mut s = self.state();
        Self::begin_write(&mut s)?;
        s.entries.remove(entry);
        Ok(())
    }

    fn names(&self) -> Result<Option<Vec<String>>, KeychainError> {
        let s = self.state();
        Self::usable(&s)?;
        Ok(Some(s.entries.keys().cloned().collect()))
    }
}
