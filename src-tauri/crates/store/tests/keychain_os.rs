//! The vault against the real OS keychain (on Linux: the Secret Service).
//! Run inside `scripts/with-session.sh` (a private D-Bus session with an
//! unlocked gnome-keyring); outside one these tests fail with the keychain's
//! own fail-closed message.

use reconnect_core::secret::{AccessToken, IdToken, RefreshToken};
use reconnect_core::tokens::TokenSet;
use reconnect_store::{
    AccountId, Home, Keychain, KeychainVault, NewAccount, NewEvent, OsKeychain, Profile,
    TokenFacts, Vault,
};

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
        scope: "openid offline_access".into(),
    }
}

/// How many Secret Service items carry this service name.
#[cfg(target_os = "linux")]
fn items_for(service: &str) -> usize {
    use dbus_secret_service::{EncryptionType, SecretService};
    let ss = SecretService::connect(EncryptionType::Plain).expect("secret service");
    let found = ss
        .search_items(std::collections::HashMap::from([("service", service)]))
        .expect("search");
    found.locked.len() + found.unlocked.len()
}

fn vault_in(dir: &tempfile::TempDir) -> (Home, KeychainVault) {
    let home = Home::at(dir.path()).unwrap();
    let vault = KeychainVault::for_home(&home);
    (home, vault)
}

#[test]
fn a_64_kib_token_set_round_trips_through_the_real_keychain() {
    let dir = tempfile::tempdir().unwrap();
    let (home, vault) = vault_in(&dir);
    vault
        .keychain()
        .check()
        .expect("run me via scripts/with-session.sh");
    let big = token_set("big", 64 * 1024);
    vault.put(AccountId(1), &big).unwrap();
    assert_eq!(vault.get(AccountId(1)).unwrap(), Some(big));
    let small = token_set("small", 4_000);
    vault.put(AccountId(1), &small).unwrap();
    assert_eq!(vault.get(AccountId(1)).unwrap(), Some(small));
    // The Secret Service holds a set of any size as one item.
    #[cfg(target_os = "linux")]
    assert_eq!(items_for(&home.keychain_service()), 1, "one item per set");
    vault.delete(AccountId(1)).unwrap();
    assert_eq!(vault.get(AccountId(1)).unwrap(), None);
    #[cfg(target_os = "linux")]
    assert_eq!(items_for(&home.keychain_service()), 0);
}

#[test]
fn profiles_in_different_directories_never_share_entries() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let (_, vault_a) = vault_in(&a);
    let (_, vault_b) = vault_in(&b);
    vault_a.put(AccountId(1), &token_set("a", 3_000)).unwrap();
    assert_eq!(vault_b.get(AccountId(1)).unwrap(), None);
    vault_b.put(AccountId(1), &token_set("b", 3_000)).unwrap();
    assert_eq!(
        vault_a.get(AccountId(1)).unwrap(),
        Some(token_set("a", 3_000))
    );
    vault_a.delete(AccountId(1)).unwrap();
    assert_eq!(
        vault_b.get(AccountId(1)).unwrap(),
        Some(token_set("b", 3_000))
    );
    vault_b.delete(AccountId(1)).unwrap();
}

#[test]
fn entries_are_plain_keychain_items_readable_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (home, vault) = vault_in(&dir);
    vault.put(AccountId(9), &token_set("m", 100)).unwrap();
    let raw = OsKeychain::new(home.keychain_service());
    let set = raw.read("9/set").unwrap().expect("the set's entry");
    assert!(
        !set.contains("rt-m"),
        "the entry holds base64, not token text"
    );
    assert_eq!(raw.read("9/nothing").unwrap(), None);
    vault.delete(AccountId(9)).unwrap();
}

#[test]
fn profile_saves_then_removes_keychain_entries_with_the_account() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path()).unwrap();
    let profile = Profile::open_at(home.clone()).unwrap();
    let account = profile
        .store()
        .add_account(&NewAccount::microsoft("work", "cid"))
        .unwrap();
    let set = token_set("p", 6_000);
    let event = NewEvent::new(
        1,
        Some(&account),
        reconnect_store::EventKind::Import,
        reconnect_store::Outcome::Ok,
    );
    profile
        .save_grant(&account, &set, TokenFacts::default(), &event)
        .unwrap();
    assert!(profile.store().token_facts(account.id).unwrap().is_some());
    assert_eq!(profile.load_tokens(account.id).unwrap(), Some(set));

    profile.remove_account("work").unwrap();
    assert!(profile.store().find_account("work").unwrap().is_none());
    assert_eq!(profile.vault().get(account.id).unwrap(), None);
    #[cfg(target_os = "linux")]
    assert_eq!(items_for(&home.keychain_service()), 0);
}

