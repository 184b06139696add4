//! Continuous access evaluation against the real simulator: every refresh
//! of a Microsoft account declares the client capability `cp1` (an OpenID
//! account's does not), and a resource's claims challenge is answered by a
//! refresh that carries it — granted when the grant has what it asks for,
//! else the account needs a reconnect that will carry the challenge.

mod common;

use common::{CLIENT, Rig, SCOPES};
use reconnect_core::claims::Challenge;
use reconnect_core::health::Health;
use reconnect_engine::{EngineError, FailureKind, TokenRequest};
use reconnect_sim::{GrantRequest, LogEntry};
use reconnect_store::{NewAccount, TokenFacts, Vault as _};
use serde_json::{Value, json};

const ALICE: &str = "alice@contoso.test";

/// An authentication context the resource wants (the simulator asks MFA for it).
const ACRS: &str = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
/// A revocation-style challenge: only a token issued after `nbf`.
const NBF: &str = r#"{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}"#;

fn challenge(text: &str) -> Challenge {
    Challenge::parse(text).expect("a challenge")
}

fn refresh_log(rig: &Rig) -> Vec<LogEntry> {
    rig.sim
        .state
        .log()
        .into_iter()
        .filter(|e| e.grant_type.as_deref() == Some("refresh_token"))
        .collect()
}

fn parsed(text: Option<&str>) -> Value {
    serde_json::from_str(text.expect("a challenge is kept")).expect("JSON")
}

async fn health(rig: &Rig) -> Health {
    rig.engine.status(Some("work")).await.unwrap()[0].health
}

fn failure(result: Result<impl std::fmt::Debug, EngineError>) -> EngineError {
    match result {
        Ok(v) => panic!("expected the refresh to be refused, got {v:?}"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn every_refresh_declares_cp1_and_passes_no_challenge_of_its_own() {
    let rig = Rig::new().await;
    let id = rig.connect("work", ALICE);
    rig.expire_access_token(id);
    rig.engine.access_token("work").await.unwrap();
    rig.engine.refresh("work", false).await.unwrap();

    let log = refresh_log(&rig);
    assert_eq!(log.len(), 2, "{log:?}");
    for entry in &log {
        assert_eq!(entry.client_capabilities, ["cp1"], "{entry:?}");
        assert!(!entry.claims_passed, "cp1 alone is no challenge: {entry:?}");
        assert_eq!(entry.code, None, "{entry:?}");
    }
}

#[tokio::test]
async fn a_challenge_the_grant_satisfies_skips_the_held_token() {
    let rig = Rig::new().await;
    rig.connect("work", ALICE);
    let held = rig
        .engine
        .token("work", TokenRequest::default())
        .await
        .unwrap();
    assert_eq!(rig.refreshes(), 0, "a fresh grant's token is served as is");

    let fresh = rig
        .engine
        .token_for_challenge("work", &challenge(NBF))
        .await
        .unwrap();
    assert_ne!(fresh.access_token, held.access_token, "a new token");
    let log = refresh_log(&rig);
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].claims_passed, "{log:?}");
    assert_eq!(log[0].client_capabilities, ["cp1"], "{log:?}");
    assert_eq!(health(&rig).await, Health::Healthy);

    // The new token now answers plain requests, without another refresh.
    let again = rig.engine.access_token("work").await.unwrap();
    assert_eq!(again, fresh.access_token);
    assert_eq!(rig.refreshes(), 1);
}

#[tokio::test]
async fn a_challenge_asking_for_mfa_the_grant_lacks_needs_a_reconnect_that_carries_it() {
    let rig = Rig::new().await;
    rig.connect("work", ALICE);
    let err = failure(
        rig.engine
            .token_for_challenge("work", &challenge(ACRS))
            .await,
    );
    assert_eq!(err.kind(), FailureKind::ReconnectNeeded, "{err}");
    assert_eq!(err.failure().and_then(|f| f.code()), Some(50076), "{err}");
    assert_eq!(health(&rig).await, Health::ReconnectNeeded);

    let status = &rig.engine.status(Some("work")).await.unwrap()[0];
    let kept = status.last_failure.as_ref().expect("a failure");
    let kept = parsed(kept.claims_challenge.as_deref());
    assert_eq!(
        kept["access_token"]["acrs"],
        json!({"essential": true, "value": "c1"}),
        "the next sign-in asks for what the resource wants: {kept}"
    );
    let log = refresh_log(&rig);
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].claims_passed, "{log:?}");
    assert_eq!(log[0].code, Some(50076), "{log:?}");

    // Stopped, with no automatic retry (which would not carry the
    // challenge, and whose success would drop it).
    let stopped = failure(rig.engine.refresh("work", false).await);
    assert_eq!(stopped.kind(), FailureKind::ReconnectNeeded, "{stopped}");
    rig.advance(120);
    rig.engine.tick().await.unwrap();
    assert_eq!(rig.refreshes(), 1);
    assert_eq!(health(&rig).await, Health::ReconnectNeeded);
}

