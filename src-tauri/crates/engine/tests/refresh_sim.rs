//! The engine against the real simulator: refresh and rotation, every
//! failure family, the retry-once rule, backoff with `Retry-After`, recovery
//! after an outage, single-flight under 1,000 concurrent requests, and tokens
//! the keychain refuses.

mod common;

use common::Rig;
use reconnect_core::health::Health;
use std::time::Duration;

use reconnect_engine::{EngineError, EngineEvent, FailureKind, TokenRequest};
use reconnect_store::Vault as _;
use serde_json::json;

const ALICE: &str = "alice@contoso.test";

fn kind(result: Result<impl std::fmt::Debug, EngineError>) -> FailureKind {
    match result {
        Ok(v) => panic!("expected a failure, got {v:?}"),
        Err(e) => e.kind(),
    }
}

async fn health(rig: &Rig, name: &str) -> Health {
    rig.engine.status(Some(name)).await.unwrap()[0].health
}

#[tokio::test]
async fn expired_access_token_is_refreshed_once_and_the_rotation_is_stored() {
    let rig = Rig::new().await;
    let id = rig.connect("work", ALICE);
    let before = rig.vault.get(id).unwrap().unwrap();
    rig.expire_access_token(id);
    rig.advance(1);

    let token = rig.engine.access_token("work").await.unwrap();
    assert_ne!(Some(&token), before.access_token.as_ref());
    let stored = rig.vault.get(id).unwrap().unwrap();
    assert_eq!(
        stored.access_token.as_ref(),
        Some(&token),
        "persisted before answering"
    );
    assert_ne!(
        stored.refresh_token, before.refresh_token,
        "rotated refresh token saved"
    );
    assert_eq!(rig.refreshes(), 1);

    // A valid token is served without another refresh.
    assert_eq!(rig.engine.access_token("work").await.unwrap(), token);
    assert_eq!(rig.refreshes(), 1);

    let facts = rig.store().token_facts(id).unwrap().unwrap();
    assert_eq!(facts.rotation_count, 1);
    assert_eq!(facts.refresh_last_used_at, Some(rig.now()));
    let events = rig.engine.events(Some("work"), None, 10).await.unwrap();
    assert_eq!(events[0].event.kind, reconnect_store::EventKind::Refresh);
    assert_eq!(events[0].event.outcome, reconnect_store::Outcome::Ok);
    assert_eq!(health(&rig, "work").await, Health::Healthy);
}

#[tokio::test]
async fn a_longer_minimum_lifetime_refreshes_a_token_the_default_would_serve() {
    let rig = Rig::new().await;
    rig.connect("work", ALICE);
    let first = rig
        .engine
        .token("work", TokenRequest::default())
        .await
        .unwrap();
    let refreshes = rig.refreshes();
    let left = first.expires_at.expect("an expiry") - rig.now();
    assert!(
        left > 600,
        "a fresh token lives longer than ten minutes: {left}"
    );
    assert!(first.scope.contains("User.Read"), "{}", first.scope);

    // Ten minutes is still enough: no request.
    let ten = TokenRequest {
        min_ttl: Some(Duration::from_secs(600)),
    };
    let same = rig.engine.token("work", ten).await.unwrap();
    assert_eq!(same.access_token, first.access_token);
    assert_eq!(rig.refreshes(), refreshes);

    // More than it has left: refreshed first.
    let more = TokenRequest {
        min_ttl: Some(Duration::from_secs(u64::try_from(left).unwrap() + 60)),
    };
    let fresh = rig.engine.token("work", more).await.unwrap();
    assert_ne!(fresh.access_token, first.access_token);
    assert_eq!(rig.refreshes(), refreshes + 1);
}

