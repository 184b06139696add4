//! Crash-safe storage of one token set in the keychain.
//!
//! Where the keychain has no practical size limit (the Secret Service), a set
//! is one entry, `<account id>/set`, replaced atomically by the keychain
//! itself: one read per `get`, one write per `put`. Sets stored in parts by
//! earlier versions are still read, and are removed right after the next
//! `put` wrote the single entry (a reader prefers the single entry, so a kill
//! in between leaves the new set readable).
//!
//! Where entries are small (Windows Credential Manager), or when asked to
//! ([`ChunkedVault::in_parts`]), a set is stored in parts under a manifest:
//!
//! A token set is encoded, base64'd and cut into parts that each fit the
//! smallest keychain entry (2,560 UTF-16 bytes). A small manifest entry says
//! which generation of parts is current, with its length and SHA-256.
//!
//! Entries for account 7 in one profile's keychain service:
//! `7/manifest`, `7/g12/0`, `7/g12/1`, … (`g12` = generation 12).
//!
//! `put` writes in this order, each step one atomic entry write:
//! 1. erase the parts the manifest lists as junk (left by an earlier crash);
//! 2. rewrite the manifest with the new generation listed as junk (intent);
//! 3. write the new generation's parts;
//! 4. flip: rewrite the manifest with the new generation current and the old
//!    one listed as junk;
//! 5. erase the old generation's parts;
//! 6. rewrite the manifest with an empty junk list.
//!
//! Readers only follow `current`, whose parts are never touched until a later
//! flip, so a crash at any step leaves the old or the new set readable, never
//! a mix (and the checksum would catch one). Every part that could be left
//! behind is listed as junk in the manifest, so the next write removes it.
//!
//! One writer per account at a time: writers hold an in-process mutex and,
//! for a vault tied to a data directory, an exclusive lock on
//! `<data dir>/locks/vault/<account id>.lock`, so the app and several CLI
//! processes never interleave their steps. Readers take no lock; if a write
//! finishes under them (parts gone, checksum off) they re-read the manifest
//! and try again.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use reconnect_core::tokens::TokenSet;
use sha2::{Digest, Sha256};

use crate::codec;
use crate::vault::{AccountId, ENTRY_LIMIT_UTF16_BYTES, Keychain, Vault, VaultError};

mod manifest;

use manifest::{Current, Found, MANIFEST_VERSION, Manifest, Parts};

/// A [`Vault`] over any [`Keychain`]: one entry per set where the keychain
/// allows it, else parts with a manifest (see the module docs).
#[derive(Debug, Clone)]
pub struct ChunkedVault<K> {
    keychain: K,
    writers: Arc<Mutex<()>>,
    lock_dir: Option<PathBuf>,
    parts_only: bool,
}

/// How many times a read retries when a concurrent write moved the set.
const READ_ATTEMPTS: usize = 4;

impl<K: Keychain> ChunkedVault<K> {
    /// Wraps a keychain (writers are serialized within this process only).
    pub fn new(keychain: K) -> Self {
        Self {
            keychain,
            writers: Arc::new(Mutex::new(())),
            lock_dir: None,
            parts_only: false,
        }
    }

    /// Stores every set in parts under a manifest, even where the keychain
    /// has no size limit (how earlier versions stored them; the upgrade
    /// tests write that format with it).
    pub fn in_parts(mut self) -> Self {
        self.parts_only = true;
        self
    }

    /// Whether sets are stored as one entry.
    fn one_entry(&self) -> bool {
        !self.parts_only && self.keychain.entry_limit() == usize::MAX
    }

