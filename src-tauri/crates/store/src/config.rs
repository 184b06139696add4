//! A profile's settings file: `config.toml` in its data directory, beside
//! the database. People edit it by hand, so a mistake is reported with the
//! file, the line and what is wrong, and unknown keys are refused rather
//! than silently ignored.
//!
//! ```toml
//! # Run a program (no shell) on each event the keeper sees; RECONNECT_EVENT,
//! # RECONNECT_ACCOUNT, RECONNECT_CODE and RECONNECT_TITLE are in its environment.
//! on_event = ["notify-send", "Reconnect"]
//! hook_timeout_seconds = 30
//!
//! # Whether the desktop app starts at login (the app's setting writes this).
//! start_at_login = true
//!
//! # Which account answers `reconnect credential` (git) for which host and path.
//! [[route]]
//! host = "dev.azure.com"
//! path = "contoso/*"
//! account = "work"
//! ```
//!
//! A missing file is an empty configuration. Settings the app changes are
//! written back with the rest of the file (comments included) untouched.

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
    /// `on_event`: a program and its arguments, run without a shell for each
    /// event the keeper reports.
    #[serde(default)]
    pub on_event: Option<Vec<String>>,
    /// How long an `on_event` program may run before it is stopped.
    #[serde(default)]
    pub hook_timeout_seconds: Option<u64>,
    /// Whether the desktop app starts at login; `None` until someone chose.
    #[serde(default)]
    pub start_at_login: Option<bool>,
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
    /// `on_event` is empty or names an empty program.
    #[error("{path}: `on_event` must name a program, as [\"program\", \"arg\", …]")]
    Hook {
        /// The file.
        path: PathBuf,
    },
    /// The file could not be written back.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
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
        if config
            .on_event
            .as_ref()
            .is_some_and(|argv| argv.first().is_none_or(|p| p.trim().is_empty()))
        {
            return Err(ConfigError::Hook {
                path: path.to_owned(),
            });
        }
        Ok(config)
    }

    /// Records the "start at login" choice in the profile's `config.toml`,
    /// keeping everything else in the file as it was.
    pub fn set_start_at_login(home: &Home, on: bool) -> Result<(), ConfigError> {
        let path = home.config_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        // Refuse to rewrite a file we could not read back afterwards.
        Self::parse(&text, &path)?;
        let mut doc: toml_edit::DocumentMut =
            text.parse()
                .map_err(|source: toml_edit::TomlError| ConfigError::Write {
                    path: path.clone(),
                    source: std::io::Error::other(source.to_string()),
                })?;
        doc["start_at_login"] = toml_edit::value(on);
        let write = |source| ConfigError::Write {
            path: path.clone(),
            source,
        };
        let temp = path.with_extension("toml.tmp");
        std::fs::write(&temp, doc.to_string()).map_err(write)?;
        std::fs::rename(&temp, &path).map_err(write)
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
    fn hooks_must_name_a_program() {
        let ok =
            parse("on_event = [\"logger\", \"-t\", \"reconnect\"]\nhook_timeout_seconds = 5\n")
                .expect("valid");
        assert_eq!(ok.on_event.as_deref().map(<[String]>::len), Some(3));
        assert_eq!(ok.hook_timeout_seconds, Some(5));
        assert!(matches!(
            parse("on_event = []"),
            Err(ConfigError::Hook { .. })
        ));
        assert!(matches!(
            parse("on_event = [\" \"]"),
            Err(ConfigError::Hook { .. })
        ));
    }

    #[test]
    fn the_start_at_login_choice_keeps_the_rest_of_the_file() {
        let dir = tempfile::tempdir().expect("dir");
        let home = Home::at(dir.path()).expect("home");
        ProfileConfig::set_start_at_login(&home, true).expect("new file");
        assert_eq!(
            ProfileConfig::load(&home).expect("read").start_at_login,
            Some(true)
        );
        let hand = "# my routes\n[[route]]\nhost = \"h.test\" # work\naccount = \"a\"\n";
        std::fs::write(home.config_path(), hand).expect("write");
        ProfileConfig::set_start_at_login(&home, false).expect("edit");
        let text = std::fs::read_to_string(home.config_path()).expect("read");
        assert!(
            text.contains("# my routes") && text.contains("# work"),
            "{text}"
        );
        let config = ProfileConfig::load(&home).expect("read");
        assert_eq!(config.start_at_login, Some(false));
        assert_eq!(config.routes.len(), 1);
        std::fs::write(home.config_path(), "start_at_login = \"yes\"\n").expect("write");
        assert!(
            ProfileConfig::set_start_at_login(&home, true).is_err(),
            "a broken file is left alone"
        );
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
