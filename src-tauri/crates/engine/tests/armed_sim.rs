//! "Make the next refresh fail with code N" ([`Engine::fail_next`]) against
//! the real simulator and a real SQLite database: the armed refresh fails
//! with the decoded code through the normal path (health, timeline,
//! notifications, the retry-once rule) without a request or a keychain read,
//! and the refresh after it is real again.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Rig, SimClock};
use reconnect_core::health::{Health, Notice};
use reconnect_core::tokens::TokenSet;
use reconnect_engine::{Engine, EngineError, EngineEvent, FailureKind};
use reconnect_store::{AccountId, Home, MemoryVault, Vault, VaultError};

const ALICE: &str = "alice@contoso.test";

/// The rig's vault, counting reads (to prove an armed failure reads nothing).
struct CountingVault {
    inner: Arc<MemoryVault>,
    reads: AtomicUsize,
}

impl Vault for CountingVault {
    fn get(&self, account: AccountId) -> Result<Option<TokenSet>, VaultError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.get(account)
    }
    fn put(&self, account: AccountId, tokens: &TokenSet) -> Result<(), VaultError> {
        self.inner.put(account, tokens)
    }
    fn delete(&self, account: AccountId) -> Result<(), VaultError> {
        self.inner.delete(account)
    }
}

/// A second engine on the rig's data directory whose vault reads are counted.
fn counting_engine(rig: &Rig) -> (Engine, Arc<CountingVault>) {
    let vault = Arc::new(CountingVault {
        inner: rig.vault.clone(),
        reads: AtomicUsize::new(0),
    });
    let engine = Engine::builder(Home::at(rig.dir.path()).expect("home"))
        .vault(vault.clone())
        .clock(Arc::new(SimClock(rig.sim.state.clone())))
        .jitter(Arc::new(|| 0.5))
        .build()
        .expect("engine opens");
    (engine, vault)
}

async fn health(engine: &Engine, name: &str) -> Health {
    engine.status(Some(name)).await.unwrap()[0].health
}

#[tokio::test]
async fn the_armed_refresh_fails_with_the_decoded_code_and_the_next_one_is_real() {
    let rig = Rig::new().await;
    rig.connect("work", ALICE);
    let (engine, vault) = counting_engine(&rig);
    let mut notices = engine.subscribe();

    engine.fail_next("work", 50173).unwrap();
    assert_eq!(engine.armed_failure("work"), Some(50173));
    let err = engine.refresh("work", true).await.unwrap_err();
    let EngineError::Refresh { failure, .. } = &err else {
        panic!("expected a decoded refresh failure, got {err:?}");
    };
    assert_eq!(failure.code(), Some(50173), "{err}");
    assert_eq!(err.kind(), FailureKind::ReconnectNeeded);
    assert_eq!(failure.verdict.error.as_deref(), Some("invalid_grant"));
    assert_eq!(rig.refreshes(), 0, "no request reached the token endpoint");
    assert_eq!(vault.reads.load(Ordering::SeqCst), 0, "no keychain read");
    assert_eq!(engine.armed_failure("work"), None, "used up");

    // The normal path: the retry-once rule, the stored verdict, the timeline.
    let status = &engine.status(Some("work")).await.unwrap()[0];
    let Health::Retrying { next_attempt, .. } = status.health else {
        panic!("one retry is granted first: {:?}", status.health);
    };
    assert_eq!(next_attempt, rig.now() + 60);
    assert_eq!(
        status.last_failure.as_ref().unwrap().primary_code,
        Some(50173),
        "the card reads the decoder's verdict"
    );
    let events = engine.events(Some("work"), None, 5).await.unwrap();
    let last = &events[0].event;
    assert_eq!(
        (last.kind.as_str(), last.outcome.as_str()),
        ("refresh", "failed")
    );
    assert_eq!(last.code.as_deref(), Some("AADSTS50173"));
    assert_eq!(last.error.as_deref(), Some("invalid_grant"));
    let message = last.message.as_deref().unwrap_or_default();
    assert!(message.contains("nothing was sent"), "{message}");
    let mut saw_retrying = false;
    while let Ok(event) = notices.try_recv() {
        if let EngineEvent::HealthChanged { account, to, .. } = event {
            saw_retrying |= account == "work" && matches!(to, Health::Retrying { .. });
        }
    }
    assert!(saw_retrying, "listeners heard the health change");

    // The following refresh is real and works: no 60 s wait, since the
    // armed failure was never a request the server saw.
    let outcome = engine.refresh("work", true).await.unwrap();
    assert!(outcome.sent);
    assert_eq!(rig.refreshes(), 1);
    assert_eq!(health(&engine, "work").await, Health::Healthy);
    let events = engine.events(Some("work"), None, 5).await.unwrap();
    assert_eq!(events[0].event.outcome, reconnect_store::Outcome::Ok);
    assert_eq!(events[1].event.code.as_deref(), Some("AADSTS50173"));
}