#[test]
fn import_stores_the_refresh_token_only_in_the_keychain() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path()).unwrap();
    let profile = Profile::open_at(home.clone()).unwrap();
    profile
        .store()
        .add_account(&NewAccount::microsoft("work", "cid"))
        .unwrap();
    let secret = "0.AXEA-imported-refresh-token-3f9a2c";
    let account = profile
        .import_refresh_token("work", RefreshToken::new(secret))
        .unwrap();
    let stored = profile.load_tokens(account.id).unwrap().unwrap();
    assert_eq!(stored.refresh_token.unwrap().expose(), secret);
    assert_eq!(stored.scope, account.scope_string());
    drop(profile);
    let mut pending = vec![home.dir().to_path_buf()];
    let mut files = 0;
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        files += 1;
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the token reached {}",
            path.display()
        );
    }
    assert!(files >= 2, "the database and the lock file were scanned");
    Profile::open_at(home)
        .unwrap()
        .remove_account("work")
        .unwrap();
}

/// Entries written through the `keyring` crate (every version before the
/// direct Secret Service link) are read, and replaced in place on the next
/// write: an upgrade loses nothing and leaves no duplicate behind.
#[cfg(target_os = "linux")]
#[test]
fn entries_written_by_earlier_versions_are_read_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path()).unwrap();
    let service = home.keychain_service();
    let old = keyring::Entry::new(&service, "m-7").unwrap();
    old.set_password("written the old way").unwrap();
    let keychain = OsKeychain::new(&service);
    assert_eq!(
        keychain.read("m-7").unwrap().as_deref(),
        Some("written the old way")
    );
    keychain.write("m-7", "written the new way").unwrap();
    assert_eq!(items_for(&service), 1, "replaced, not duplicated");
    assert_eq!(old.get_password().unwrap(), "written the new way");
    keychain.erase("m-7").unwrap();
    assert_eq!(keychain.read("m-7").unwrap(), None);
    assert_eq!(items_for(&service), 0);
}

/// The real keychain lists a profile's entries, so a damaged manifest's
/// parts are found and erased when the set is replaced.
#[cfg(target_os = "linux")]
#[test]
fn a_damaged_manifest_in_the_real_keychain_leaves_no_parts_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (home, vault) = vault_in(&dir);
    let earlier = KeychainVault::for_home(&home).in_parts();
    earlier.put(AccountId(3), &token_set("old", 9_000)).unwrap();
    let parts_and_manifest = items_for(&home.keychain_service());
    assert!(parts_and_manifest > 2, "a set in several parts");
    vault.keychain().write("3/manifest", "}{ damaged").unwrap();
    vault.put(AccountId(3), &token_set("new", 100)).unwrap();
    assert_eq!(
        items_for(&home.keychain_service()),
        1,
        "only the new set's one item"
    );
    vault.delete(AccountId(3)).unwrap();
    assert_eq!(items_for(&home.keychain_service()), 0);
}

/// Sets stored in parts by the previous version (a manifest and parts of at
/// most 2,560 bytes) read back, and the next write leaves one item.
#[cfg(target_os = "linux")]
#[test]
fn sets_stored_in_parts_by_the_previous_version_become_one_item() {
    let dir = tempfile::tempdir().unwrap();
    let (home, vault) = vault_in(&dir);
    let old = token_set("old", 12_000);
    KeychainVault::for_home(&home)
        .in_parts()
        .put(AccountId(5), &old)
        .unwrap();
    assert!(items_for(&home.keychain_service()) > 3, "the old format");
    assert_eq!(vault.get(AccountId(5)).unwrap(), Some(old));
    let new = token_set("new", 12_000);
    vault.put(AccountId(5), &new).unwrap();
    assert_eq!(items_for(&home.keychain_service()), 1, "one item now");
    assert_eq!(vault.get(AccountId(5)).unwrap(), Some(new));
    vault.delete(AccountId(5)).unwrap();
    assert_eq!(items_for(&home.keychain_service()), 0);
}
