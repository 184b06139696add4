//! Network trouble that lasts, against the real simulator on its virtual
//! clock: the simulator drops every connection, the scheduler retries for
//! over an hour, and the account becomes "unreachable" (needs a person,
//! never "reconnect needed"), announced once; the first success clears it.

mod common;

use common::Rig;
use reconnect_core::decode::Category;
use reconnect_core::health::{Health, HealthState, Notice, Standing};
use reconnect_engine::{AccountStatus, EngineEvent};
use serde_json::json;

const ALICE: &str = "alice@contoso.test";

async fn status(rig: &Rig) -> AccountStatus {
    rig.engine.status(Some("work")).await.unwrap().remove(0)
}

/// Moves the clock to the account's next retry and lets the scheduler run it.
async fn next_retry(rig: &Rig) {
    let due = status(rig).await.next_attempt.expect("a retry is due");
    rig.advance((due - rig.now()).max(1));
    rig.engine.tick().await.unwrap();
}

/// The notices sent since the last call.
fn notices(events: &mut tokio::sync::broadcast::Receiver<EngineEvent>) -> Vec<Notice> {
    let mut out = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let EngineEvent::HealthChanged {
            notice: Some(n), ..
        } = event
        {
            out.push(n);
        }
    }
    out
}

#[tokio::test]
async fn dropped_connections_for_over_an_hour_make_the_service_unreachable_until_a_success() {
    let rig = Rig::new().await;
    let id = rig.connect("work", ALICE);
    rig.fault(json!({"outage": "drop", "count": 1000}));
    rig.expire_access_token(id);
    let mut events = rig.engine.subscribe();
    let began = rig.now();

    assert!(rig.engine.access_token("work").await.is_err());
    let mut seen = vec![status(&rig).await.health.state()];
    while status(&rig).await.health.state() == HealthState::Retrying {
        assert!(rig.now() - began < 3 * 3600, "named within a few hours");
        next_retry(&rig).await;
        seen.push(status(&rig).await.health.state());
    }
    let unreachable = status(&rig).await;
    assert_eq!(
        unreachable.health.state(),
        HealthState::Unreachable,
        "{seen:?}"
    );
    assert!(!seen.contains(&HealthState::ReconnectNeeded), "{seen:?}");
    let run = unreachable.health.streak().network.expect("a network run");
    assert!(run.attempts >= 3, "{run:?}");
    assert!(run.last - run.since >= 3600, "{run:?}");
    assert_eq!(unreachable.standing, Standing::NeedsAttention);
    assert!(unreachable.needs_attention);
    let failure = unreachable.last_failure.as_ref().expect("the cause");
    assert_eq!(failure.category, Category::Network);
    assert!(!failure.title.is_empty());
    let overview = rig.engine.overview().await.unwrap();
    assert_eq!(overview.needs_attention, 1);
    assert_eq!(overview.by_state.get(&HealthState::Unreachable), Some(&1));
    assert_eq!(notices(&mut events), vec![Notice::Unreachable]);

    // It keeps trying, less often, without telling anyone again.
    let sent = rig.refreshes();
    let failed_at = rig.now();
    next_retry(&rig).await;
    assert!(
        rig.now() - failed_at >= 15 * 60,
        "a long wait between tries"
    );
    assert!(rig.refreshes() > sent, "attempts go on");
    assert_eq!(status(&rig).await.health.state(), HealthState::Unreachable);
    assert!(notices(&mut events).is_empty(), "one notice only");

    // The network is back: the next attempt works and clears it.
    rig.sim.state.clear_faults();
    next_retry(&rig).await;
    let back = status(&rig).await;
    assert_eq!(back.health, Health::Healthy);
    assert!(!back.needs_attention);
    assert!(back.last_failure.is_none());
    assert_eq!(notices(&mut events), vec![Notice::Recovered]);
}

#[tokio::test]
async fn a_brief_outage_is_only_retried() {
    let rig = Rig::new().await;
    let id = rig.connect("work", ALICE);
    rig.fault(json!({"outage": "drop", "count": 3}));
    rig.expire_access_token(id);
    let mut events = rig.engine.subscribe();
    assert!(rig.engine.access_token("work").await.is_err());
    for _ in 0..3 {
        let now = status(&rig).await;
        assert_eq!(now.health.state(), HealthState::Retrying, "{now:?}");
        assert_eq!(now.standing, Standing::Retrying);
        next_retry(&rig).await;
    }
    assert_eq!(status(&rig).await.health, Health::Healthy);
    assert!(notices(&mut events).is_empty(), "nothing to tell");
}