#[tokio::test]
async fn the_scheduled_retry_after_an_armed_failure_is_a_real_request() {
    let rig = Rig::new().await;
    let id = rig.connect("work", ALICE);
    rig.expire_access_token(id);
    rig.engine.fail_next("work", 700082).unwrap();
    let err = rig.engine.access_token("work").await.unwrap_err();
    assert_eq!(err.failure().and_then(|f| f.code()), Some(700082));
    assert_eq!(rig.refreshes(), 0);
    // An armed idle failure teaches nothing about the real idle limit.
    assert_eq!(
        rig.engine.lifetimes("work"),
        reconnect_core::forecast::Lifetimes::default()
    );

    rig.advance(61);
    rig.engine.tick().await.unwrap();
    assert_eq!(rig.refreshes(), 1, "the one retry went to the server");
    assert_eq!(health(&rig.engine, "work").await, Health::Healthy);
    rig.engine.access_token("work").await.unwrap();
}

#[tokio::test]
async fn an_armed_admin_code_stops_the_account_and_notifies() {
    let rig = Rig::new().await;
    rig.connect("work", ALICE);
    let mut notices = rig.engine.subscribe();
    rig.engine.fail_next("work", 53003).unwrap();
    let err = rig.engine.refresh("work", false).await.unwrap_err();
    assert_eq!(err.kind(), FailureKind::NeedsAdmin, "{err}");
    assert_eq!(health(&rig.engine, "work").await, Health::NeedsAdmin);
    let mut notice = None;
    while let Ok(event) = notices.try_recv() {
        if let EngineEvent::HealthChanged {
            notice: Some(n), ..
        } = event
        {
            notice = Some(n);
        }
    }
    assert_eq!(notice, Some(Notice::NeedsAdmin));
    // Stopped: background work sends nothing; a forced refresh is real.
    rig.advance(3600);
    rig.engine.tick().await.unwrap();
    assert_eq!(rig.refreshes(), 0);
    rig.engine.refresh("work", true).await.unwrap();
    assert_eq!(rig.refreshes(), 1);
    assert_eq!(health(&rig.engine, "work").await, Health::Healthy);
}

#[tokio::test]
async fn arming_checks_its_input_and_can_be_cleared() {
    let rig = Rig::new().await;
    rig.connect("work", ALICE);
    assert!(matches!(
        rig.engine.fail_next("nobody", 50173),
        Err(EngineError::UnknownAccount { .. })
    ));
    let zero = rig.engine.fail_next("work", 0).unwrap_err();
    assert!(zero.to_string().contains("50173"), "{zero}");
    rig.engine.fail_next("work", 50057).unwrap();
    assert_eq!(rig.engine.clear_fail_next("work"), Some(50057));
    assert_eq!(rig.engine.armed_failure("work"), None);
    rig.engine.refresh("work", true).await.unwrap();
    assert_eq!(rig.refreshes(), 1, "a cleared code fails nothing");
}

#[tokio::test]
async fn a_learned_idle_limit_moves_the_forecast() {
    let rig = Rig::new().await;
    rig.user_state(ALICE, serde_json::json!({"idle_limit_seconds": 5 * 86_400}));
    let id = rig.connect("work", ALICE);
    let facts = || rig.store().token_facts(id).unwrap();
    let forecast = || async { rig.engine.status(Some("work")).await.unwrap()[0].forecast };
    let before = forecast().await;
    assert_eq!(before.dies_at, Some(rig.now() + 90 * 86_400), "the default");

    // Unused for 6 days: the simulator's 5-day idle policy kills the grant.
    rig.advance(6 * 86_400);
    rig.expire_access_token(id);
    let err = rig.engine.access_token("work").await.unwrap_err();
    assert_eq!(err.failure().and_then(|f| f.code()), Some(700082), "{err}");
    let learned = rig.engine.lifetimes("work").idle_limit;
    assert!(
        (5 * 86_400..=6 * 86_400 + 60).contains(&learned),
        "learned {learned}"
    );
    let after = forecast().await;
    let last_use = facts().unwrap().refresh_last_used_at.unwrap();
    assert_eq!(after.dies_at, Some(last_use + learned));
    // The overview of every account reads the learned lifetime the same way.
    let all = rig.engine.status(None).await.unwrap();
    assert_eq!(all[0].forecast, after, "the overview and the account agree");
}

/// A tester can never make a real connection look broken: failures are armed
/// only for accounts served by a simulator on this machine.
#[tokio::test]
async fn failures_are_armed_only_for_simulated_accounts() {
    let rig = Rig::new().await;
    rig.connect("work", ALICE);
    let mut real = reconnect_store::NewAccount::microsoft("real", "cid");
    real.tenant = Some("contoso.onmicrosoft.com".into());
    rig.store().add_account(&real).expect("account added");
    let err = rig.engine.fail_next("real", 50173).unwrap_err();
    assert!(
        matches!(err, EngineError::NotSimulated { .. }),
        "a real tenant's account: {err}"
    );
    assert!(
        err.to_string().contains("login.microsoftonline.com"),
        "{err}"
    );
    assert_eq!(rig.engine.armed_failure("real"), None);
    rig.engine
        .fail_next("work", 50173)
        .expect("the simulator's account");
    assert_eq!(rig.engine.armed_failure("work"), Some(50173));
}