#[tokio::test]
async fn a_thousand_concurrent_requests_cause_one_refresh() {
    let rig = Rig::new().await;
    let id = rig.connect("work", ALICE);
    rig.expire_access_token(id);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..1_000 {
        let engine = rig.engine.clone();
        tasks.spawn(async move { engine.access_token("work").await });
    }
    let mut tokens = std::collections::HashSet::new();
    while let Some(result) = tasks.join_next().await {
        tokens.insert(result.unwrap().unwrap().expose().to_owned());
    }
    assert_eq!(tokens.len(), 1, "everyone got the same token");
    assert_eq!(
        rig.refreshes(),
        1,
        "exactly one refresh reached the simulator"
    );
    let stored = rig.vault.get(id).unwrap().unwrap();
    assert!(tokens.contains(stored.access_token.unwrap().expose()));
}

#[tokio::test]
async fn concurrent_forced_refreshes_share_one_request() {
    let rig = Rig::new().await;
    rig.connect("work", ALICE);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let engine = rig.engine.clone();
        tasks.spawn(async move { engine.refresh("work", true).await });
    }
    let mut sent = 0;
    while let Some(result) = tasks.join_next().await {
        sent += usize::from(result.unwrap().unwrap().sent);
    }
    assert_eq!(sent, 1);
    assert_eq!(rig.refreshes(), 1);
}

/// Drives one failure family: the first failure, what the health says, and
/// whether a later attempt still reaches the simulator.
async fn family(
    setup: impl FnOnce(&Rig),
    expected_code: u32,
    expected_kind: FailureKind,
) -> (Rig, Health) {
    let rig = Rig::new().await;
    let id = rig.connect("work", ALICE);
    setup(&rig);
    first_failure(rig, id, expected_code, expected_kind).await
}

/// The first failure of `work` (account `id`) once its access token expired.
async fn first_failure(
    rig: Rig,
    id: reconnect_store::AccountId,
    expected_code: u32,
    expected_kind: FailureKind,
) -> (Rig, Health) {
    rig.expire_access_token(id);
    let err = rig.engine.access_token("work").await.unwrap_err();
    assert_eq!(err.kind(), expected_kind, "{err}");
    let failure = err.failure().expect("a decoded failure");
    assert_eq!(failure.code(), Some(expected_code), "{err}");
    let status = &rig.engine.status(Some("work")).await.unwrap()[0];
    assert_eq!(
        status.last_failure.as_ref().and_then(|v| v.primary_code),
        Some(expected_code),
        "status shows the decoder's verdict"
    );
    let h = status.health;
    (rig, h)
}

#[tokio::test]
async fn reconnect_families_retry_once_then_stop() {
    type Setup = Box<dyn FnOnce(&Rig)>;
    let cases: Vec<(&str, Setup, u32)> = vec![
        (
            "idle 91 days",
            Box::new(|r: &Rig| r.advance(91 * 86_400)),
            700082,
        ),
        (
            "password reset",
            Box::new(|r: &Rig| {
                r.advance(5);
                r.sim.state.revoke(ALICE).unwrap();
            }),
            50173,
        ),
        (
            "new MFA policy",
            Box::new(|r: &Rig| r.user_state(ALICE, json!({"mfa_required": true}))),
            50076,
        ),
        (
            "sign-in frequency",
            Box::new(|r: &Rig| {
                r.user_state(ALICE, json!({"sign_in_frequency_seconds": 3600}));
                r.advance(2 * 3600);
            }),
            70043,
        ),
    ];
    for (what, setup, code) in cases {
        let (rig, first) = family(setup, code, FailureKind::ReconnectNeeded).await;
        assert!(
            matches!(first, Health::Retrying { .. }),
            "{what}: one retry is granted first, got {first:?}"
        );
        // Within 60 s the identical request is not sent again.
        let again = rig.engine.access_token("work").await;
        assert!(
            matches!(again, Err(EngineError::Deferred { .. })),
            "{what}: {again:?}"
        );
        assert_eq!(rig.refreshes(), 1, "{what}");
        // After the floor, the single retry runs and fails the same way.
        rig.advance(61);
        assert_eq!(
            kind(rig.engine.access_token("work").await),
            FailureKind::ReconnectNeeded
        );
        assert_eq!(rig.refreshes(), 2, "{what}");
        assert_eq!(
            health(&rig, "work").await,
            Health::ReconnectNeeded,
            "{what}"
        );
        // Stopped: no more requests, neither on demand nor in the background.
        rig.advance(3600);
        let stopped = rig.engine.access_token("work").await;
        assert!(
            matches!(stopped, Err(EngineError::Stopped { .. })),
            "{what}: {stopped:?}"
        );
        assert_eq!(kind(stopped), FailureKind::ReconnectNeeded);
        rig.engine.tick().await.unwrap();
        assert_eq!(rig.refreshes(), 2, "{what}: background refresh stopped");
    }
}

