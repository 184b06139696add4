//! The profile's settings file (`config.toml`) in the app's words.

use reconnect_store::ConfigError;

use super::{Failure, FailureCode};

impl From<ConfigError> for Failure {
    fn from(err: ConfigError) -> Self {
        let (code, message) = match &err {
            ConfigError::Read { path, source } => (
                FailureCode::Storage,
                format!(
                    "The settings file {} cannot be read: {source}.",
                    path.display()
                ),
            ),
            ConfigError::Write { path, source } => (
                FailureCode::Storage,
                format!(
                    "The settings file {} cannot be written: {source}.",
                    path.display()
                ),
            ),
            // A hand edit went wrong: the file says where; nothing is
            // rewritten until it is fixed.
            ConfigError::Parse { .. } | ConfigError::Hook { .. } | ConfigError::Route { .. } => (
                FailureCode::InvalidInput,
                format!("{err}. Fix the file, then try again; Reconnect left it as it is."),
            ),
        };
        Failure::new(code, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_settings_file_is_the_users_to_fix_and_named() {
        let path = std::path::Path::new("/data/config.toml");
        let err = reconnect_store::ProfileConfig::parse("start_at_login = \"yes\"\n", path)
            .expect_err("a string is not a boolean");
        let failure = Failure::from(err);
        assert_eq!(failure.code, FailureCode::InvalidInput);
        assert!(
            failure.message.contains("/data/config.toml"),
            "{}",
            failure.message
        );
        let failure = Failure::from(ConfigError::Write {
            path: path.to_owned(),
            source: std::io::Error::other("disk full"),
        });
        assert_eq!(failure.code, FailureCode::Storage);
        assert!(failure.message.contains("disk full"), "{}", failure.message);
    }
}
