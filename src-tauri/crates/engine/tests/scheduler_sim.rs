//! The background side against the real simulator on its virtual clock:
//! keep-alive that outlives the 90-day idle limit, the forecast, the learned
//! sign-in frequency, and one alert for a spike across accounts.

mod common;

use common::Rig;
use reconnect_core::forecast::{Cause, DAY};
use reconnect_core::health::{Health, HealthState};
use reconnect_core::spike::SpikeKey;
use reconnect_engine::{EngineEvent, FailureKind};
use serde_json::json;

const ALICE: &str = "alice@contoso.test";

#[tokio::test]
async fn keep_alive_outlives_the_idle_limit_on_the_virtual_clock() {
    let rig = Rig::new().await;
    rig.connect("kept", ALICE);
    rig.connect("left", "bob@contoso.test");
    // Only "kept" gets background work: mark "left" as stopped so the
    // scheduler leaves it alone, as if the app had never run for it.
    let left = rig.store().find_account("left").unwrap().unwrap();
    rig.store()
        .set_health(left.id, HealthState::NeedsAdmin, None)
        .unwrap();

    // A year in 12-hour steps, the scheduler ticking as the app would.
    let mut keep_alives = 0;
    for _ in 0..(365 * 2) {
        rig.advance(12 * 3600);
        let report = rig.engine.tick().await.unwrap();
        keep_alives += report.refreshed.len();
        assert!(report.failed.is_empty(), "{report:?}");
    }
    assert!(
        keep_alives >= 365 / 7,
        "a keep-alive about weekly: {keep_alives}"
    );
    assert!(
        keep_alives <= 365 / 7 + 2,
        "no more than needed: {keep_alives}"
    );
    assert!(
        rig.refresh_codes().iter().all(Option::is_none),
        "every keep-alive worked"
    );
    assert_eq!(
        rig.engine.status(Some("kept")).await.unwrap()[0].health,
        Health::Healthy
    );

    // The untouched account died of inactivity, as forecast.
    rig.store()
        .set_health(left.id, HealthState::Healthy, None)
        .unwrap();
    let err = rig.engine.refresh("left", false).await.unwrap_err();
    assert_eq!(err.failure().and_then(|f| f.code()), Some(700082));
    assert_eq!(err.kind(), FailureKind::ReconnectNeeded);
}

#[tokio::test]
async fn the_forecast_follows_idle_time_and_keep_alive_resets_it() {
    let rig = Rig::new().await;
    rig.connect("work", ALICE);
    let t0 = rig.now();
    let s = rig.engine.status(Some("work")).await.unwrap().remove(0);
    assert_eq!(s.forecast.dies_at, Some(t0 + 90 * DAY));
    assert_eq!(s.forecast.cause, Some(Cause::Idle));
    assert_eq!(s.forecast.keep_alive_at, Some(t0 + 7 * DAY));
    assert_eq!(s.next_attempt, Some(t0 + 7 * DAY));

    // Nothing is due before the keep-alive time.
    rig.advance(6 * DAY);
    assert!(rig.engine.tick().await.unwrap().refreshed.is_empty());
    rig.advance(DAY);
    assert_eq!(
        rig.engine.tick().await.unwrap().refreshed,
        vec!["work".to_owned()]
    );
    let s = rig.engine.status(Some("work")).await.unwrap().remove(0);
    assert_eq!(
        s.forecast.dies_at,
        Some(rig.now() + 90 * DAY),
        "refresh resets the idle clock"
    );
}

#[tokio::test]
async fn an_idle_account_close_to_its_limit_shows_expiring_soon() {
    let rig = Rig::new().await;
    rig.connect("work", ALICE);
    let left = rig.store().find_account("work").unwrap().unwrap();
    // The app was not running for 88 days (no ticks).
    rig.advance(88 * DAY);
    let s = rig.engine.status(Some("work")).await.unwrap().remove(0);
    assert_eq!(s.forecast.expiring_deadline, s.forecast.dies_at);
    assert!(s.forecast.dies_at.unwrap() - rig.now() <= 2 * DAY);
    // Told about it, the keep-alive runs at once and the account is safe again.
    let mut events = rig.engine.subscribe();
    let report = rig.engine.tick().await.unwrap();
    assert_eq!(report.forecast_changed, vec!["work".to_owned()]);
    assert_eq!(report.refreshed, vec!["work".to_owned()]);
    let mut seen = Vec::new();
    while let Ok(EngineEvent::HealthChanged { to, .. }) = events.try_recv() {
        seen.push(to.name());
    }
    assert!(seen.contains(&"expiring_soon"), "{seen:?}");
    assert_eq!(seen.last(), Some(&"healthy"), "{seen:?}");
    assert_eq!(
        rig.engine.status(Some("work")).await.unwrap()[0].health,
        Health::Healthy
    );
    let _ = left;
}

