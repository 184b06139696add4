//! The one token write path ([`Grants`]) on a real database and lock files:
//! a refresh that lost a race to a sign-in or a removal writes nothing, a new
//! grant always wins, the write lock is really taken, and a keychain refusal
//! leaves the database untouched.

use std::time::{Duration, Instant};

use reconnect_core::health::HealthState;
use reconnect_core::secret::RefreshToken;
use reconnect_core::tokens::TokenSet;
use reconnect_store::events::{EventKind, Outcome};
use reconnect_store::lock;
use reconnect_store::{
    Account, Basis, EventQuery, GrantError, Grants, Home, MemoryKeychain, MemoryVault, NewAccount,
    NewEvent, Store, TokenFacts, TokenWrite, Vault, Written,
};

struct Rig {
    _dir: tempfile::TempDir,
    home: Home,
    store: Store,
    keychain: MemoryKeychain,
    vault: MemoryVault,
    account: Account,
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path()).unwrap();
    let store = Store::open(&home).unwrap();
    let keychain = MemoryKeychain::new();
    let vault = MemoryVault::new(keychain.clone());
    let account = store
        .add_account(&NewAccount::microsoft("work", "cid"))
        .unwrap();
    Rig {
        _dir: dir,
        home,
        store,
        keychain,
        vault,
        account,
    }
}

fn set(refresh: &str) -> TokenSet {
    TokenSet {
        access_token: None,
        access_expires_at: None,
        refresh_token: Some(RefreshToken::new(refresh.to_owned())),
        id_token: None,
        scope: "openid".into(),
    }
}

impl Rig {
    fn grants(&self) -> Grants<'_> {
        Grants::new(&self.home, &self.store, &self.vault)
    }

    fn write(&self, refresh: &str, basis: Basis) -> Result<Written, GrantError> {
        let tokens = set(refresh);
        let write = TokenWrite {
            account: &self.account,
            tokens: &tokens,
            facts: TokenFacts::default(),
            basis,
            after_vault: None,
        };
        self.grants().write(write, |tx| {
            tx.set_health(self.account.id, HealthState::Healthy, None)?;
            let event = NewEvent::new(1, Some(&self.account), EventKind::Refresh, Outcome::Ok);
            tx.append_event(&event).map(|_| ())
        })
    }

    fn stored_refresh(&self) -> Option<String> {
        let tokens = self.vault.get(self.account.id).unwrap()?;
        tokens.refresh_token.map(|t| t.expose().to_owned())
    }

    fn seq(&self) -> i64 {
        self.store
            .token_facts(self.account.id)
            .unwrap()
            .unwrap()
            .write_seq
    }
}

#[test]
fn a_refresh_that_redeemed_the_stored_set_replaces_it() {
    let rig = rig();
    let Written::Saved { write_seq } = rig.write("signed-in", Basis::NewGrant).unwrap() else {
        panic!("a new grant is saved");
    };
    assert_eq!(rig.seq(), write_seq);
    let again = rig.write("rotated", Basis::Redeemed { write_seq }).unwrap();
    assert!(matches!(again, Written::Saved { write_seq: next } if next > write_seq));
    assert_eq!(rig.stored_refresh().as_deref(), Some("rotated"));
}

#[test]
fn a_refresh_from_an_older_chain_never_overwrites_a_reconnect() {
    let rig = rig();
    let Written::Saved { write_seq: old } = rig.write("old-chain", Basis::NewGrant).unwrap() else {
        panic!("saved");
    };
    // The user reconnects while a refresh of the old chain is in flight.
    rig.write("reconnected", Basis::NewGrant).unwrap();
    let late = rig.write("old-chain-rotated", Basis::Redeemed { write_seq: old });
    assert_eq!(late.unwrap(), Written::Superseded);
    assert_eq!(rig.stored_refresh().as_deref(), Some("reconnected"));
}

#[test]
fn a_refresh_after_a_disconnect_and_new_sign_in_is_refused() {
    let rig = rig();
    let Written::Saved { write_seq: old } = rig.write("first", Basis::NewGrant).unwrap() else {
        panic!("saved");
    };
    rig.grants().forget(&rig.account).unwrap();
    assert_eq!(
        rig.write("late", Basis::Redeemed { write_seq: old })
            .unwrap(),
        Written::Superseded,
        "nothing stored any more"
    );
    rig.write("second", Basis::NewGrant).unwrap();
    assert_eq!(
        rig.write("late", Basis::Redeemed { write_seq: old })
            .unwrap(),
        Written::Superseded,
        "the new chain has a new number even though the facts were deleted in between"
    );
    assert_eq!(rig.stored_refresh().as_deref(), Some("second"));
}

#[test]
fn a_refresh_of_a_removed_account_writes_nothing() {
    let rig = rig();
    let Written::Saved { write_seq } = rig.write("first", Basis::NewGrant).unwrap() else {
        panic!("saved");
    };
    rig.grants().remove(&rig.account, |_| Ok(())).unwrap();
    assert!(
        rig.keychain.entries().is_empty(),
        "removal empties the keychain"
    );
    let late = rig.write("late", Basis::Redeemed { write_seq }).unwrap();
    assert_eq!(late, Written::Removed);
    assert!(
        rig.keychain.entries().is_empty(),
        "{:?}",
        rig.keychain.entry_names()
    );
}

#[test]
fn a_keychain_refusal_changes_nothing_in_the_database() {
    let rig = rig();
    let Written::Saved { write_seq } = rig.write("first", Basis::NewGrant).unwrap() else {
        panic!("saved");
    };
    let events_before = rig.store.events(&EventQuery::default()).unwrap().len();
    rig.keychain.set_locked(true);
    let err = rig
        .write("rotated", Basis::Redeemed { write_seq })
        .unwrap_err();
    assert!(matches!(err, GrantError::Vault(_)), "{err}");
    assert_eq!(rig.seq(), write_seq);
    let events_after = rig.store.events(&EventQuery::default()).unwrap().len();
    assert_eq!(events_after, events_before);
    rig.keychain.set_locked(false);
    assert_eq!(rig.stored_refresh().as_deref(), Some("first"));
}

#[test]
fn a_write_waits_for_the_account_write_lock() {
    let rig = rig();
    let path = lock::write_lock_path(rig.home.dir(), &rig.account.name);
    let held = lock::acquire(&path, Duration::from_secs(1)).unwrap();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(held);
    });
    let started = Instant::now();
    rig.write("after-the-lock", Basis::NewGrant).unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "the write went ahead while the lock was held"
    );
    releaser.join().unwrap();
}
