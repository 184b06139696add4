//! A database written by version 1 of the schema (`data/schema-v1.db`, made
//! by `data/make-schema-v1.sh` with the release that wrote that schema) opens,
//! migrates, and reads back as typed records; the next token write works.

use reconnect_core::decode::Category;
use reconnect_core::health::HealthState;
use reconnect_core::policy::FailureClass;
use reconnect_store::{EventQuery, Home, Store};

fn migrated() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/schema-v1.db");
    std::fs::copy(fixture, dir.path().join("reconnect.db")).unwrap();
    let store = Store::open(&Home::at(dir.path()).unwrap()).expect("the old database opens");
    (dir, store)
}

fn user_version(store: &Store) -> u32 {
    let path = store.path().unwrap();
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn the_fixture_really_is_version_one() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/schema-v1.db");
    let conn = rusqlite::Connection::open(fixture).unwrap();
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1);
    let has_category: bool = conn
        .query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('events') WHERE name = 'category'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!has_category);
}

#[test]
fn health_reads_back_as_typed_records() {
    let (_dir, store) = migrated();
    assert_eq!(user_version(&store), Store::schema_version());
    let health = |name: &str| {
        let account = store.account(name).unwrap();
        store.health(account.id).unwrap()
    };
    let healthy = health("healthy").unwrap();
    assert_eq!(healthy.state, HealthState::Healthy);
    assert_eq!(healthy.last_failure, None);
    assert_eq!(healthy.unsaved_since, None);

    let revoked = health("revoked").unwrap();
    assert_eq!(revoked.state, HealthState::Retrying);
    let failure = revoked.last_failure.expect("a recorded failure");
    assert_eq!(failure.verdict.primary_code, Some(50173));
    assert_eq!(failure.verdict.category, Category::Revoked);
    assert_eq!(failure.class, FailureClass::ReconnectNeeded);
    assert!(failure.failed_at().is_some() && failure.next_attempt.is_some());

    let transient = health("retrying").unwrap().last_failure.unwrap();
    assert!(matches!(transient.class, FailureClass::Transient { .. }));
    let broken = health("malformed").unwrap();
    assert_eq!(broken.state, HealthState::AppMisconfigured);
    assert_eq!(health("never"), None);
}

#[test]
fn old_events_get_their_category_and_keep_their_message() {
    let (_dir, store) = migrated();
    let events = store.events(&EventQuery::default()).unwrap();
    let failures: Vec<_> = events
        .iter()
        .filter(|e| e.event.outcome != reconnect_store::Outcome::Ok)
        .collect();
    assert_eq!(failures.len(), 4, "{failures:?}");
    for e in &failures {
        let message = e.event.message.as_deref().unwrap();
        let category = e
            .event
            .category
            .unwrap_or_else(|| panic!("no category: {message}"));
        assert!(
            message.ends_with(&format!("[{}]", category.as_str())),
            "{message}"
        );
    }
    let network = failures
        .iter()
        .find(|e| e.event.code.is_none())
        .expect("a failure without a code");
    assert_eq!(network.event.category, Some(Category::Network));
    assert!(
        events
            .iter()
            .filter(|e| e.event.outcome == reconnect_store::Outcome::Ok)
            .all(|e| e.event.category.is_none())
    );
}

#[test]
fn stored_facts_keep_their_values_and_count_as_write_zero() {
    let (_dir, store) = migrated();
    let account = store.account("healthy").unwrap();
    let facts = store.token_facts(account.id).unwrap().expect("facts");
    assert_eq!(facts.write_seq, 0);
    assert!(facts.refresh_issued_at.is_some() && facts.access_expires_at.is_some());
}

#[test]
fn a_bare_verdict_left_by_an_older_build_is_wrapped_and_classified() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/schema-v1.db");
    let path = dir.path().join("reconnect.db");
    std::fs::copy(fixture, &path).unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let bare = r#"{"primary_code": 53003, "title": "Blocked by Conditional Access",
            "who_acts": "admin", "reconnect_fixes": "no", "transient": false,
            "category": "blocked"}"#;
        conn.execute(
            "UPDATE health SET state = 'needs_admin', last_failure = ?1 WHERE account_id = \
             (SELECT id FROM accounts WHERE name = 'healthy')",
            [bare],
        )
        .unwrap();
    }
    let store = Store::open(&Home::at(dir.path()).unwrap()).unwrap();
    let account = store.account("healthy").unwrap();
    let health = store.health(account.id).unwrap().unwrap();
    let failure = health.last_failure.expect("the verdict is kept");
    assert_eq!(failure.class, FailureClass::NeedsAdmin);
    assert_eq!(failure.verdict.primary_code, Some(53003));
    assert_eq!(failure.verdict.category, Category::Blocked);
}
