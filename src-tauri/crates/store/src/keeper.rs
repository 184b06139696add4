//! The keeper lock: at most one process per data directory runs the
//! scheduler (keep-alive refreshes, retries, forecasts, notifications),
//! whether it is the desktop app or `reconnect keep`. Everything else
//! (`token`, `status`, sign-in) works beside a keeper as before.
//!
//! The lock is an exclusive advisory lock on `locks/keeper.lock`, held for
//! the keeper's whole life; the operating system drops it when the process
//! ends, even on `kill -9`. While held, the file says who holds it (`PID
//! KIND`), so a second keeper can name the first.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::home::Home;

/// Which program keeps a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeeperKind {
    /// The desktop app.
    App,
    /// `reconnect keep`.
    Keep,
}

impl KeeperKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::App => "app",
            Self::Keep => "keep",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "app" => Some(Self::App),
            "keep" => Some(Self::Keep),
            _ => None,
        }
    }

    /// How people call it: "the Reconnect app" or "`reconnect keep`".
    pub fn describe(self) -> &'static str {
        match self {
            Self::App => "the Reconnect app",
            Self::Keep => "`reconnect keep`",
        }
    }
}

/// The process that keeps a profile, as far as its lock file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keeper {
    /// Its process id (absent for the instant between lock and write).
    pub pid: Option<u32>,
    /// What it is.
    pub kind: Option<KeeperKind>,
}

impl std::fmt::Display for Keeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = self
            .kind
            .map_or("another Reconnect process", KeeperKind::describe);
        match self.pid {
            Some(pid) => write!(f, "{what} (PID {pid})"),
            None => f.write_str(what),
        }
    }
}

/// Why the keeper lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum KeeperError {
    /// Another process keeps this profile.
    #[error("this profile is already kept by {0}")]
    Held(Keeper),
    /// The lock file could not be opened, locked or written.
    #[error("could not use the keeper lock {path}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// The keeper lock, held until dropped.
#[derive(Debug)]
pub struct KeeperLock {
    _file: File,
}

/// The keeper lock file of a data directory.
pub fn keeper_path(data_dir: &Path) -> PathBuf {
    data_dir.join("locks").join("keeper.lock")
}

fn open(path: &Path) -> Result<File, KeeperError> {
    let io = |source| KeeperError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(io)
}

fn read_holder(file: &mut File) -> Keeper {
    let mut text = String::new();
    let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
    let mut words = text.split_whitespace();
    Keeper {
        pid: words.next().and_then(|w| w.parse().ok()),
        kind: words.next().and_then(KeeperKind::parse),
    }
}

impl KeeperLock {
    /// Takes the keeper lock of `home` for this process, or names who has it.
    pub fn acquire(home: &Home, kind: KeeperKind) -> Result<Self, KeeperError> {
        let path = keeper_path(home.dir());
        let mut file = open(&path)?;
        let io = |source| KeeperError::Io {
            path: path.clone(),
            source,
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(KeeperError::Held(read_holder(&mut file))),
            Err(TryLockError::Error(source)) => return Err(io(source)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{} {}", std::process::id(), kind.as_str()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(Self { _file: file })
    }

    /// Who keeps `home` right now, if anyone.
    pub fn holder(home: &Home) -> Result<Option<Keeper>, KeeperError> {
        let path = keeper_path(home.dir());
        let mut file = open(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(None),
            Err(TryLockError::WouldBlock) => Ok(Some(read_holder(&mut file))),
            Err(TryLockError::Error(source)) => Err(KeeperError::Io { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_keeper_learns_who_keeps_the_profile() {
        let dir = tempfile::tempdir().expect("dir");
        let home = Home::at(dir.path()).expect("home");
        assert_eq!(KeeperLock::holder(&home).expect("no holder"), None);
        let held = KeeperLock::acquire(&home, KeeperKind::Keep).expect("first");
        let Err(KeeperError::Held(keeper)) = KeeperLock::acquire(&home, KeeperKind::App) else {
            panic!("the second keeper must be refused");
        };
        assert_eq!(keeper.pid, Some(std::process::id()));
        assert_eq!(keeper.kind, Some(KeeperKind::Keep));
        let said = keeper.to_string();
        assert!(said.contains("`reconnect keep` (PID"), "{said}");
        assert_eq!(KeeperLock::holder(&home).expect("holder"), Some(keeper));
        drop(held);
        assert_eq!(KeeperLock::holder(&home).expect("released"), None);
        let again = KeeperLock::acquire(&home, KeeperKind::App).expect("free again");
        drop(again);
    }
}