    /// Also serializes writers across processes with lock files in `dir`.
    pub fn with_lock_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.lock_dir = Some(dir.into());
        self
    }

    /// Runs `f` as the only writer of `account`.
    fn exclusive<T>(
        &self,
        account: AccountId,
        f: impl FnOnce() -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        let _in_process = self.writers.lock().unwrap_or_else(|e| e.into_inner());
        let _across_processes = match &self.lock_dir {
            Some(dir) => Some(lock_file(dir, account)?),
            None => None,
        };
        f()
    }

    /// The keychain underneath.
    pub fn keychain(&self) -> &K {
        &self.keychain
    }

    /// Characters of base64 per part: as many as fit the entry limit in
    /// UTF-16, and never more than the smallest platform's (the size parts
    /// always had).
    fn part_chars(&self) -> usize {
        let limit = self.keychain.entry_limit().min(ENTRY_LIMIT_UTF16_BYTES);
        (limit / 2).max(4) / 4 * 4
    }

    fn read_manifest(&self, account: AccountId) -> Result<Option<Manifest>, VaultError> {
        match self.find_manifest(account)? {
            Found::Nothing => Ok(None),
            Found::Manifest(m) => Ok(Some(m)),
            Found::Unusable { what, .. } => Err(VaultError::Damaged { account, what }),
        }
    }

    fn find_manifest(&self, account: AccountId) -> Result<Found, VaultError> {
        let text = self.keychain.read(&manifest_entry(account))?;
        Ok(Found::parse(text.as_deref()))
    }

    /// Erases what an unusable manifest may have owned: every generation it
    /// still names, and, where the keychain can list its entries, every
    /// other entry of the account but the manifest.
    fn erase_leftovers(&self, account: AccountId, listed: &[Parts]) -> Result<(), VaultError> {
        for parts in listed {
            self.erase_parts(account, *parts)?;
        }
        let keep = [manifest_entry(account), set_entry(account)];
        let prefix = format!("{account}/");
        for name in self.keychain.names()?.unwrap_or_default() {
            if name.starts_with(&prefix) && !keep.contains(&name) {
                self.keychain.erase(&name)?;
            }
        }
        Ok(())
    }

    fn write_manifest(&self, account: AccountId, manifest: &Manifest) -> Result<(), VaultError> {
        let text = serde_json::to_string(manifest).expect("manifest serializes");
        self.keychain.write(&manifest_entry(account), &text)?;
        Ok(())
    }

    fn erase_parts(&self, account: AccountId, parts: Parts) -> Result<(), VaultError> {
        for index in 0..parts.n {
            self.keychain.erase(&part_entry(account, parts.g, index))?;
        }
        Ok(())
    }
}

impl<K: Keychain> ChunkedVault<K> {
    /// One read of the set `manifest` points to.
    fn read_once(
        &self,
        account: AccountId,
        manifest: Option<Manifest>,
    ) -> Result<Option<TokenSet>, VaultError> {
        let Some(manifest) = manifest else {
            return Ok(None);
        };
        let Some(cur) = manifest.cur else {
            return Ok(None);
        };
        let damaged = |what| VaultError::Damaged { account, what };
        let mut encoded = String::new();
        for index in 0..cur.n {
            let part = self
                .keychain
                .read(&part_entry(account, cur.g, index))?
                .ok_or_else(|| damaged("a part is missing"))?;
            encoded.push_str(&part);
        }
        let payload = BASE64
            .decode(encoded.as_bytes())
            .map_err(|_| damaged("a part is not base64"))?;
        if payload.len() != cur.len || sha256_hex(&payload) != cur.sha {
            return Err(damaged("the parts do not match the manifest's checksum"));
        }
        codec::decode(&payload).map(Some).map_err(damaged)
    }

    fn put_exclusive(&self, account: AccountId, tokens: &TokenSet) -> Result<(), VaultError> {
        let old = match self.find_manifest(account)? {
            Found::Nothing => Manifest::default(),
            Found::Manifest(m) => m,
            Found::Unusable { what, listed } => {
                tracing::warn!(%account, what, "replacing a damaged keychain manifest");
                self.erase_leftovers(account, &listed)?;
                Manifest::default()
            }
        };
        // 1. Erase leftovers of earlier crashes.
        for junk in &old.junk {
            self.erase_parts(account, *junk)?;
        }
        let payload = codec::encode(tokens);
        let encoded = BASE64.encode(&payload);
        let chunks: Vec<&str> = encoded
            .as_bytes()
            .chunks(self.part_chars())
            .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
            .collect();
        let generation = old.next.max(1);
        let new_parts = Parts {
            g: generation,
            n: chunks.len(),
        };
        // 2. Declare the new generation as junk until it is complete.
        let mut manifest = Manifest {
            v: MANIFEST_VERSION,
            next: generation + 1,
            cur: old.cur.clone(),
            junk: vec![new_parts],
        };
        self.write_manifest(account, &manifest)?;
        // 3. The new parts.
        for (index, chunk) in chunks.iter().enumerate() {
            self.keychain
                .write(&part_entry(account, generation, index), chunk)?;
        }
        // 4. Flip.
        manifest.cur = Some(Current {
            g: generation,
            n: chunks.len(),
            len: payload.len(),
            sha: sha256_hex(&payload),
        });
        manifest.junk = old.cur.iter().map(Current::parts).collect();
        self.write_manifest(account, &manifest)?;
        // 5. Erase the old generation, 6. and record that it is gone.
        if let Some(previous) = old.cur {
            self.erase_parts(account, previous.parts())?;
            manifest.junk.clear();
            self.write_manifest(account, &manifest)?;
        }
        Ok(())
    }

