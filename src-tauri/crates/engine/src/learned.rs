//! Lifetimes learned from an account's own failures: a `70043` reveals the
//! Conditional Access sign-in frequency, a `70008`/`700082` the idle limit.
//! They feed the forecast, so the next deadline is predicted instead of met.
//!
//! Kept as a small JSON file per account under `<data dir>/lifetimes/`
//! (written atomically, under the account's refresh lock). No secrets.

use std::path::{Path, PathBuf};

use reconnect_core::forecast::{LifetimeObservation, Lifetimes, learn_lifetime};
use reconnect_core::tokens::UnixTime;
use reconnect_store::{Account, TokenFacts};

use crate::engine::Engine;
use serde::{Deserialize, Serialize};

/// How many observations of each kind are kept.
const KEEP: usize = 10;

/// What was observed for one account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnedLifetimes {
    /// Past sign-in-frequency failures.
    #[serde(default)]
    pub sign_in_frequency: Vec<LifetimeObservation>,
    /// Past idle-expiry failures.
    #[serde(default)]
    pub idle: Vec<LifetimeObservation>,
}

impl LearnedLifetimes {
    /// The learned sign-in frequency, in seconds.
    pub fn sign_in_frequency(&self) -> Option<i64> {
        learn_lifetime(&self.sign_in_frequency)
    }

    /// The learned idle limit, in seconds.
    pub fn idle_limit(&self) -> Option<i64> {
        learn_lifetime(&self.idle)
    }

    /// Adds an observation (keeping the newest few).
    pub fn observe(list: &mut Vec<LifetimeObservation>, observation: LifetimeObservation) {
        list.push(observation);
        if list.len() > KEEP {
            let excess = list.len() - KEEP;
            list.drain(..excess);
        }
    }

    /// Where an account's file lives.
    pub fn path(data_dir: &Path, account: &str) -> PathBuf {
        data_dir.join("lifetimes").join(format!(
            "{}.json",
            reconnect_store::lock::file_stem(account)
        ))
    }

    /// Loads the file; a missing or unreadable file means nothing learned.
    pub fn load(data_dir: &Path, account: &str) -> Self {
        std::fs::read(Self::path(data_dir, account))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Every account's file, by file stem ([`reconnect_store::lock::file_stem`]
    /// of the account name): one directory listing, reading only the files
    /// that exist.
    pub fn load_all(data_dir: &Path) -> std::collections::HashMap<String, Self> {
        let Ok(entries) = std::fs::read_dir(data_dir.join("lifetimes")) else {
            return std::collections::HashMap::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let path = entry.path();
                let stem = path
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".json")?
                    .to_owned();
                let learned = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
                Some((stem, learned))
            })
            .collect()
    }

    /// Deletes the file: nothing learned any more. A missing file is fine.
    pub fn forget(data_dir: &Path, account: &str) -> std::io::Result<()> {
        match std::fs::remove_file(Self::path(data_dir, account)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// Saves the file atomically (write a temp file, then rename).
    pub fn save(&self, data_dir: &Path, account: &str) -> std::io::Result<()> {
        let path = Self::path(data_dir, account);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, json)?;
        std::fs::rename(&tmp, &path)
    }
}

impl Engine {
    /// The lifetimes that apply to account `name`: the configured defaults,
    /// shortened by what its own failures revealed.
    pub fn lifetimes(&self, name: &str) -> Lifetimes {
        let learned = LearnedLifetimes::load(self.inner.home.dir(), name);
        crate::records::lifetimes_for(&self.inner.config, &learned)
    }

    /// Forgets the lifetimes account `name`'s failures revealed, so its
    /// forecast goes back to the defaults (a tester lifted the policy that
    /// caused them, or an admin says it changed).
    pub fn forget_lifetimes(&self, name: &str) -> std::io::Result<()> {
        LearnedLifetimes::forget(self.inner.home.dir(), name)
    }

    /// Remembers a lifetime revealed by a failure (70043, 70008/700082).
    pub(crate) fn learn(
        &self,
        account: &Account,
        verdict: &reconnect_core::decode::Verdict,
        facts: Option<&TokenFacts>,
        mut learned: LearnedLifetimes,
        now: UnixTime,
    ) {
        use reconnect_core::forecast::LifetimeObservation;
        let to_i64 = |s: u64| i64::try_from(s).ok();
        match verdict.primary_code {
            Some(70043) => LearnedLifetimes::observe(
                &mut learned.sign_in_frequency,
                LifetimeObservation {
                    issued_at: facts.and_then(|f| f.refresh_issued_at),
                    failed_at: now,
                    stated_lifetime: verdict.details.lifetime_seconds.and_then(to_i64),
                },
            ),
            Some(70008 | 700082) => LearnedLifetimes::observe(
                &mut learned.idle,
                LifetimeObservation {
                    issued_at: facts.and_then(|f| f.refresh_last_used_at.or(f.refresh_issued_at)),
                    failed_at: now,
                    stated_lifetime: None,
                },
            ),
            _ => return,
        }
        if let Err(e) = learned.save(self.inner.home.dir(), &account.name) {
            tracing::warn!(account = %account.name, error = %e, "could not save learned lifetimes");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_survive_a_save_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let mut learned = LearnedLifetimes::default();
        assert_eq!(
            LearnedLifetimes::load(dir.path(), "a").sign_in_frequency(),
            None
        );
        for i in 0..15 {
            LearnedLifetimes::observe(
                &mut learned.sign_in_frequency,
                LifetimeObservation {
                    issued_at: Some(0),
                    failed_at: 1000 + i,
                    stated_lifetime: Some(3600 + i),
                },
            );
        }
        learned.save(dir.path(), "a").unwrap();
        let back = LearnedLifetimes::load(dir.path(), "a");
        assert_eq!(back.sign_in_frequency.len(), KEEP);
        assert_eq!(
            back.sign_in_frequency(),
            Some(3605),
            "oldest five were dropped"
        );
        assert_eq!(
            LearnedLifetimes::load(dir.path(), "b"),
            LearnedLifetimes::default()
        );
        LearnedLifetimes::forget(dir.path(), "a").unwrap();
        assert_eq!(
            LearnedLifetimes::load(dir.path(), "a"),
            LearnedLifetimes::default(),
            "forgotten"
        );
        LearnedLifetimes::forget(dir.path(), "a").expect("forgetting twice is fine");
    }
}
