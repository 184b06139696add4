//! Forgetting a connection: after [`Engine::disconnect`] the account is
//! still there, but it holds no tokens (in the vault or in memory), no
//! identity and no health, so it reads "never connected" again.

mod common;

use common::Rig;
use reconnect_core::health::{Health, HealthState};
use reconnect_engine::EngineError;
use reconnect_store::{EventKind, Identity, Outcome, Vault as _};

const ALICE: &str = "alice@contoso.test";

#[tokio::test]
async fn a_disconnected_account_is_never_connected_again_and_holds_no_tokens() {
    let rig = Rig::new().await;
    let id = rig.connect("work", ALICE);
    let identity = Identity {
        upn: Some(ALICE.into()),
        oid: Some("o-1".into()),
        tid: Some("t-1".into()),
        ..Identity::default()
    };
    rig.store()
        .write(|tx| {
            tx.set_identity(id, &identity)?;
            tx.set_health(id, HealthState::Healthy, None)
        })
        .unwrap();
    // The engine holds the tokens in memory too.
    rig.engine.access_token("work").await.unwrap();

    rig.engine
        .disconnect("work", "first sign-in declined")
        .await
        .unwrap();

    assert!(
        rig.vault.get(id).unwrap().is_none(),
        "no tokens in the vault"
    );
    assert!(rig.store().token_facts(id).unwrap().is_none());
    let account = rig.store().account("work").unwrap();
    assert!(account.identity.is_empty(), "{:?}", account.identity);
    let status = rig.engine.status(Some("work")).await.unwrap();
    assert_eq!(status[0].health, Health::NeverConnected);
    let err = rig.engine.access_token("work").await.unwrap_err();
    assert!(matches!(err, EngineError::NotConnected { .. }), "{err}");
    let events = rig.engine.events(Some("work"), None, 1).await.unwrap();
    assert_eq!(events[0].event.kind, EventKind::Signin);
    assert_eq!(events[0].event.outcome, Outcome::Cancelled);
    assert_eq!(
        events[0].event.message.as_deref(),
        Some("first sign-in declined")
    );
}

#[tokio::test]
async fn disconnecting_an_unknown_account_says_so() {
    let rig = Rig::new().await;
    let err = rig.engine.disconnect("nope", "x").await.unwrap_err();
    assert!(matches!(err, EngineError::UnknownAccount { .. }), "{err}");
}