#[tokio::test]
async fn sign_in_frequency_is_learned_from_a_70043_and_forecast_next_time() {
    let rig = Rig::new().await;
    let id = rig.connect("work", ALICE);
    rig.user_state(ALICE, json!({"sign_in_frequency_seconds": 4 * 3600}));
    rig.advance(5 * 3600);
    rig.expire_access_token(id);
    let err = rig.engine.access_token("work").await.unwrap_err();
    assert_eq!(err.failure().and_then(|f| f.code()), Some(70043));

    // The user signs in again: a fresh chain.
    let now = rig.now();
    let fresh = reconnect_store::TokenFacts {
        access_expires_at: Some(now + 3600),
        refresh_issued_at: Some(now),
        refresh_last_used_at: Some(now),
        rotation_count: 0,
        spa: false,
        stored_at: now,
        write_seq: 0,
    };
    rig.store()
        .write(|tx| {
            tx.rewrite_token_facts(id, &fresh)?;
            tx.set_health(id, HealthState::Healthy, None)
        })
        .unwrap();
    let s = rig.engine.status(Some("work")).await.unwrap().remove(0);
    assert_eq!(s.forecast.cause, Some(Cause::SignInFrequency), "{s:?}");
    let dies = s.forecast.dies_at.unwrap() - now;
    assert!(
        (4 * 3600..=5 * 3600).contains(&dies),
        "learned about 4 h from the failure, got {dies} s"
    );
    assert_eq!(s.forecast.hard_deadline, s.forecast.dies_at);
}

#[tokio::test]
async fn three_revocations_in_an_hour_raise_one_spike_alert() {
    let rig = Rig::new().await;
    let users = [
        ("a", "alice@contoso.test"),
        ("b", "bob@contoso.test"),
        ("c", "carol@contoso.test"),
        ("d", "dave@contoso.test"),
    ];
    for (name, upn) in users {
        let id = rig.connect(name, upn);
        rig.expire_access_token(id);
    }
    rig.advance(5);
    for (_, upn) in users {
        rig.sim.state.revoke(upn).unwrap();
    }
    let mut events = rig.engine.subscribe();
    for (name, _) in users {
        rig.advance(600);
        assert!(rig.engine.access_token(name).await.is_err());
    }
    let spikes: Vec<_> = std::iter::from_fn(|| events.try_recv().ok())
        .filter_map(|e| match e {
            EngineEvent::Spike(alert) => Some(alert),
            _ => None,
        })
        .collect();
    assert_eq!(
        spikes.len(),
        1,
        "one alert, not one per account: {spikes:?}"
    );
    assert_eq!(spikes[0].key, SpikeKey::Code(50173));
    assert_eq!(
        spikes[0].accounts,
        vec!["a", "b", "c"],
        "raised at the third"
    );
    assert!(spikes[0].likely_cause.contains("password reset"));
    // Status still shows the ongoing spike, now with all four accounts.
    let current = rig.engine.spikes().await.unwrap();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].accounts.len(), 4);
}

