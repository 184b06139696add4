//! The chunked vault over the size-limited, fault-injecting test keychain:
//! large sets fit, every write order crash leaves a complete set, orphans go.

use reconnect_core::secret::{AccessToken, IdToken, RefreshToken};
use reconnect_core::tokens::TokenSet;
use reconnect_store::vault::utf16_bytes;
use reconnect_store::{
    AccountId, ChunkedVault, Fault, Keychain, MemoryKeychain, MemoryVault, Vault, VaultError,
};

const ACCOUNT: AccountId = AccountId(7);

/// A token set of roughly `bytes` bytes whose content depends on `seed`.
fn token_set(seed: &str, bytes: usize) -> TokenSet {
    let third = bytes / 3;
    let fill = |tag: &str| {
        let unit = format!("{tag}-{seed}-");
        unit.repeat(third / unit.len() + 1)[..third].to_owned()
    };
    TokenSet {
        access_token: Some(AccessToken::new(fill("at"))),
        access_expires_at: Some(1_900_000_000),
        refresh_token: Some(RefreshToken::new(fill("rt"))),
        id_token: Some(IdToken::new(fill("id"))),
        scope: format!("openid offline_access {seed}"),
    }
}

fn entries_of(keychain: &MemoryKeychain) -> Vec<String> {
    keychain.entry_names()
}

/// Exactly the manifest and the current generation's parts remain.
fn assert_no_orphans(keychain: &MemoryKeychain) {
    let names = entries_of(keychain);
    let manifest: serde_json::Value =
        serde_json::from_str(&keychain.entries()[&format!("{ACCOUNT}/manifest")]).unwrap();
    let g = manifest["cur"]["g"].as_u64().unwrap();
    let n = manifest["cur"]["n"].as_u64().unwrap();
    let mut expected: Vec<String> = (0..n).map(|i| format!("{ACCOUNT}/g{g}/{i}")).collect();
    expected.push(format!("{ACCOUNT}/manifest"));
    expected.sort();
    assert_eq!(
        names, expected,
        "only the manifest and current parts remain"
    );
}

#[test]
fn sixty_four_kib_set_round_trips_within_the_entry_limit() {
    let vault = MemoryVault::in_memory();
    let big = token_set("big", 64 * 1024);
    vault.put(ACCOUNT, &big).unwrap();
    assert_eq!(vault.get(ACCOUNT).unwrap(), Some(big));
    let entries = vault.keychain().entries();
    assert!(
        entries.len() > 30,
        "a 64 KiB set is split: {}",
        entries.len()
    );
    for (name, value) in &entries {
        assert!(
            utf16_bytes(value) <= 2_560,
            "{name} is {} bytes",
            utf16_bytes(value)
        );
    }
}

#[test]
fn the_test_keychain_rejects_oversized_entries() {
    let keychain = MemoryKeychain::new();
    let err = keychain.write("x", &"a".repeat(1_281)).unwrap_err();
    assert_eq!(err.kind(), "too_large");
    keychain.write("x", &"a".repeat(1_280)).unwrap();
    // Non-ASCII counts in UTF-16 units, like Windows.
    assert!(keychain.write("y", &"é".repeat(1_281)).is_err());
}

#[test]
fn parts_hold_base64_not_the_raw_token_text() {
    let vault = MemoryVault::in_memory();
    let set = token_set("visible", 9_000);
    vault.put(ACCOUNT, &set).unwrap();
    for value in vault.keychain().entries().values() {
        assert!(
            !value.contains("rt-visible"),
            "parts are base64, not raw text"
        );
    }
}

#[test]
fn missing_account_reads_none_and_delete_is_idempotent() {
    let vault = MemoryVault::in_memory();
    assert_eq!(vault.get(ACCOUNT).unwrap(), None);
    vault.delete(ACCOUNT).unwrap();
    vault.put(ACCOUNT, &token_set("a", 3_000)).unwrap();
    vault.delete(ACCOUNT).unwrap();
    assert_eq!(vault.get(ACCOUNT).unwrap(), None);
    assert!(
        entries_of(vault.keychain()).is_empty(),
        "delete leaves nothing"
    );
    vault.delete(ACCOUNT).unwrap();
}

