//! The typed control client against the real simulator on loopback: every
//! call, the typed answers equal to the server's JSON, breaking and
//! restoring a user every way, device codes and the tenant policy, and the
//! error paths (nothing listening, a refusal, an answer that is not JSON).

use reconnect_sim::faults::FaultKind;
use reconnect_sim::{
    AppRegistration, BreakError, BreakKind, ControlClient, ControlError, DeviceStatus,
    FaultRequest, NewUser, Outage, RunningSim, SimConfig, Simulator, TenantPolicy, UNTIL_CLEARED,
    UserStatePatch,
};

const ALICE: &str = "alice@contoso.test";
const BOB: &str = "bob@contoso.test";
const CAROL: &str = "carol@contoso.test";

async fn started() -> (RunningSim, ControlClient) {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let client = ControlClient::new(&sim.http_url).expect("client");
    (sim, client)
}

/// The server's own JSON for `GET /_sim/{path}`.
async fn raw(sim: &RunningSim, path: &str) -> serde_json::Value {
    reqwest::get(format!("{}/_sim/{path}", sim.http_url))
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn users_state_and_revocation_go_through_the_client() {
    let (sim, client) = started().await;
    assert_eq!(client.base_url(), sim.http_url);
    let upns: Vec<String> = client
        .users()
        .await
        .expect("users")
        .users
        .into_iter()
        .map(|u| u.upn)
        .collect();
    assert_eq!(upns, [ALICE, BOB]);
    let new = NewUser {
        upn: CAROL.into(),
        password: Some("P@ss".into()),
    };
    let carol = client.add_user(&new).await.expect("add");
    assert!(carol.has_password && carol.upn == CAROL);
    let patch = UserStatePatch {
        mfa_required: Some(true),
        sign_in_frequency_seconds: Some(60),
        ..UserStatePatch::default()
    };
    let changed = client.set_user_state(CAROL, &patch).await.expect("patch");
    assert!(changed.mfa_required && changed.sign_in_frequency_seconds == Some(60));
    let revocation = client.revoke(CAROL).await.expect("revoke");
    assert_eq!(
        Some(revocation.tokens_valid_from_unix),
        sim.state.user(CAROL).and_then(|u| u.tokens_valid_from)
    );
    let typed = serde_json::to_value(client.users().await.expect("users")).expect("JSON");
    assert_eq!(
        typed,
        raw(&sim, "users").await,
        "typed users equal the server's JSON"
    );
}

#[tokio::test]
async fn faults_outages_clock_log_apps_and_auto_approve_go_through_the_client() {
    let (sim, client) = started().await;
    let code = FaultRequest {
        upn: Some(ALICE.into()),
        count: Some(2),
        ..FaultRequest::code(70_000)
    };
    assert_eq!(client.add_fault(&code).await.expect("code").remaining, 2);
    let outage = FaultRequest {
        retry_after: Some(9),
        ..FaultRequest::outage(Outage::Throttled)
    };
    let queued = client.add_fault(&outage).await.expect("outage");
    assert!(matches!(
        queued.kind,
        FaultKind::Outage {
            outage: Outage::Throttled,
            retry_after: 9,
            ..
        }
    ));
    let faults = client.faults().await.expect("faults");
    assert_eq!(faults.faults.len(), 2);
    assert_eq!(faults.outage_in_force(), Some(Outage::Throttled));
    assert_eq!(
        serde_json::to_value(&faults).ok(),
        Some(raw(&sim, "faults").await)
    );
    client.clear_faults().await.expect("clear");
    assert!(sim.state.faults().is_empty());

    let before = client.clock().await.expect("clock");
    let after = client.advance_clock(3_600).await.expect("advance");
    assert_eq!(after.offset_seconds, 3_600);
    assert!(after.now - before.now >= 3_600);
    assert_eq!(
        serde_json::to_value(client.clock().await.expect("clock")).ok(),
        Some(raw(&sim, "clock").await)
    );

    reqwest::get(format!("{}/common/discovery/v2.0/keys", sim.http_url))
        .await
        .expect("keys");
    let log = client.log().await.expect("log");
    assert_eq!(log.requests.len(), 1, "the control API is not logged");
    assert_eq!(log.requests[0].endpoint, "keys");
    assert_eq!(
        serde_json::to_value(&log).ok(),
        Some(raw(&sim, "log").await)
    );
    client.clear_log().await.expect("clear log");
    assert!(client.log().await.expect("log").requests.is_empty());

    let mut app = AppRegistration::desktop("my-app");
    app.public_client_flows = false;
    assert_eq!(client.register_app(&app).await.ok(), Some(app.clone()));
    assert_eq!(client.app("my-app").await.ok(), Some(app.clone()));
    let listed = client.apps().await.expect("apps");
    assert!(listed.strict, "strict is the default");
    assert_eq!(listed.apps, vec![app]);
    assert!(matches!(
        client.app("other").await,
        Err(ControlError::Refused { status, .. }) if status.as_u16() == 404
    ));
    client.remove_app("my-app").await.expect("remove");
    assert!(client.apps().await.expect("apps").apps.is_empty());
    let approved = client
        .set_auto_approve(Some(BOB))
        .await
        .expect("auto-approve");
    assert_eq!(approved.upn.as_deref(), Some(BOB));
    assert_eq!(client.set_auto_approve(None).await.expect("off").upn, None);
}

#[tokio::test]
async fn every_break_lands_in_the_simulator_and_restore_lifts_it() {
    let (sim, client) = started().await;
    for kind in BreakKind::ALL {
        client
            .break_user(BOB, kind, Some(53_003))
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        let bob = sim.state.user(BOB).expect("bob");
        let fault_codes: Vec<(u32, u32)> = sim
            .state
            .faults()
            .iter()
            .filter_map(|f| match &f.kind {
                FaultKind::Code {
                    code,
                    upn: Some(upn),
                    ..
                } if upn == BOB => Some((*code, f.remaining)),
                _ => None,
            })
            .collect();
        let landed = match kind {
            BreakKind::Idle => bob.idle_limit_seconds == 1,
            BreakKind::Revoked => bob.tokens_valid_from.is_some(),
            BreakKind::Mfa => bob.mfa_required,
            BreakKind::Disabled => bob.disabled,
            BreakKind::Spa => fault_codes == [(700_084, UNTIL_CLEARED)],
            BreakKind::SignInFrequency => bob.sign_in_frequency_seconds == Some(1),
            BreakKind::CaBlocked => bob.ca_blocked,
            BreakKind::Consent => bob.consent_revoked,
            BreakKind::Code => fault_codes == [(53_003, UNTIL_CLEARED)],
        };
        assert!(landed, "{kind} did not land: {bob:?} {fault_codes:?}");
        client
            .add_fault(&FaultRequest::outage(Outage::Drop))
            .await
            .expect("outage");
        let restored = client.restore_user(BOB).await.expect("restore");
        let expected = client
            .users()
            .await
            .expect("users")
            .users
            .into_iter()
            .find(|u| u.upn == ALICE)
            .expect("alice");
        assert_eq!(
            (
                restored.idle_limit_seconds,
                restored.mfa_required,
                restored.disabled,
                restored.ca_blocked,
                restored.consent_revoked,
                restored.sign_in_frequency_seconds
            ),
            (
                expected.idle_limit_seconds,
                false,
                false,
                false,
                false,
                None
            ),
            "{kind}: back to a new user's policies"
        );
        assert!(
            sim.state.faults().is_empty(),
            "{kind}: restore clears every fault"
        );
    }
}

#[tokio::test]
async fn device_codes_and_the_tenant_policy_go_through_the_client() {
    let (sim, client) = started().await;
    let app = AppRegistration::desktop("my-app");
    client.register_app(&app).await.expect("register");
    let issue = || async {
        reqwest::Client::new()
            .post(format!("{}/common/oauth2/v2.0/devicecode", sim.http_url))
            .form(&[("client_id", "my-app"), ("scope", "openid offline_access")])
            .send()
            .await
            .expect("POST")
            .json::<reconnect_sim::DeviceAuthorization>()
            .await
            .expect("JSON")
    };
    let first = issue().await;
    let second = issue().await;
    let list = client.device_codes().await.expect("list");
    assert_eq!(
        list,
        serde_json::from_value(raw(&sim, "devicecodes").await).expect("same JSON")
    );
    assert_eq!(list.device_codes.len(), 2);

    let approved = client
        .approve_device_code(&first.user_code, ALICE)
        .await
        .expect("approve");
    assert_eq!(approved.status, DeviceStatus::Approved);
    assert_eq!(approved.upn.as_deref(), Some(ALICE));
    let declined = client
        .decline_device_code(&second.user_code)
        .await
        .expect("decline");
    assert_eq!(declined.status, DeviceStatus::Declined);
    let again = client.decline_device_code(&second.user_code).await;
    assert!(
        matches!(&again, Err(ControlError::Refused { status, .. }) if status.as_u16() == 409),
        "{again:?}"
    );
    let unknown = client.approve_device_code("NOPE", ALICE).await;
    assert!(
        matches!(&unknown, Err(ControlError::Refused { status, .. }) if status.as_u16() == 404),
        "{unknown:?}"
    );

    let block = TenantPolicy {
        block_device_code: true,
    };
    assert_eq!(
        client
            .set_tenant_policy(&sim.state.tenant_of(ALICE), &block)
            .await
            .expect("set"),
        block
    );
    assert_eq!(
        client.tenant_policy("organizations").await.expect("get"),
        block
    );
    let third = issue().await;
    let refused = client.approve_device_code(&third.user_code, BOB).await;
    assert!(
        matches!(&refused, Err(ControlError::Refused { status, message }) if status.as_u16() == 409 && message.contains("53003")),
        "{refused:?}"
    );
    assert!(client.tenant_policy("fabrikam.test").await.is_err());
}

#[tokio::test]
async fn refusals_carry_the_simulators_message() {
    let (sim, client) = started().await;
    let missing = client
        .set_user_state("zed@contoso.test", &UserStatePatch::default())
        .await;
    match missing {
        Err(ControlError::Refused { status, message }) => {
            assert_eq!(status.as_u16(), 404);
            assert_eq!(message, "no user zed@contoso.test");
        }
        other => panic!("expected a refusal: {other:?}"),
    }
    let taken = client
        .add_user(&NewUser {
            upn: ALICE.into(),
            password: None,
        })
        .await;
    assert!(
        matches!(&taken, Err(ControlError::Refused { status, .. }) if status.as_u16() == 409),
        "{taken:?}"
    );
    let back = client.advance_clock(-5).await.expect_err("backwards");
    assert_eq!(
        back.to_string(),
        "the simulator answered 400 Bad Request: the clock only moves forward"
    );
    let zero = client
        .add_fault(&FaultRequest {
            count: Some(0),
            ..FaultRequest::code(1)
        })
        .await;
    assert!(zero.is_err_and(|e| e.to_string().contains("count must be at least 1")));
    let no_code = client.break_user(BOB, BreakKind::Code, None).await;
    assert!(
        matches!(no_code, Err(ControlError::Break(BreakError::NoCode))),
        "{no_code:?}"
    );
    assert!(sim.state.faults().is_empty(), "nothing was queued");
}

#[tokio::test]
async fn nothing_listening_is_not_reachable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let client = ControlClient::new(&url).expect("client");
    let err = client.clock().await.expect_err("nothing listens");
    assert!(matches!(err, ControlError::Unreachable { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("the simulator is not reachable at {url}")
    );
    assert!(
        std::error::Error::source(&err).is_some(),
        "the cause is kept"
    );
}

#[tokio::test]
async fn an_answer_that_is_not_json_is_malformed() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut buffer = [0u8; 4096];
        let _ = stream.read(&mut buffer).await;
        let answer = "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello";
        stream.write_all(answer.as_bytes()).await.expect("write");
    });
    let err = ControlClient::new(&url)
        .expect("client")
        .clock()
        .await
        .expect_err("not JSON");
    assert!(matches!(err, ControlError::Malformed { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the simulator's answer to GET /_sim/clock could not be read"
    );
    server.await.expect("server");
}
