//! The SQLite store on real files: accounts, token facts, health, events,
//! transactions, migrations and several connections at once.

use std::sync::Arc;

use reconnect_core::decode;
use reconnect_core::failure::FailureRecord;
use reconnect_core::health::HealthState;
use reconnect_core::tokens::TokenSet;
use reconnect_store::account::DEFAULT_MICROSOFT_SCOPES;
use reconnect_store::events::{EventKind, Outcome};
use reconnect_store::{
    Basis, EventQuery, Grants, Home, Identity, MemoryVault, NewAccount, NewEvent, Provider,
    Retention, Store, StoreError, TokenFacts, TokenWrite, Written,
};

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Home::at(dir.path()).unwrap()).unwrap();
    (dir, store)
}

#[test]
fn accounts_round_trip_with_defaults_and_identity() {
    let (_dir, store) = temp_store();
    let added = store
        .add_account(&NewAccount::microsoft("work", "cid-1"))
        .unwrap();
    assert_eq!(added.provider, Provider::Microsoft);
    assert_eq!(added.tenant.as_deref(), Some("organizations"));
    assert_eq!(added.scope_string(), DEFAULT_MICROSOFT_SCOPES);
    assert!(added.identity.is_empty());

    let identity = Identity {
        upn: Some("ada@contoso.com".into()),
        oid: Some("oid-1".into()),
        tid: Some("tid-1".into()),
        display_name: Some("Ada".into()),
        issuer: None,
        subject: None,
    };
    store.set_identity(added.id, &identity).unwrap();
    let oidc = NewAccount::oidc("idp", "http://127.0.0.1:9000/realm", "cid-2");
    store.add_account(&oidc).unwrap();

    let all = store.accounts().unwrap();
    assert_eq!(
        all.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["idp", "work"]
    );
    assert_eq!(store.account("work").unwrap().identity, identity);
    assert_eq!(store.account("idp").unwrap().provider, Provider::Oidc);
}

#[test]
fn duplicate_and_unknown_names_are_clear_errors() {
    let (_dir, store) = temp_store();
    store
        .add_account(&NewAccount::microsoft("work", "a"))
        .unwrap();
    let err = store
        .add_account(&NewAccount::microsoft("work", "b"))
        .unwrap_err();
    assert!(matches!(err, StoreError::DuplicateName(_)), "{err}");
    assert!(err.to_string().contains("already exists"));
    let err = store.account("nope").unwrap_err();
    assert!(
        err.to_string().contains("no account named \"nope\""),
        "{err}"
    );
    assert_eq!(
        store.accounts().unwrap().len(),
        1,
        "nothing else was written"
    );
}

#[test]
fn invalid_settings_are_refused_before_anything_is_written() {
    let (_dir, store) = temp_store();
    let mut bad = NewAccount::oidc("x", "http://idp.example.com", "cid");
    let err = store.add_account(&bad).unwrap_err();
    assert!(err.to_string().contains("plain http"), "{err}");
    bad.authority = "https://idp.example.com".into();
    store.add_account(&bad).unwrap();
}

fn empty_set() -> TokenSet {
    TokenSet {
        access_token: None,
        access_expires_at: None,
        refresh_token: None,
        id_token: None,
        scope: String::new(),
    }
}

#[test]
fn facts_and_health_follow_the_account_and_events_outlive_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path()).unwrap();
    let store = Store::open(&home).unwrap();
    let vault = MemoryVault::in_memory();
    let a = store
        .add_account(&NewAccount::microsoft("work", "cid"))
        .unwrap();
    let facts = TokenFacts {
        access_expires_at: Some(2_000),
        refresh_issued_at: Some(1_000),
        refresh_last_used_at: Some(1_500),
        rotation_count: 3,
        spa: true,
        ..TokenFacts::default()
    };
    let failure = FailureRecord::new(decode::decode_code(70008), 1_600, "fp".into());
    let set = empty_set();
    let write = TokenWrite {
        account: &a,
        tokens: &set,
        facts,
        basis: Basis::NewGrant,
        after_vault: None,
    };
    let written = Grants::new(&home, &store, &vault)
        .write(write, |tx| {
            tx.set_health(a.id, HealthState::ReconnectNeeded, Some(&failure))?;
            tx.append_event(&NewEvent::new(
                1_600,
                Some(&a),
                EventKind::Refresh,
                Outcome::Failed,
            ))
            .map(|_| ())
        })
        .unwrap();
    let stored = store.token_facts(a.id).unwrap().unwrap();
    assert_eq!(
        written,
        Written::Saved {
            write_seq: stored.write_seq
        }
    );
    assert_eq!(stored.rotation_count, 3);
    assert!(stored.spa && stored.stored_at > 0);
    let health = store.health(a.id).unwrap().unwrap();
    assert_eq!(health.state, HealthState::ReconnectNeeded);
    assert_eq!(health.last_failure, Some(failure));

    store.write(|tx| tx.delete_account(a.id)).unwrap();
    assert_eq!(store.token_facts(a.id).unwrap(), None);
    assert_eq!(store.health(a.id).unwrap(), None);
    let events = store.events(&EventQuery::default()).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].account_id, None);
    assert_eq!(events[0].event.account_name.as_deref(), Some("work"));
}