#[tokio::test]
async fn mfa_failure_carries_the_claims_challenge() {
    let (rig, _) = family(
        |r| r.user_state(ALICE, json!({"mfa_required": true})),
        50076,
        FailureKind::ReconnectNeeded,
    )
    .await;
    let status = &rig.engine.status(Some("work")).await.unwrap()[0];
    let claims = status
        .last_failure
        .as_ref()
        .unwrap()
        .claims_challenge
        .as_deref();
    assert!(
        claims.is_some_and(|c| c.contains("acrs") || c.contains("access_token")),
        "{claims:?}"
    );
}

#[tokio::test]
async fn admin_and_developer_families_are_never_retried() {
    type Setup = Box<dyn FnOnce(&Rig)>;
    let cases: Vec<(&str, Setup, u32, Health)> = vec![
        (
            "conditional access block",
            Box::new(|r: &Rig| r.user_state(ALICE, json!({"ca_blocked": true}))),
            53003,
            Health::NeedsAdmin,
        ),
        (
            "disabled user",
            Box::new(|r: &Rig| r.user_state(ALICE, json!({"disabled": true}))),
            50057,
            Health::NeedsAdmin,
        ),
        (
            "app registration deleted",
            Box::new(|r: &Rig| r.sim.state.remove_app(common::CLIENT).unwrap()),
            700016,
            Health::AppMisconfigured,
        ),
    ];
    let mut outcomes = Vec::new();
    for (what, setup, code, expected) in cases {
        outcomes.push((
            what,
            family(setup, code, FailureKind::NeedsAdmin).await,
            expected,
        ));
    }
    // A grant of a web app (a confidential client) redeemed without its secret.
    let rig = Rig::new().await;
    let id = rig.connect_web("work", ALICE).await;
    outcomes.push((
        "web app without its secret",
        first_failure(rig, id, 7000218, FailureKind::NeedsAdmin).await,
        Health::AppMisconfigured,
    ));
    for (what, (rig, first), expected) in outcomes {
        assert_eq!(first, expected, "{what}");
        rig.advance(3600);
        assert!(matches!(
            rig.engine.access_token("work").await,
            Err(EngineError::Stopped { .. })
        ));
        rig.engine.tick().await.unwrap();
        assert_eq!(rig.refreshes(), 1, "{what}: no retries at all");
        // An explicit forced refresh does try again (e.g. after the admin acted).
        assert!(rig.engine.refresh("work", true).await.is_err());
        assert_eq!(rig.refreshes(), 2, "{what}");
    }
}

#[tokio::test]
async fn consent_revoked_is_decoded_and_stops_background_work() {
    let (rig, first) = family(
        |r| r.user_state(ALICE, json!({"consent_revoked": true})),
        65001,
        match reconnect_core::policy::FailureClass::from_verdict(
            &reconnect_core::decode::decode_code(65001),
        ) {
            reconnect_core::policy::FailureClass::ReconnectNeeded => FailureKind::ReconnectNeeded,
            _ => FailureKind::NeedsAdmin,
        },
    )
    .await;
    assert!(!matches!(first, Health::Healthy), "{first:?}");
    drop(rig);
}

