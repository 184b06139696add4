//! The manifest entry of a set stored in parts: which generation of parts
//! is current (with its length and checksum) and which may be left over,
//! and how a manifest found in the keychain is read, including a damaged
//! one or another version's (see the parent module's docs).

use serde::{Deserialize, Serialize};

/// The manifest entry's content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Manifest {
    /// Format version.
    pub(super) v: u32,
    /// The next generation number to use.
    pub(super) next: u64,
    /// The readable generation, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) cur: Option<Current>,
    /// Generations whose parts may still exist and must be erased.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) junk: Vec<Parts>,
}

/// A generation of parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Parts {
    /// Generation number.
    pub(super) g: u64,
    /// Number of parts.
    pub(super) n: usize,
}

/// The current generation and what its payload must look like.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Current {
    pub(super) g: u64,
    pub(super) n: usize,
    /// Length in bytes of the decoded payload.
    pub(super) len: usize,
    /// Hex SHA-256 of the decoded payload.
    pub(super) sha: String,
}

impl Current {
    pub(super) fn parts(&self) -> Parts {
        Parts {
            g: self.g,
            n: self.n,
        }
    }
}

pub(super) const MANIFEST_VERSION: u32 = 1;

/// A manifest entry as found in the keychain.
pub(super) enum Found {
    /// None: the account has no set.
    Nothing,
    /// One this version reads.
    Manifest(Manifest),
    /// Unreadable, or written by another version; `listed` is every
    /// generation it still seems to name, so its parts can be erased.
    Unusable {
        /// What is wrong with it, for the error.
        what: &'static str,
        /// The generations it still seems to name.
        listed: Vec<Parts>,
    },
}

impl Found {
    /// What a manifest entry's `text` (`None`: no entry) holds.
    pub(super) fn parse(text: Option<&str>) -> Self {
        let Some(text) = text else {
            return Self::Nothing;
        };
        let unusable = |what| Self::Unusable {
            what,
            listed: listed_parts(text),
        };
        let Ok(manifest) = serde_json::from_str::<Manifest>(text) else {
            return unusable("the manifest is unreadable");
        };
        if manifest.v != MANIFEST_VERSION {
            return unusable("the manifest has an unknown version");
        }
        Self::Manifest(manifest)
    }
}

/// Most parts one listed generation is taken to have (a damaged number
/// must not turn into millions of keychain calls).
const MOST_PARTS: u64 = 4_096;

/// Every `{"g": …, "n": …}` object anywhere in `text`, if it is JSON.
fn listed_parts(text: &str) -> Vec<Parts> {
    fn walk(value: &serde_json::Value, out: &mut Vec<Parts>) {
        match value {
            serde_json::Value::Object(map) => {
                let number = |k: &str| map.get(k).and_then(serde_json::Value::as_u64);
                if let (Some(g), Some(n)) = (number("g"), number("n")) {
                    let n = usize::try_from(n.min(MOST_PARTS)).unwrap_or(0);
                    out.push(Parts { g, n });
                }
                map.values().for_each(|v| walk(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(value) = serde_json::from_str(text) {
        walk(&value, &mut out);
    }
    out
}