#[test]
fn accounts_do_not_see_each_other() {
    let vault = MemoryVault::in_memory();
    let a = token_set("a", 5_000);
    let b = token_set("b", 70_000);
    vault.put(AccountId(1), &a).unwrap();
    vault.put(AccountId(2), &b).unwrap();
    vault.delete(AccountId(1)).unwrap();
    assert_eq!(vault.get(AccountId(1)).unwrap(), None);
    assert_eq!(vault.get(AccountId(2)).unwrap(), Some(b));
}

#[test]
fn replacing_leaves_no_orphans() {
    let vault = MemoryVault::in_memory();
    vault.put(ACCOUNT, &token_set("one", 70_000)).unwrap();
    vault.put(ACCOUNT, &token_set("two", 4_000)).unwrap();
    vault.put(ACCOUNT, &token_set("three", 20_000)).unwrap();
    assert_eq!(
        vault.get(ACCOUNT).unwrap(),
        Some(token_set("three", 20_000))
    );
    assert_no_orphans(vault.keychain());
}

/// Counts the writes a put of `new` over `old` takes.
fn writes_for(old: &TokenSet, new: &TokenSet) -> usize {
    let keychain = MemoryKeychain::new();
    let vault = ChunkedVault::new(keychain.clone());
    vault.put(ACCOUNT, old).unwrap();
    keychain.restart();
    vault.put(ACCOUNT, new).unwrap();
    keychain.writes()
}

/// Crashes the replacement of `old` by `new` at every write index; after a
/// "restart" the vault must hold exactly `old` or exactly `new`, and the next
/// put must succeed and leave no orphans.
fn crash_at_every_write(old: &TokenSet, new: &TokenSet) {
    let total = writes_for(old, new);
    assert!(total >= 4, "a replacement takes several writes ({total})");
    let mut saw_old = false;
    let mut saw_new = false;
    for crash_at in 0..total {
        let keychain = MemoryKeychain::new();
        let vault = ChunkedVault::new(keychain.clone());
        vault.put(ACCOUNT, old).unwrap();
        keychain.inject(Fault::CrashAt(crash_at));
        let err = vault.put(ACCOUNT, new).unwrap_err();
        assert!(matches!(err, VaultError::Keychain(_)), "{err}");
        // The dead process can't read either.
        assert!(vault.get(ACCOUNT).is_err());

        keychain.restart();
        let after_restart = ChunkedVault::new(keychain.clone());
        let got = after_restart
            .get(ACCOUNT)
            .unwrap_or_else(|e| panic!("crash at write {crash_at}: unreadable: {e}"))
            .unwrap_or_else(|| panic!("crash at write {crash_at}: nothing stored"));
        if &got == old {
            saw_old = true;
        } else if &got == new {
            saw_new = true;
        } else {
            panic!("crash at write {crash_at}: a mix of old and new");
        }

        let third = token_set("third", 12_345);
        after_restart.put(ACCOUNT, &third).unwrap();
        assert_eq!(after_restart.get(ACCOUNT).unwrap(), Some(third));
        assert_no_orphans(&keychain);
    }
    assert!(
        saw_old && saw_new,
        "early crashes keep old, late ones keep new"
    );
}

#[test]
fn crash_at_any_write_small_to_large() {
    crash_at_every_write(&token_set("old", 3_000), &token_set("new", 64 * 1024));
}

#[test]
fn crash_at_any_write_large_to_small() {
    crash_at_every_write(&token_set("old", 64 * 1024), &token_set("new", 3_000));
}

#[test]
fn crash_at_any_write_same_size() {
    crash_at_every_write(&token_set("old", 8_000), &token_set("new", 8_000));
}