#[tokio::test]
async fn spa_tokens_fail_after_their_fixed_lifetime_and_the_forecast_said_so() {
    let rig = Rig::new().await;
    let id = rig.connect_with("spa", ALICE, true);
    let status = &rig.engine.status(Some("spa")).await.unwrap()[0];
    assert_eq!(status.forecast.dies_at, Some(rig.now() + 86_400));
    assert_eq!(
        serde_json::to_value(status.forecast.cause).unwrap(),
        json!("spa_lifetime")
    );
    // A day's lifetime is inside the "expiring soon" window: the scheduler says so.
    rig.engine.tick().await.unwrap();
    assert!(matches!(
        health(&rig, "spa").await,
        Health::ExpiringSoon { .. }
    ));
    rig.advance(25 * 3600);
    rig.expire_access_token(id);
    let err = rig.engine.access_token("spa").await.unwrap_err();
    assert_eq!(err.failure().and_then(|f| f.code()), Some(700084));
    assert_eq!(err.kind(), FailureKind::ReconnectNeeded);
}

#[tokio::test]
async fn intermittent_invalid_grant_heals_on_the_single_retry() {
    let rig = Rig::new().await;
    let id = rig.connect("work", ALICE);
    rig.fault(json!({"code": 70000, "count": 1}));
    rig.expire_access_token(id);
    assert_eq!(
        kind(rig.engine.access_token("work").await),
        FailureKind::ReconnectNeeded
    );
    assert!(matches!(
        health(&rig, "work").await,
        Health::Retrying { .. }
    ));
    rig.advance(61);
    // The scheduler runs the due retry; it works, the account is healthy again.
    let report = rig.engine.tick().await.unwrap();
    assert_eq!(report.refreshed, vec!["work".to_owned()]);
    assert_eq!(health(&rig, "work").await, Health::Healthy);
    assert!(
        rig.engine.status(Some("work")).await.unwrap()[0]
            .last_failure
            .is_none()
    );
    assert_eq!(rig.refresh_codes(), vec![Some(70000), None]);
}

#[tokio::test]
async fn throttling_backs_off_for_retry_after_and_never_breaks_the_account() {
    let rig = Rig::new().await;
    let id = rig.connect("work", ALICE);
    rig.fault(json!({"outage": "429", "count": 1, "retry_after": 300}));
    rig.expire_access_token(id);
    let start = rig.now();
    assert_eq!(
        kind(rig.engine.access_token("work").await),
        FailureKind::Transient
    );
    let status = &rig.engine.status(Some("work")).await.unwrap()[0];
    assert!(matches!(status.health, Health::Retrying { .. }));
    assert!(status.next_attempt.unwrap() >= start + 300, "{status:?}");
    assert_eq!(
        status.last_failure.as_ref().unwrap().retry_after_seconds,
        Some(300)
    );
    // Asking again before Retry-After elapsed sends nothing.
    rig.advance(120);
    let early = rig.engine.access_token("work").await;
    assert!(matches!(early, Err(EngineError::Deferred { until, .. }) if until >= start + 300));
    assert_eq!(kind(early), FailureKind::Transient);
    rig.engine.tick().await.unwrap();
    assert_eq!(rig.refreshes(), 1);
    rig.advance(181);
    rig.engine.access_token("work").await.unwrap();
    assert_eq!(rig.refreshes(), 2);
    assert_eq!(health(&rig, "work").await, Health::Healthy);
}

#[tokio::test]
async fn recovery_after_an_outage_with_growing_backoff() {
    let rig = Rig::new().await;
    let id = rig.connect("work", ALICE);
    rig.fault(json!({"outage": "503", "count": 2}));
    rig.fault(json!({"outage": "html500", "count": 2}));
    rig.expire_access_token(id);
    let mut events = rig.engine.subscribe();
    assert_eq!(
        kind(rig.engine.access_token("work").await),
        FailureKind::Transient
    );
    let mut waits = Vec::new();
    for _ in 0..10 {
        let status = rig.engine.status(Some("work")).await.unwrap().remove(0);
        match status.health {
            Health::Retrying { next_attempt, .. } => {
                assert!(!status.health.is_stopped());
                waits.push(next_attempt - rig.now());
                rig.advance(next_attempt - rig.now());
                rig.engine.tick().await.unwrap();
            }
            Health::Healthy => break,
            other => panic!("an outage must never break the account: {other:?}"),
        }
    }
    assert_eq!(health(&rig, "work").await, Health::Healthy);
    assert_eq!(rig.refreshes(), 5, "four failures, then success");
    assert_eq!(
        waits,
        vec![60, 120, 240, 480],
        "exponential backoff (jitter pinned)"
    );
    // The UI heard about it, but never as "reconnect needed".
    while let Ok(event) = events.try_recv() {
        if let EngineEvent::HealthChanged { to, .. } = event {
            assert!(!to.is_stopped(), "{to:?}");
        }
    }
}