#[test]
fn a_failing_transaction_writes_nothing() {
    let (_dir, store) = temp_store();
    let a = store
        .add_account(&NewAccount::microsoft("work", "cid"))
        .unwrap();
    let err = store
        .write(|tx| {
            tx.set_health(a.id, HealthState::Healthy, None)?;
            tx.append_event(&NewEvent::new(1, Some(&a), EventKind::Refresh, Outcome::Ok))?;
            tx.account("missing").map(|_| ())
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::UnknownAccount(_)));
    assert_eq!(store.health(a.id).unwrap(), None);
    assert!(store.events(&EventQuery::default()).unwrap().is_empty());
}

#[test]
fn health_for_a_removed_account_is_refused() {
    let (_dir, store) = temp_store();
    let a = store
        .add_account(&NewAccount::microsoft("work", "cid"))
        .unwrap();
    store.write(|tx| tx.delete_account(a.id)).unwrap();
    let err = store
        .write(|tx| tx.set_health(a.id, HealthState::Healthy, None))
        .unwrap_err();
    assert!(matches!(err, StoreError::UnknownAccountId(_)), "{err}");
}

#[test]
fn retention_drops_old_and_excess_events() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Home::at(dir.path()).unwrap())
        .unwrap()
        .with_retention(Retention {
            max_age_secs: 1_000,
            max_count: 5,
        });
    for at in [10, 20, 30] {
        store
            .append_event(&NewEvent::new(at, None, EventKind::Refresh, Outcome::Ok))
            .unwrap();
    }
    // 2,000 is more than 1,000 s after 10..30: those go.
    store
        .append_event(&NewEvent::new(2_000, None, EventKind::Refresh, Outcome::Ok))
        .unwrap();
    let left: Vec<i64> = store
        .events(&EventQuery::default())
        .unwrap()
        .iter()
        .map(|e| e.event.at)
        .collect();
    assert_eq!(left, [2_000]);
    for at in 2_001..2_010 {
        store
            .append_event(&NewEvent::new(at, None, EventKind::Refresh, Outcome::Ok))
            .unwrap();
    }
    let left: Vec<i64> = store
        .events(&EventQuery::default())
        .unwrap()
        .iter()
        .map(|e| e.event.at)
        .collect();
    assert_eq!(left, [2_009, 2_008, 2_007, 2_006, 2_005]);
}

#[test]
fn failures_are_counted_by_code_per_bucket() {
    let (_dir, store) = temp_store();
    let a = store
        .add_account(&NewAccount::microsoft("a", "cid"))
        .unwrap();
    let b = store
        .add_account(&NewAccount::microsoft("b", "cid"))
        .unwrap();
    let fail = |at, acct, code: &str| {
        let mut e = NewEvent::new(at, Some(acct), EventKind::Refresh, Outcome::Failed);
        e.code = Some(code.into());
        e.error = Some("invalid_grant".into());
        e
    };
    for e in [
        fail(3_600, &a, "AADSTS50173"),
        fail(3_700, &b, "AADSTS50173"),
        fail(3_800, &a, "AADSTS70008"),
        fail(7_300, &b, "AADSTS50173"),
        NewEvent::new(3_650, Some(&a), EventKind::Refresh, Outcome::Ok),
        fail(100, &a, "AADSTS50173"),
    ] {
        store.append_event(&e).unwrap();
    }
    let counts = store.failures_by_code(3_600, 3_600).unwrap();
    let got: Vec<(i64, &str, u32, u32)> = counts
        .iter()
        .map(|c| {
            (
                c.bucket_start,
                c.code.as_deref().unwrap(),
                c.count,
                c.accounts,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (3_600, "AADSTS50173", 2, 2),
            (3_600, "AADSTS70008", 1, 1),
            (7_200, "AADSTS50173", 1, 1),
        ]
    );
    let failures = store
        .events(&EventQuery {
            account: Some(a.id),
            failures_only: true,
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(failures.len(), 3);
}

#[test]
fn reopening_keeps_data_and_uses_wal() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path()).unwrap();
    Store::open(&home)
        .unwrap()
        .add_account(&NewAccount::microsoft("work", "cid"))
        .unwrap();
    let again = Store::open(&home).unwrap();
    assert_eq!(again.accounts().unwrap().len(), 1);
    let conn = rusqlite::Connection::open(home.database_path()).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, Store::schema_version());
}

#[test]
fn a_database_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path()).unwrap();
    drop(Store::open(&home).unwrap());
    let conn = rusqlite::Connection::open(home.database_path()).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = Store::open(&home).unwrap_err();
    assert!(err.to_string().contains("newer than this build"), "{err}");
}

#[test]
fn many_connections_write_at_once_without_losing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let home = Arc::new(Home::at(dir.path()).unwrap());
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let home = Arc::clone(&home);
            std::thread::spawn(move || {
                // Each thread is its own connection, as a separate process is.
                let store = Store::open(&home).unwrap();
                store
                    .add_account(&NewAccount::microsoft(format!("acct-{t}"), "cid"))
                    .unwrap();
                for i in 0..40 {
                    store
                        .append_event(&NewEvent::new(
                            1_000 + i,
                            None,
                            EventKind::Refresh,
                            Outcome::Ok,
                        ))
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let store = Store::open(&home).unwrap();
    assert_eq!(store.accounts().unwrap().len(), 6);
    let events = store
        .events(&EventQuery {
            limit: Some(1_000),
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(events.len(), 240);
}
