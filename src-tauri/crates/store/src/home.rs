//! The data directory of one Reconnect profile (`RECONNECT_HOME`, or the
//! platform data dir) and the names derived from it: the database file and
//! the keychain service name that keeps profiles from colliding.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Environment variable that selects the data directory.
pub const HOME_ENV: &str = "RECONNECT_HOME";

/// File name of the SQLite database inside the data directory.
pub const DATABASE_FILE: &str = "reconnect.db";

/// Why the data directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// Neither `RECONNECT_HOME` nor a platform data directory is known.
    #[error(
        "no data directory: set RECONNECT_HOME, or HOME/XDG_DATA_HOME so the platform data directory can be found"
    )]
    Unknown,
    /// `RECONNECT_HOME` is set but empty.
    #[error("RECONNECT_HOME is set but empty; point it at a directory or unset it")]
    Empty,
    /// The directory could not be created or resolved.
    #[error("cannot use data directory {path}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
}

/// A resolved, existing, canonical data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    dir: PathBuf,
}

impl Home {
    /// `RECONNECT_HOME` if set, else `<platform data dir>/reconnect`
    /// (`$XDG_DATA_HOME/reconnect` or `~/.local/share/reconnect` on Linux).
    /// Creates the directory if needed.
    pub fn resolve() -> Result<Self, HomeError> {
        Self::at(Self::default_path()?)
    }

    /// Where [`resolve`](Self::resolve) would put the data, without creating it.
    pub fn default_path() -> Result<PathBuf, HomeError> {
        match std::env::var_os(HOME_ENV) {
            Some(value) if value.is_empty() => Err(HomeError::Empty),
            Some(value) => Ok(PathBuf::from(value)),
            None => dirs::data_dir()
                .map(|d| d.join("reconnect"))
                .ok_or(HomeError::Unknown),
        }
    }

    /// Uses `dir` as the data directory, creating it (owner-only on Unix).
    pub fn at(dir: impl AsRef<Path>) -> Result<Self, HomeError> {
        let dir = dir.as_ref();
        let io = |source| HomeError::Io {
            path: dir.to_path_buf(),
            source,
        };
        if !dir.exists() {
            create_private_dir(dir).map_err(io)?;
        }
        let dir = dir.canonicalize().map_err(io)?;
        Ok(Self { dir })
    }

    /// The canonical directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the SQLite database.
    pub fn database_path(&self) -> PathBuf {
        self.dir.join(DATABASE_FILE)
    }

    /// The keychain service name for this profile: `reconnect:` followed by
    /// the first 12 hex digits of SHA-256 over the canonical path. Two data
    /// directories never share keychain entries.
    pub fn keychain_service(&self) -> String {
        let digest = Sha256::digest(self.dir.as_os_str().as_encoded_bytes());
        let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        format!("reconnect:{hex}")
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_name_differs_per_directory_and_is_stable() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let home_a = Home::at(a.path()).unwrap();
        let home_b = Home::at(b.path()).unwrap();
        assert_ne!(home_a.keychain_service(), home_b.keychain_service());
        assert_eq!(
            home_a.keychain_service(),
            Home::at(a.path()).unwrap().keychain_service()
        );
        assert!(home_a.keychain_service().starts_with("reconnect:"));
        assert_eq!(home_a.keychain_service().len(), "reconnect:".len() + 12);
    }

    #[test]
    fn equivalent_paths_share_one_service_name() {
        let a = tempfile::tempdir().unwrap();
        let dotted = a.path().join(".");
        assert_eq!(
            Home::at(a.path()).unwrap().keychain_service(),
            Home::at(dotted).unwrap().keychain_service()
        );
    }

    #[test]
    fn creates_missing_directory() {
        let a = tempfile::tempdir().unwrap();
        let nested = a.path().join("x/y");
        let home = Home::at(&nested).unwrap();
        assert!(home.dir().is_dir());
        assert_eq!(home.database_path(), home.dir().join(DATABASE_FILE));
    }
}
