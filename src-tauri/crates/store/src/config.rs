//! A profile's settings file: `config.toml` in its data directory, beside
//! the database. People edit it by hand, so a mistake is reported with the
//! file, the line and what is wrong, and unknown keys are refused rather
//! than silently ignored.
//!
//! ```toml
//! # Which account answers `reconnect credential` (git) for which host and path.
//! [[route]]
//! host = "dev.azure.com"
//! path = "contoso/*"
//! account = "work"
//! ```
//!
//! A missing file is an empty configuration.

use std::path::{Path, PathBuf};

use reconnect_core::route::{self, Route, RouteError};
use serde::Deserialize;

use crate::home::Home;

/// File name of the settings inside the data directory.
pub const CONFIG_FILE: &str = "config.toml";

/// Everything `config.toml` can say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileConfig {
    /// `[[route]]`: which account answers for which host and path.
    #[serde(default, rename = "route")]
    pub routes: Vec<Route>,
}

/// Why the settings file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or has keys or values we do not know.
    #[error("{path} is not a valid configuration: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        #[source]
        source: toml::de::Error,
    },
    /// A route makes no sense.
    #[error("{path}: {source}")]
    Route {
        /// The file.
        path: PathBuf,
        /// Which route and why.
        #[source]
        source: RouteError,
    },
}

impl Home {
    /// Path of the profile's settings file.
    pub fn config_path(&self) -> PathBuf {
        self.dir().join(CONFIG_FILE)
    }
}

impl ProfileConfig {
    /// Reads the profile's `config.toml`; no file means the defaults.
    pub fn load(home: &Home) -> Result<Self, ConfigError> {
        Self::load_from(&home.config_path())
    }

    /// Reads settings from `path`; no file means the defaults.
    pub fn load_from(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        Self::parse(&text, path)
    }

    /// Parses settings text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })?;
        route::check(&config.routes).map_err(|source| ConfigError::Route {
            path: path.to_owned(),
            source,
        })?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ProfileConfig, ConfigError> {
        ProfileConfig::parse(text, Path::new("/p/config.toml"))
    }

    #[test]
    fn routes_are_read_in_order() {
        let config = parse(
            r#"
[[route]]
host = "dev.azure.com"
path = "contoso/*"
account = "work"

[[route]]
host = "git.example.com"
account = "home"
"#,
        )
        .expect("valid");
        assert_eq!(config.routes.len(), 2);
        assert_eq!(config.routes[0].path.as_deref(), Some("contoso/*"));
        assert_eq!(config.routes[1].account, "home");
        assert_eq!(parse("").expect("empty"), ProfileConfig::default());
    }

    #[test]
    fn mistakes_name_the_file_and_the_line() {
        let err = parse("[[route]]\nhost = \"a.test\"\nacount = \"x\"\n")
            .expect_err("unknown key")
            .to_string();
        assert!(err.contains("/p/config.toml"), "{err}");
        assert!(err.contains("acount"), "{err}");
        assert!(err.contains("line 3"), "{err}");
        let err = parse("[[route]]\nhost = \"a b\"\naccount = \"x\"\n")
            .expect_err("bad host")
            .to_string();
        assert!(err.contains("route 1") && err.contains("a b"), "{err}");
    }

    #[test]
    fn a_missing_file_is_the_default() {
        let dir = tempfile::tempdir().expect("dir");
        let home = Home::at(dir.path()).expect("home");
        assert_eq!(
            ProfileConfig::load(&home).expect("no file"),
            ProfileConfig::default()
        );
        std::fs::write(
            home.config_path(),
            "[[route]]\nhost = \"h.test\"\naccount = \"a\"\n",
        )
        .expect("write");
        assert_eq!(ProfileConfig::load(&home).expect("file").routes.len(), 1);
    }
}
