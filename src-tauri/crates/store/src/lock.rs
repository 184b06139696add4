//! The per-account cross-process locks: lock files under the data
//! directory, held with an exclusive advisory lock (`flock` on Unix,
//! `LockFileEx` on Windows) through `std::fs::File::lock`.
//!
//! Each account has two:
//! - the *refresh lock* ([`lock_path`]), held by the engine for a whole
//!   refresh, request included, so one refresh token is never redeemed twice
//!   at once;
//! - the *write lock* ([`write_lock_path`]), held only for the moment a token
//!   set is checked and written (see [`crate::grant`]). Sign-in, import and
//!   removal take only this one, so they never wait for a slow refresh; the
//!   refresh finds out at its write that it lost and writes nothing.
//!
//! The operating system releases the lock when the holder exits for any
//! reason — including `kill -9` — so a crashed refresh never wedges the
//! account. Lock files are never deleted (deleting a lock file that another
//! process has open would let two holders exist at once); they are empty.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The lock directory or file could not be created or opened.
    #[error("could not open the lock file {path}")]
    Open {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Another process held the lock for longer than the timeout.
    #[error("another Reconnect process has held the account's lock for over {waited:?}")]
    Timeout {
        /// How long we waited.
        waited: Duration,
    },
    /// Locking failed for another reason.
    #[error("could not lock {path}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// A held lock. Dropping it releases the lock.
#[derive(Debug)]
pub struct AccountLock {
    _file: File,
}

/// The lock file of the account named `account` under `data_dir`: a readable
/// prefix of the name plus a hash of all of it, so any name maps to a safe,
/// distinct file name.
pub fn lock_path(data_dir: &Path, account: &str) -> PathBuf {
    data_dir
        .join("locks")
        .join(format!("{}.lock", file_stem(account)))
}

/// The write lock file of the account named `account` under `data_dir`.
pub fn write_lock_path(data_dir: &Path, account: &str) -> PathBuf {
    data_dir
        .join("locks")
        .join(format!("{}.write.lock", file_stem(account)))
}

/// A file-name-safe stem for an account name.
pub fn file_stem(account: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(account.as_bytes());
    let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let readable: String = account
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(40)
        .collect();
    format!("{readable}-{hash}")
}

/// Takes the lock at `path`, waiting up to `timeout`. Blocking: call it from
/// a blocking thread.
pub fn acquire(path: &Path, timeout: Duration) -> Result<AccountLock, LockError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| LockError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|source| LockError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    let started = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(AccountLock { _file: file }),
            Err(TryLockError::WouldBlock) => {
                if started.elapsed() >= timeout {
                    return Err(LockError::Timeout {
                        waited: started.elapsed(),
                    });
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(25));
            }
            Err(TryLockError::Error(source)) => {
                return Err(LockError::Lock {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_until_the_first_releases() {
        let dir = tempfile::tempdir().unwrap();
        let path = lock_path(dir.path(), "work");
        let first = acquire(&path, Duration::from_secs(1)).unwrap();
        let err = acquire(&path, Duration::from_millis(50)).unwrap_err();
        assert!(matches!(err, LockError::Timeout { .. }), "{err}");
        let waiter = {
            let path = path.clone();
            std::thread::spawn(move || acquire(&path, Duration::from_secs(5)).map(|_| ()))
        };
        std::thread::sleep(Duration::from_millis(100));
        drop(first);
        waiter.join().unwrap().unwrap();
    }

    #[test]
    fn names_map_to_distinct_safe_files() {
        let dir = Path::new("/data");
        let a = lock_path(dir, "../../etc/passwd");
        let b = lock_path(dir, "etcpasswd");
        assert_ne!(a, b);
        assert_eq!(a.parent(), Some(dir.join("locks").as_path()));
        assert!(!a.to_string_lossy().contains(".."));
    }

    #[test]
    fn a_lock_file_in_an_unwritable_place_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("locks");
        std::fs::write(&blocker, b"not a directory").unwrap();
        let err = acquire(&lock_path(dir.path(), "x"), Duration::from_secs(1)).unwrap_err();
        assert!(matches!(err, LockError::Open { .. }), "{err}");
    }
}