#[tokio::test]
async fn failures_spread_over_days_are_not_a_spike() {
    let rig = Rig::new().await;
    let users = [
        ("a", "alice@contoso.test"),
        ("b", "bob@contoso.test"),
        ("c", "carol@contoso.test"),
    ];
    let mut events = rig.engine.subscribe();
    for (name, upn) in users {
        let id = rig.connect(name, upn);
        rig.advance(5);
        rig.sim.state.revoke(upn).unwrap();
        rig.expire_access_token(id);
        assert!(rig.engine.access_token(name).await.is_err());
        rig.advance(DAY);
    }
    assert!(
        std::iter::from_fn(|| events.try_recv().ok()).all(|e| !matches!(e, EngineEvent::Spike(_)))
    );
    assert!(rig.engine.spikes().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_scheduler_loop_runs_due_work_and_stops_on_shutdown() {
    let rig = Rig::with_config(reconnect_engine::EngineConfig {
        scheduler_poll: std::time::Duration::from_millis(20),
        ..Default::default()
    })
    .await;
    rig.connect("work", ALICE);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let engine = rig.engine.clone();
    let task = tokio::spawn(async move {
        engine
            .run_scheduler(async {
                let _ = stopped.await;
            })
            .await;
    });
    // The machine "sleeps" eight days: the overdue keep-alive runs by itself.
    rig.advance(8 * DAY);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while rig.refresh_codes().is_empty() {
        assert!(std::time::Instant::now() < deadline, "keep-alive never ran");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(rig.refresh_codes(), vec![None]);
    stop.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), task)
        .await
        .expect("the loop stops on shutdown")
        .unwrap();
}

#[tokio::test]
async fn a_reconnect_elsewhere_is_picked_up_and_announced_as_recovered() {
    let rig = Rig::new().await;
    let id = rig.connect("work", ALICE);
    rig.advance(5);
    rig.sim.state.revoke(ALICE).unwrap();
    rig.expire_access_token(id);
    assert!(rig.engine.access_token("work").await.is_err());
    rig.advance(61);
    assert!(rig.engine.access_token("work").await.is_err());
    assert_eq!(
        rig.engine.status(Some("work")).await.unwrap()[0].health,
        Health::ReconnectNeeded
    );
    // An interactive sign-in (done by the sign-in crate) stores fresh tokens
    // and clears the failure; the engine is told.
    rig.advance(5);
    let fresh_id = {
        rig.store()
            .set_health(id, HealthState::Healthy, None)
            .unwrap();
        let body = rig
            .sim
            .state
            .mint_grant(
                &reconnect_sim::GrantRequest {
                    upn: ALICE.into(),
                    client_id: common::CLIENT.into(),
                    scope: common::SCOPES.into(),
                    spa: false,
                    mfa: false,
                },
                &rig.sim.http_url,
            )
            .unwrap();
        let tokens = reconnect_oauth::TokenResponse::parse(body.to_string().as_bytes(), rig.now())
            .unwrap()
            .tokens;
        reconnect_store::Vault::put(rig.vault.as_ref(), id, &tokens).unwrap();
        let now = rig.now();
        rig.store()
            .write(|tx| {
                tx.rewrite_token_facts(
                    id,
                    &reconnect_store::TokenFacts {
                        access_expires_at: tokens.access_expires_at,
                        refresh_issued_at: Some(now),
                        refresh_last_used_at: Some(now),
                        rotation_count: 0,
                        spa: false,
                        stored_at: now,
                        write_seq: 0,
                    },
                )
            })
            .unwrap();
        tokens.access_token.unwrap()
    };
    let mut events = rig.engine.subscribe();
    rig.engine.account_changed("work").await.unwrap();
    match events.try_recv() {
        Ok(EngineEvent::HealthChanged { to, notice, .. }) => {
            assert_eq!(to, Health::Healthy);
            assert_eq!(notice, Some(reconnect_core::health::Notice::Recovered));
        }
        other => panic!("expected a recovery notice, got {other:?}"),
    }
    assert_eq!(rig.engine.access_token("work").await.unwrap(), fresh_id);
}

#[tokio::test]
async fn an_spa_account_is_announced_expiring_soon_once_not_on_every_refresh() {
    let rig = Rig::new().await;
    let id = rig.connect_with("spa", ALICE, true);
    let mut events = rig.engine.subscribe();
    rig.engine.tick().await.unwrap();
    for _ in 0..3 {
        rig.advance(2 * 3600);
        rig.expire_access_token(id);
        rig.engine.access_token("spa").await.unwrap();
    }
    let notices: Vec<_> = std::iter::from_fn(|| events.try_recv().ok())
        .filter_map(|e| match e {
            EngineEvent::HealthChanged { notice, .. } => notice,
            _ => None,
        })
        .collect();
    assert_eq!(
        notices,
        vec![reconnect_core::health::Notice::ExpiringSoon],
        "one notice for one deadline"
    );
    assert!(matches!(
        rig.engine.status(Some("spa")).await.unwrap()[0].health,
        Health::ExpiringSoon { .. }
    ));
}