#[tokio::test]
async fn dropped_connections_are_transient() {
    let rig = Rig::new().await;
    let id = rig.connect("work", ALICE);
    rig.fault(json!({"outage": "drop", "count": 1}));
    rig.expire_access_token(id);
    assert_eq!(
        kind(rig.engine.access_token("work").await),
        FailureKind::Transient
    );
    assert!(matches!(
        health(&rig, "work").await,
        Health::Retrying { .. }
    ));
}

#[tokio::test]
async fn tokens_the_keychain_refuses_are_kept_in_memory_and_saved_later() {
    let rig = Rig::with_config(reconnect_engine::EngineConfig {
        persist_attempts: 1,
        ..Default::default()
    })
    .await;
    let id = rig.connect("work", ALICE);
    rig.expire_access_token(id);
    rig.advance(1);
    let before = rig.vault.get(id).unwrap().unwrap();
    let mut events = rig.engine.subscribe();
    rig.keychain.inject(reconnect_store::Fault::FailAt(0));

    let token = rig.engine.access_token("work").await.unwrap();
    assert!(rig.engine.has_unsaved_credentials("work").await);
    assert!(matches!(
        events.try_recv(),
        Ok(EngineEvent::HealthChanged { .. })
    ));
    let mut saw_unsaved = false;
    while let Ok(e) = events.try_recv() {
        saw_unsaved |= matches!(e, EngineEvent::UnsavedCredentials { .. });
    }
    assert!(saw_unsaved);
    // The in-memory token keeps being served; no second refresh.
    assert_eq!(rig.engine.access_token("work").await.unwrap(), token);
    assert_eq!(rig.refreshes(), 1);
    assert!(rig.engine.status(Some("work")).await.unwrap()[0].unsaved_credentials);

    let report = rig.engine.tick().await.unwrap();
    assert_eq!(report.saved, vec!["work".to_owned()]);
    let stored = rig.vault.get(id).unwrap().unwrap();
    assert_eq!(stored.access_token.as_ref(), Some(&token));
    assert_ne!(stored.refresh_token, before.refresh_token);
    assert!(!rig.engine.has_unsaved_credentials("work").await);
}

#[tokio::test]
async fn a_single_failed_keychain_write_is_retried_before_answering() {
    let rig = Rig::new().await;
    let id = rig.connect("work", ALICE);
    rig.expire_access_token(id);
    rig.advance(1);
    rig.keychain.inject(reconnect_store::Fault::FailAt(0));
    let token = rig.engine.access_token("work").await.unwrap();
    assert!(!rig.engine.has_unsaved_credentials("work").await);
    let stored = rig.vault.get(id).unwrap().unwrap();
    assert_eq!(stored.access_token.as_ref(), Some(&token));
}

#[tokio::test]
async fn unknown_and_unconnected_accounts_are_clear_errors() {
    let rig = Rig::new().await;
    let err = rig.engine.access_token("nope").await.unwrap_err();
    assert!(matches!(err, EngineError::UnknownAccount { .. }));
    assert_eq!(err.kind(), FailureKind::Other);
    let mut new = reconnect_store::NewAccount::microsoft("fresh", common::CLIENT);
    new.authority = rig.sim.http_url.clone();
    rig.store().add_account(&new).unwrap();
    let err = rig.engine.access_token("fresh").await.unwrap_err();
    assert!(matches!(err, EngineError::NotConnected { .. }), "{err}");
    assert_eq!(err.kind(), FailureKind::ReconnectNeeded);
    assert_eq!(health(&rig, "fresh").await, Health::NeverConnected);
}