    fn delete_exclusive(&self, account: AccountId) -> Result<(), VaultError> {
        let old = match self.find_manifest(account)? {
            Found::Manifest(m) => m,
            Found::Nothing => return Ok(()),
            Found::Unusable { listed, .. } => {
                self.erase_leftovers(account, &listed)?;
                self.keychain.erase(&manifest_entry(account))?;
                return Ok(());
            }
        };
        // A tombstone first: from here on nothing is readable, and every
        // remaining part is listed for erasure.
        let mut junk = old.junk.clone();
        junk.extend(old.cur.iter().map(Current::parts));
        let tombstone = Manifest {
            v: MANIFEST_VERSION,
            next: old.next,
            cur: None,
            junk: junk.clone(),
        };
        if old.cur.is_some() {
            self.write_manifest(account, &tombstone)?;
        }
        for parts in junk {
            self.erase_parts(account, parts)?;
        }
        self.keychain.erase(&manifest_entry(account))?;
        Ok(())
    }
}

impl<K: Keychain> ChunkedVault<K> {
    /// The set stored as one entry, if there is one.
    fn read_set(&self, account: AccountId) -> Result<Option<TokenSet>, VaultError> {
        let Some(text) = self.keychain.read(&set_entry(account))? else {
            return Ok(None);
        };
        let damaged = |what| VaultError::Damaged { account, what };
        let payload = BASE64
            .decode(text.as_bytes())
            .map_err(|_| damaged("the token set entry is not base64"))?;
        codec::decode(&payload).map(Some).map_err(damaged)
    }

    /// Stores the set as one entry (the keychain replaces it atomically),
    /// then removes a set stored in parts by an earlier version.
    fn put_set(&self, account: AccountId, tokens: &TokenSet) -> Result<(), VaultError> {
        let encoded = BASE64.encode(codec::encode(tokens));
        self.keychain.write(&set_entry(account), &encoded)?;
        if let Err(err) = self.delete_exclusive(account) {
            // The new set is whole and read first; the old parts go with the
            // next write.
            tracing::warn!(%account, %err, "could not remove a set stored in parts");
        }
        Ok(())
    }
}

impl<K: Keychain> Vault for ChunkedVault<K> {
    fn get(&self, account: AccountId) -> Result<Option<TokenSet>, VaultError> {
        if self.one_entry() {
            // The common case in one call: the set is there and readable.
            // Anything else goes through the availability check first, so a
            // locked or missing keychain is told apart from "nothing stored".
            match self.read_set(account) {
                Ok(Some(set)) => return Ok(Some(set)),
                Ok(None) => {}
                Err(err) => {
                    self.keychain.check()?;
                    return Err(err);
                }
            }
        }
        self.keychain.check()?;
        let mut manifest = self.read_manifest(account)?;
        let mut attempt = 1;
        loop {
            match self.read_once(account, manifest.clone()) {
                Err(VaultError::Damaged { .. }) if attempt < READ_ATTEMPTS => {
                    // A writer in another process may have moved on under us.
                    let again = self.read_manifest(account)?;
                    if again == manifest {
                        return self.read_once(account, again);
                    }
                    manifest = again;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn put(&self, account: AccountId, tokens: &TokenSet) -> Result<(), VaultError> {
        self.keychain.check()?;
        if self.one_entry() {
            return self.exclusive(account, || self.put_set(account, tokens));
        }
        self.exclusive(account, || self.put_exclusive(account, tokens))
    }

    fn delete(&self, account: AccountId) -> Result<(), VaultError> {
        self.keychain.check()?;
        self.exclusive(account, || {
            if self.one_entry() {
                self.keychain.erase(&set_entry(account))?;
            }
            self.delete_exclusive(account)
        })
    }
}

/// Takes the cross-process writer lock of `account` (released on drop).
fn lock_file(dir: &Path, account: AccountId) -> Result<File, VaultError> {
    let path = dir.join(format!("{account}.lock"));
    let fail = |source| VaultError::Lock {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(fail)?;
    file.lock().map_err(fail)?;
    Ok(file)
}

fn set_entry(account: AccountId) -> String {
    format!("{account}/set")
}

fn manifest_entry(account: AccountId) -> String {
    format!("{account}/manifest")
}

fn part_entry(account: AccountId, generation: u64, index: usize) -> String {
    format!("{account}/g{generation}/{index}")
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
