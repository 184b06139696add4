//! Profiles: which data directory (and so which keychain namespace) the app
//! works on. `RECONNECT_PROFILE=demo` (what `scripts/run.sh` sets) selects the
//! demo profile under `<data dir>/profiles/demo`, backed by a simulator inside
//! the app; anything else is a real profile. Profiles never share a directory,
//! and the keychain service name is derived from the directory, so they never
//! share keychain entries either.

use std::path::PathBuf;

use serde::Serialize;

/// Environment variable that picks the profile at start.
pub const PROFILE_ENV: &str = "RECONNECT_PROFILE";

/// The id of the demo profile.
pub const DEMO: &str = "demo";
/// The id of the default real profile (the data dir the CLI uses too).
pub const DEFAULT: &str = "default";

/// One profile the user can switch to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileChoice {
    /// `demo`, `default`, or a named real profile.
    pub id: String,
    /// What the profile switch shows.
    pub label: String,
}

/// Why a profile name is not usable.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The name has characters that cannot be a directory name.
    #[error("profile names use letters, digits, '-' and '_' only (got {0:?})")]
    BadName(String),
    /// The base data directory is unknown.
    #[error(transparent)]
    Home(#[from] reconnect_store::HomeError),
}

/// The profile selected by the environment (`default` when unset or empty).
pub fn from_env() -> String {
    std::env::var(PROFILE_ENV)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT.to_owned())
}

/// Whether `id` is the demo profile.
pub fn is_demo(id: &str) -> bool {
    id == DEMO
}

/// The data directory of profile `id`: the base data dir for `default`,
/// `<base>/profiles/<id>` for any other.
pub fn dir(id: &str) -> Result<PathBuf, ProfileError> {
    validate(id)?;
    let base = reconnect_store::Home::default_path()?;
    Ok(if id == DEFAULT {
        base
    } else {
        base.join("profiles").join(id)
    })
}

fn validate(id: &str) -> Result<(), ProfileError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ProfileError::BadName(id.to_owned()))
    }
}

/// The profiles offered in the switch: demo, default, and `current` if it is
/// a named one.
pub fn choices(current: &str) -> Vec<ProfileChoice> {
    let mut list = vec![
        ProfileChoice {
            id: DEMO.into(),
            label: "Demo (simulator)".into(),
        },
        ProfileChoice {
            id: DEFAULT.into(),
            label: "My accounts".into(),
        },
    ];
    if current != DEMO && current != DEFAULT {
        list.push(ProfileChoice {
            id: current.into(),
            label: format!("Profile {current}"),
        });
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_escape_the_profiles_dir_are_refused() {
        for bad in ["", "../x", "a/b", "a b", ".", ".."] {
            assert!(validate(bad).is_err(), "{bad:?} must be refused");
        }
        for good in ["demo", "default", "work_2", "lab-1"] {
            assert!(validate(good).is_ok(), "{good:?} must be accepted");
        }
    }

    #[test]
    fn the_switch_always_offers_demo_and_default_and_the_current_named_profile() {
        let ids: Vec<String> = choices("lab").into_iter().map(|c| c.id).collect();
        assert_eq!(ids, ["demo", "default", "lab"]);
        assert_eq!(choices("demo").len(), 2);
    }
}