#[tokio::test]
async fn a_refusal_without_claims_of_its_own_keeps_the_resources_challenge() {
    let rig = Rig::new().await;
    rig.connect("work", ALICE);
    // The grant died for another reason (a password reset) at the same time.
    rig.fault(json!({"code": 50173, "count": 1}));
    let err = failure(
        rig.engine
            .token_for_challenge("work", &challenge(ACRS))
            .await,
    );
    assert_eq!(err.failure().and_then(|f| f.code()), Some(50173), "{err}");
    let status = &rig.engine.status(Some("work")).await.unwrap()[0];
    let kept = status.last_failure.as_ref().expect("a failure");
    assert_eq!(
        parsed(kept.claims_challenge.as_deref()),
        parsed(Some(ACRS)),
        "the resource's challenge is kept for the sign-in"
    );
}

#[tokio::test]
async fn a_plain_refusal_keeps_no_challenge() {
    let rig = Rig::new().await;
    let id = rig.connect("work", ALICE);
    rig.fault(json!({"code": 50173, "count": 1}));
    rig.expire_access_token(id);
    failure(rig.engine.access_token("work").await);
    let status = &rig.engine.status(Some("work")).await.unwrap()[0];
    let kept = status.last_failure.as_ref().expect("a failure");
    assert_eq!(kept.claims_challenge, None, "{kept:?}");
}

#[tokio::test]
async fn an_openid_account_declares_no_microsoft_capability() {
    let rig = Rig::new().await;
    let issuer = format!(
        "{}/{}/v2.0",
        rig.sim.http_url,
        rig.sim.state.tenant_of(ALICE)
    );
    connect_oidc(&rig, "peer", &issuer);
    rig.engine.refresh("peer", false).await.unwrap();
    rig.engine
        .token_for_challenge("peer", &challenge(NBF))
        .await
        .unwrap();

    let log = refresh_log(&rig);
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(
        log.iter().all(|e| e.client_capabilities.is_empty()),
        "{log:?}"
    );
    assert_eq!(
        log.iter().map(|e| e.claims_passed).collect::<Vec<_>>(),
        [false, true],
        "only the challenge is passed: {log:?}"
    );
}

/// Adds an OpenID Connect account at `issuer` holding a fresh grant of
/// alice's (the simulator's discovery document serves as any provider's).
fn connect_oidc(rig: &Rig, name: &str, issuer: &str) {
    let mut new = NewAccount::oidc(name, issuer, CLIENT);
    new.scopes = SCOPES.split_whitespace().map(str::to_owned).collect();
    let account = rig.store().add_account(&new).expect("account added");
    let grant = GrantRequest {
        upn: ALICE.into(),
        client_id: CLIENT.into(),
        scope: SCOPES.into(),
        spa: false,
        mfa: false,
    };
    let body = rig
        .sim
        .state
        .mint_grant(&grant, &rig.sim.http_url)
        .expect("grant minted");
    let now = rig.now();
    let response = reconnect_oauth::TokenResponse::parse(body.to_string().as_bytes(), now)
        .expect("grant parses");
    rig.vault
        .put(account.id, &response.tokens)
        .expect("vault write");
    let facts = TokenFacts {
        access_expires_at: response.tokens.access_expires_at,
        refresh_issued_at: Some(now),
        refresh_last_used_at: Some(now),
        stored_at: now,
        ..TokenFacts::default()
    };
    rig.store()
        .write(|tx| tx.rewrite_token_facts(account.id, &facts))
        .expect("facts written");
}