#[test]
fn crash_at_any_write_of_the_first_set_leaves_nothing_or_the_set() {
    let first = token_set("first", 66_000);
    let keychain = MemoryKeychain::new();
    ChunkedVault::new(keychain.clone())
        .put(ACCOUNT, &first)
        .unwrap();
    let total = keychain.writes();
    for crash_at in 0..total {
        let keychain = MemoryKeychain::new();
        let vault = ChunkedVault::new(keychain.clone());
        keychain.inject(Fault::CrashAt(crash_at));
        vault.put(ACCOUNT, &first).unwrap_err();
        keychain.restart();
        match vault.get(ACCOUNT).unwrap() {
            None => {}
            Some(got) => assert_eq!(got, first, "crash at {crash_at}"),
        }
        vault.put(ACCOUNT, &token_set("again", 2_000)).unwrap();
        assert_no_orphans(&keychain);
    }
}

#[test]
fn crash_at_any_write_of_a_delete_leaves_the_set_or_nothing() {
    let set = token_set("doomed", 64 * 1024);
    let probe = MemoryKeychain::new();
    let vault = ChunkedVault::new(probe.clone());
    vault.put(ACCOUNT, &set).unwrap();
    probe.restart();
    vault.delete(ACCOUNT).unwrap();
    let total = probe.writes();
    for crash_at in 0..total {
        let keychain = MemoryKeychain::new();
        let vault = ChunkedVault::new(keychain.clone());
        vault.put(ACCOUNT, &set).unwrap();
        keychain.inject(Fault::CrashAt(crash_at));
        vault.delete(ACCOUNT).unwrap_err();
        keychain.restart();
        match vault.get(ACCOUNT).unwrap() {
            None => {}
            Some(got) => assert_eq!(got, set, "crash at {crash_at}"),
        }
        vault.delete(ACCOUNT).unwrap();
        assert!(
            entries_of(&keychain).is_empty(),
            "crash at {crash_at}: a retried delete removes everything"
        );
    }
}

#[test]
fn a_failed_write_keeps_the_old_set_and_the_vault_keeps_working() {
    let old = token_set("old", 10_000);
    let new = token_set("new", 10_000);
    let total = writes_for(&old, &new);
    for fail_at in 0..total {
        let keychain = MemoryKeychain::new();
        let vault = ChunkedVault::new(keychain.clone());
        vault.put(ACCOUNT, &old).unwrap();
        keychain.inject(Fault::FailAt(fail_at));
        let result = vault.put(ACCOUNT, &new);
        let got = vault.get(ACCOUNT).unwrap().unwrap();
        match result {
            Err(_) => assert!(got == old || got == new, "fail at {fail_at}"),
            Ok(()) => assert_eq!(got, new),
        }
        vault.put(ACCOUNT, &new).unwrap();
        assert_eq!(vault.get(ACCOUNT).unwrap(), Some(new.clone()));
        assert_no_orphans(&keychain);
    }
}

#[test]
fn a_damaged_part_is_reported_not_returned() {
    let keychain = MemoryKeychain::new();
    let vault = ChunkedVault::new(keychain.clone());
    vault.put(ACCOUNT, &token_set("x", 9_000)).unwrap();
    let victim = keychain
        .entry_names()
        .into_iter()
        .find(|n| n.ends_with("/1"))
        .unwrap();
    let mut value = keychain.entries()[&victim].clone();
    value.replace_range(0..4, "AAAA");
    keychain.write(&victim, &value).unwrap();
    let err = vault.get(ACCOUNT).unwrap_err();
    assert!(matches!(err, VaultError::Damaged { .. }), "{err}");
    assert!(err.to_string().contains("sign in again"), "{err}");
    assert!(!err.to_string().contains("rt-x"), "{err}");
    // Replacing a damaged set works.
    vault.put(ACCOUNT, &token_set("y", 100)).unwrap();
    assert_eq!(vault.get(ACCOUNT).unwrap(), Some(token_set("y", 100)));
}

