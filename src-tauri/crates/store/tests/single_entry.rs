//! Token sets as one keychain entry, where the keychain has no size limit
//! (the Secret Service): one entry per set, sets stored in parts by earlier
//! versions read and replaced on the next write, and a crash at any write of
//! that upgrade leaves the old or the new set whole.

use reconnect_core::secret::{AccessToken, RefreshToken};
use reconnect_core::tokens::TokenSet;
use reconnect_store::{AccountId, ChunkedVault, Fault, MemoryKeychain, Vault};

const ACCOUNT: AccountId = AccountId(7);

fn token_set(seed: &str, bytes: usize) -> TokenSet {
    let unit = format!("{seed}-");
    let fill = unit.repeat(bytes / 2 / unit.len() + 1);
    TokenSet {
        access_token: Some(AccessToken::new(fill[..bytes / 2].to_owned())),
        access_expires_at: Some(1_900_000_000),
        refresh_token: Some(RefreshToken::new(fill[..bytes / 2].to_owned())),
        id_token: None,
        scope: format!("openid {seed}"),
    }
}

/// A keychain as the Secret Service: no entry limit.
fn unlimited() -> (MemoryKeychain, ChunkedVault<MemoryKeychain>) {
    let keychain = MemoryKeychain::unlimited();
    (keychain.clone(), ChunkedVault::new(keychain))
}

#[test]
fn a_set_of_any_size_is_one_entry() {
    let (keychain, vault) = unlimited();
    let big = token_set("big", 64 * 1024);
    vault.put(ACCOUNT, &big).unwrap();
    assert_eq!(keychain.entry_names(), ["7/set"]);
    assert_eq!(vault.get(ACCOUNT).unwrap(), Some(big));
    keychain.restart();
    vault.put(ACCOUNT, &token_set("next", 3_000)).unwrap();
    assert_eq!(keychain.writes(), 1, "a replacement is one write");
    vault.delete(ACCOUNT).unwrap();
    assert!(keychain.entry_names().is_empty());
    assert_eq!(vault.get(ACCOUNT).unwrap(), None);
}

#[test]
fn the_entry_holds_base64_not_the_token_text() {
    let (keychain, vault) = unlimited();
    vault.put(ACCOUNT, &token_set("plain-secret", 600)).unwrap();
    let stored = &keychain.entries()["7/set"];
    assert!(!stored.contains("plain-secret"), "{stored}");
}

#[test]
fn a_set_stored_in_parts_by_an_earlier_version_is_read_then_replaced() {
    let keychain = MemoryKeychain::unlimited();
    let old = token_set("old", 9_000);
    ChunkedVault::new(keychain.clone())
        .in_parts()
        .put(ACCOUNT, &old)
        .unwrap();
    assert!(
        keychain.entry_names().len() > 2,
        "the old format: a manifest and parts"
    );

    let vault = ChunkedVault::new(keychain.clone());
    assert_eq!(vault.get(ACCOUNT).unwrap(), Some(old), "read as before");
    let new = token_set("new", 9_000);
    vault.put(ACCOUNT, &new).unwrap();
    assert_eq!(keychain.entry_names(), ["7/set"], "the parts are gone");
    assert_eq!(vault.get(ACCOUNT).unwrap(), Some(new));
}

/// Writes (and erases) the upgrade from parts to one entry takes.
fn upgrade_writes(old: &TokenSet, new: &TokenSet) -> usize {
    let keychain = MemoryKeychain::unlimited();
    ChunkedVault::new(keychain.clone())
        .in_parts()
        .put(ACCOUNT, old)
        .unwrap();
    keychain.restart();
    ChunkedVault::new(keychain.clone())
        .put(ACCOUNT, new)
        .unwrap();
    keychain.writes()
}

#[test]
fn a_crash_at_any_write_of_the_upgrade_leaves_a_whole_set() {
    let old = token_set("old", 9_000);
    let new = token_set("new", 7_000);
    let total = upgrade_writes(&old, &new);
    assert!(
        total > 3,
        "the upgrade writes the entry, then erases the parts ({total})"
    );
    let (mut saw_old, mut saw_new) = (false, false);
    for crash_at in 0..total {
        let keychain = MemoryKeychain::unlimited();
        ChunkedVault::new(keychain.clone())
            .in_parts()
            .put(ACCOUNT, &old)
            .unwrap();
        keychain.inject(Fault::CrashAt(crash_at));
        let vault = ChunkedVault::new(keychain.clone());
        // The write itself may report success: once the entry is written the
        // set is saved, and old parts left behind go with the next write.
        let _ = vault.put(ACCOUNT, &new);
        keychain.restart();
        let got = ChunkedVault::new(keychain.clone())
            .get(ACCOUNT)
            .unwrap_or_else(|e| panic!("crash at write {crash_at}: unreadable: {e}"))
            .unwrap_or_else(|| panic!("crash at write {crash_at}: nothing stored"));
        if got == old {
            saw_old = true;
        } else if got == new {
            saw_new = true;
        } else {
            panic!("crash at write {crash_at}: a mix");
        }
        let third = token_set("third", 500);
        vault.put(ACCOUNT, &third).unwrap();
        assert_eq!(
            keychain.entry_names(),
            ["7/set"],
            "crash at {crash_at}: cleaned up"
        );
        assert_eq!(vault.get(ACCOUNT).unwrap(), Some(third));
    }
    assert!(
        saw_old && saw_new,
        "an early crash keeps old, a later one new"
    );
}

#[test]
fn a_damaged_entry_is_reported_not_returned() {
    let (keychain, vault) = unlimited();
    vault.put(ACCOUNT, &token_set("x", 500)).unwrap();
    reconnect_store::Keychain::write(&keychain, "7/set", "not base64 at all!").unwrap();
    let err = vault.get(ACCOUNT).unwrap_err();
    assert!(err.to_string().contains("damaged"), "{err}");
    // A new write replaces it.
    vault.put(ACCOUNT, &token_set("y", 500)).unwrap();
    assert!(vault.get(ACCOUNT).unwrap().is_some());
}
