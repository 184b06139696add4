//! The order of writes across vault and database: tokens reach the keychain
//! before the metadata that says they exist, and leave it before the account
//! row goes.

use reconnect_core::secret::RefreshToken;
use reconnect_store::events::{EventKind, Outcome};
use reconnect_store::{
    ChunkedVault, EventQuery, Fault, GrantError, Home, MemoryKeychain, NewAccount, NewEvent,
    Profile, StoreError, TokenFacts, Vault, Written,
};

fn profile() -> (tempfile::TempDir, MemoryKeychain, Profile) {
    let dir = tempfile::tempdir().unwrap();
    let keychain = MemoryKeychain::new();
    let vault = ChunkedVault::new(keychain.clone());
    let profile = Profile::with_vault(Home::at(dir.path()).unwrap(), Box::new(vault)).unwrap();
    profile
        .store()
        .add_account(&NewAccount::microsoft("work", "cid"))
        .unwrap();
    (dir, keychain, profile)
}

#[test]
fn a_failed_keychain_write_records_no_token_facts_and_no_event() {
    let (_dir, keychain, profile) = profile();
    keychain.inject(Fault::FailAt(0));
    let err = profile
        .import_refresh_token("work", RefreshToken::new("0.AAA-refresh-token-abc"))
        .unwrap_err();
    assert!(err.keychain().is_some(), "{err}");
    let account = profile.store().account("work").unwrap();
    assert_eq!(profile.store().token_facts(account.id).unwrap(), None);
    assert!(
        profile
            .store()
            .events(&EventQuery::default())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_locked_keychain_fails_closed_and_nothing_is_written_anywhere() {
    let (dir, keychain, profile) = profile();
    keychain.set_locked(true);
    let secret = "0.AAA-refresh-token-locked-xyz";
    let err = profile
        .import_refresh_token("work", RefreshToken::new(secret))
        .unwrap_err();
    assert_eq!(err.keychain().map(|k| k.kind()), Some("locked"));
    assert!(keychain.entries().is_empty());
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
        }
    }
}

#[test]
fn saving_records_facts_and_the_event_together_after_the_vault() {
    let (_dir, keychain, profile) = profile();
    let account = profile.store().account("work").unwrap();
    let set = reconnect_core::tokens::TokenSet {
        access_token: None,
        access_expires_at: Some(5_000),
        refresh_token: Some(RefreshToken::new("0.AAA-r")),
        id_token: None,
        scope: "openid".into(),
    };
    let facts = TokenFacts {
        access_expires_at: Some(5_000),
        rotation_count: 1,
        ..TokenFacts::default()
    };
    let event = NewEvent::new(4_000, Some(&account), EventKind::Refresh, Outcome::Ok);
    profile.save_grant(&account, &set, facts, &event).unwrap();
    assert!(!keychain.entries().is_empty());
    assert_eq!(
        profile
            .store()
            .token_facts(account.id)
            .unwrap()
            .unwrap()
            .rotation_count,
        1
    );
    assert_eq!(
        profile
            .store()
            .events(&EventQuery::default())
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn saving_for_a_removed_account_leaves_no_tokens() {
    let (_dir, keychain, profile) = profile();
    let account = profile.store().account("work").unwrap();
    profile.remove_account("work").unwrap();
    let err = profile
        .import_refresh_token("work", RefreshToken::new("0.AAA-r"))
        .unwrap_err();
    assert!(
        matches!(err, GrantError::Store(StoreError::UnknownAccount(_))),
        "{err}"
    );
    let event = NewEvent::new(1, None, EventKind::Import, Outcome::Ok);
    let written = profile
        .save_grant(
            &account,
            &reconnect_core::tokens::TokenSet {
                access_token: None,
                access_expires_at: None,
                refresh_token: Some(RefreshToken::new("0.AAA-r")),
                id_token: None,
                scope: String::new(),
            },
            TokenFacts::default(),
            &event,
        )
        .unwrap();
    assert_eq!(written, Written::Removed);
    assert!(keychain.entries().is_empty());
}

#[test]
fn removal_keeps_the_account_when_the_keychain_is_unavailable() {
    let (_dir, keychain, profile) = profile();
    profile
        .import_refresh_token("work", RefreshToken::new("0.AAA-r"))
        .unwrap();
    keychain.set_locked(true);
    let err = profile.remove_account("work").unwrap_err();
    assert_eq!(err.keychain().map(|k| k.kind()), Some("locked"));
    assert!(profile.store().find_account("work").unwrap().is_some());
    keychain.set_locked(false);
    let account = profile.remove_account("work").unwrap();
    assert!(keychain.entries().is_empty());
    assert_eq!(ChunkedVault::new(keychain).get(account.id).unwrap(), None);
    let events = profile.store().events(&EventQuery::default()).unwrap();
    assert_eq!(events[0].event.kind, EventKind::Remove);
    assert_eq!(events[0].event.account_name.as_deref(), Some("work"));
}