#[test]
fn a_missing_part_is_reported() {
    let keychain = MemoryKeychain::new();
    let vault = ChunkedVault::new(keychain.clone());
    vault.put(ACCOUNT, &token_set("x", 9_000)).unwrap();
    let victim = keychain
        .entry_names()
        .into_iter()
        .find(|n| n.ends_with("/0"))
        .unwrap();
    keychain.erase(&victim).unwrap();
    let err = vault.get(ACCOUNT).unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn a_locked_test_keychain_fails_closed() {
    let vault = MemoryVault::in_memory();
    vault.keychain().set_locked(true);
    let err = vault.put(ACCOUNT, &token_set("x", 10)).unwrap_err();
    assert_eq!(err.keychain().map(|k| k.kind()), Some("locked"));
    assert!(vault.keychain().entries().is_empty());
}

/// Separate vault instances over one keychain stand in for separate
/// processes; the lock files keep their writes apart, and readers never see
/// a damaged or mixed set while writers replace it.
#[test]
fn concurrent_writers_in_several_processes_never_mix_sets() {
    let locks = tempfile::tempdir().unwrap();
    let keychain = MemoryKeychain::new();
    let sets: Vec<TokenSet> = (0..4)
        .map(|i| token_set(&format!("writer{i}"), 6_000 + i * 1_500))
        .collect();
    ChunkedVault::new(keychain.clone())
        .with_lock_dir(locks.path())
        .put(ACCOUNT, &sets[0])
        .unwrap();
    std::thread::scope(|scope| {
        for set in &sets {
            let vault = ChunkedVault::new(keychain.clone()).with_lock_dir(locks.path());
            scope.spawn(move || {
                for _ in 0..10 {
                    vault.put(ACCOUNT, set).unwrap();
                }
            });
        }
        for _ in 0..2 {
            let vault = ChunkedVault::new(keychain.clone()).with_lock_dir(locks.path());
            let sets = &sets;
            scope.spawn(move || {
                for _ in 0..40 {
                    let got = vault.get(ACCOUNT).unwrap().unwrap();
                    assert!(sets.contains(&got), "a reader saw a mixed set");
                }
            });
        }
    });
    let last = MemoryVault::new(keychain.clone())
        .get(ACCOUNT)
        .unwrap()
        .unwrap();
    assert!(sets.contains(&last));
    assert_no_orphans(&keychain);
    assert!(locks.path().join("7.lock").exists());
}

/// A manifest that cannot be used (written by a newer version, or damaged)
/// still owned parts: replacing or deleting the set erases them too, so no
/// token text is left behind in the keychain.
#[test]
fn an_unusable_manifest_leaves_none_of_its_parts_behind() {
    for damage in ["newer version", "garbage"] {
        let keychain = MemoryKeychain::new();
        let vault = ChunkedVault::new(keychain.clone());
        vault.put(ACCOUNT, &token_set("old", 9_000)).unwrap();
        let manifest = format!("{ACCOUNT}/manifest");
        let text = keychain.entries()[&manifest].clone();
        let damaged = match damage {
            "newer version" => text.replace("\"v\":1", "\"v\":9"),
            _ => "}{ not json".to_owned(),
        };
        keychain.write(&manifest, &damaged).unwrap();
        let err = vault.get(ACCOUNT).unwrap_err();
        assert!(matches!(err, VaultError::Damaged { .. }), "{damage}: {err}");

        vault.put(ACCOUNT, &token_set("new", 100)).unwrap();
        assert_no_orphans(&keychain);
        assert!(
            keychain.entries().values().all(|v| !v.contains("old")),
            "{damage}: no part of the old set is left"
        );
        assert_eq!(vault.get(ACCOUNT).unwrap(), Some(token_set("new", 100)));

        vault.put(ACCOUNT, &token_set("old", 9_000)).unwrap();
        keychain.write(&manifest, &damaged).unwrap();
        vault.delete(ACCOUNT).unwrap();
        assert!(
            entries_of(&keychain).is_empty(),
            "{damage}: delete left {:?}",
            entries_of(&keychain)
        );
    }
}
