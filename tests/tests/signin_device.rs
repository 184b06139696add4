//! `reconnect signin NAME --device-code` end to end: the real CLI and
//! keychain (run under scripts/with-session.sh), the simulator in this
//! process, and the "other device" played through the simulator's control
//! methods (approve, decline, the tenant's policy, the virtual clock).
//! Covers a sign-in that ends healthy, pending → slow_down → approved with
//! the intervals on the simulator's clock, a decline, an expired code, a
//! tenant that blocks the flow, Ctrl-C, and `--json`. A first poll comes
//! after the simulator's 5 s interval, so each test takes 5–20 s.

mod signin_support;

use reconnect_sim::{DeviceStatus, FaultRequest, TenantPolicy};
use signin_support::{SigninWorld, stderr};

const ALICE: &str = "alice@contoso.test";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A simulator that approves nothing by itself, and an account `work`.
async fn world() -> SigninWorld {
    let world = SigninWorld::start(None).await;
    world.add_account("work", &[]).await;
    world
}

fn health(status: &serde_json::Value) -> String {
    let h = &status["health"];
    h.as_str()
        .or_else(|| h["state"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| h.to_string())
}

/// Nothing was stored: no token can be had for the account.
async fn nothing_stored(world: &SigninWorld) {
    let token = world.reconnect(&["token", "work"]).await;
    assert_ne!(token.status.code(), Some(0), "{}", stderr(&token));
    assert!(token.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_approved_on_another_device_connects_the_account_healthy() {
    let world = world().await;
    let mut run = world.spawn(&["signin", "work", "--device-code"], &[]);
    let code = world.issued_device_code().await;
    let shown = run.stderr_line(|l| l.contains(&code.user_code)).await;
    assert!(shown.contains("/devicelogin"), "the page is named: {shown}");
    assert_eq!(code.status, DeviceStatus::Pending);
    world
        .sim
        .state
        .approve_device_code(&code.user_code, ALICE, None)
        .expect("approved");
    let ended = run.finish().await;
    assert_eq!(ended.code, Some(0), "{}", ended.stderr);
    assert!(
        ended.stderr.contains("connected as alice@contoso.test"),
        "{}",
        ended.stderr
    );
    assert!(ended.stdout.is_empty(), "without --json, nothing on stdout");

    let token = world.reconnect(&["token", "work"]).await;
    assert_eq!(token.status.code(), Some(0), "{}", stderr(&token));
    assert!(!String::from_utf8_lossy(&token.stdout).trim().is_empty());
    let status = world.status("work").await;
    assert_eq!(health(&status), "healthy", "{status:#}");
    let polls = world.device_polls(&code.user_code);
    assert_eq!(polls.last().map(|p| p.status), Some(200), "{polls:?}");
    assert!(
        polls
            .iter()
            .all(|p| p.grant_type.as_deref() == Some(DEVICE_GRANT))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_then_slow_down_then_approved_keeps_the_longer_interval() {
    let world = world().await;
    let run = world.spawn(&["signin", "work", "--device-code"], &[]);
    let code = world.issued_device_code().await;
    world.wait_for_polls(&code.user_code, 1).await;
    // The provider asks the next poll to slow down.
    world
        .sim
        .state
        .add_fault(FaultRequest {
            code: Some(70016),
            error: Some("slow_down".into()),
            count: Some(1),
            ..FaultRequest::default()
        })
        .expect("fault queued");
    world.wait_for_polls(&code.user_code, 2).await;
    world
        .sim
        .state
        .approve_device_code(&code.user_code, ALICE, None)
        .expect("approved");
    let ended = run.finish().await;
    assert_eq!(ended.code, Some(0), "{}", ended.stderr);

    let polls = world.device_polls(&code.user_code);
    let answers: Vec<Option<&str>> = polls.iter().map(|p| p.error.as_deref()).collect();
    assert_eq!(
        answers,
        [Some("authorization_pending"), Some("slow_down"), None],
        "{polls:#?}"
    );
    let gaps: Vec<i64> = polls.windows(2).map(|w| w[1].unix - w[0].unix).collect();
    assert!(gaps[0] >= 5, "polled at the 5 s interval: {gaps:?}");
    assert!(gaps[1] >= 10, "slow_down added 5 s: {gaps:?}");
    assert!(gaps[1] < 15, "and no more: {gaps:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_code_ends_with_exit_5_and_stores_nothing() {
    let world = world().await;
    let run = world.spawn(&["signin", "work", "--device-code"], &[]);
    let code = world.issued_device_code().await;
    world
        .sim
        .state
        .decline_device_code(&code.user_code)
        .expect("declined");
    let ended = run.finish().await;
    assert_eq!(ended.code, Some(5), "{}", ended.stderr);
    assert!(
        ended.stderr.contains("declined on the other device"),
        "{}",
        ended.stderr
    );
    nothing_stored(&world).await;
    let events = world.reconnect(&["events", "work", "--json"]).await;
    let text = String::from_utf8_lossy(&events.stdout);
    assert!(
        text.contains("declined"),
        "the attempt is in the history: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_code_ends_with_exit_5() {
    let world = world().await;
    let run = world.spawn(&["signin", "work", "--device-code"], &[]);
    let code = world.issued_device_code().await;
    world.sim.state.advance_clock(901).expect("clock moves");
    let ended = run.finish().await;
    assert_eq!(ended.code, Some(5), "{}", ended.stderr);
    assert!(ended.stderr.contains("code expired"), "{}", ended.stderr);
    let polls = world.device_polls(&code.user_code);
    assert_eq!(polls.len(), 1, "polling stopped at once: {polls:?}");
    assert_eq!(polls[0].error.as_deref(), Some("expired_token"));
    nothing_stored(&world).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_that_blocks_device_codes_gets_the_other_ways_named() {
    let world = world().await;
    world
        .sim
        .state
        .set_tenant_policy(
            "organizations",
            TenantPolicy {
                block_device_code: true,
            },
        )
        .expect("policy set");
    let run = world.spawn(&["signin", "work", "--device-code"], &[]);
    let code = world.issued_device_code().await;
    // The user signs in on the other device; the policy refuses the flow.
    let refused = world
        .sim
        .state
        .approve_device_code(&code.user_code, ALICE, None);
    assert!(refused.is_err(), "the policy blocks the approval");
    let ended = run.finish().await;
    let err = &ended.stderr;
    assert_eq!(ended.code, Some(3), "an admin's policy: {err}");
    assert!(err.contains("AADSTS53003"), "{err}");
    assert!(err.contains("Conditional Access"), "{err}");
    assert!(
        err.contains("reconnect signin work\n") || err.contains("reconnect signin work "),
        "{err}"
    );
    assert!(err.contains("--no-browser"), "{err}");
    assert!(err.contains("ssh -L"), "{err}");
    nothing_stored(&world).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_waiting_ends_with_exit_5_and_stores_nothing() {
    let world = world().await;
    let mut run = world.spawn(&["signin", "work", "--device-code"], &[]);
    let code = world.issued_device_code().await;
    run.stderr_line(|l| l.contains(&code.user_code)).await;
    let pid = run.pid().to_string();
    let kill = tokio::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .expect("kill runs");
    assert!(kill.success());
    let ended = run.finish().await;
    assert_eq!(ended.code, Some(5), "{}", ended.stderr);
    assert!(ended.stderr.contains("cancelled"), "{}", ended.stderr);
    // Approving now changes nothing: nobody polls any more.
    let _ = world
        .sim
        .state
        .approve_device_code(&code.user_code, ALICE, None);
    nothing_stored(&world).await;
    assert!(
        world
            .device_polls(&code.user_code)
            .iter()
            .all(|p| p.status != 200),
        "no tokens were issued"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_prints_one_object_with_the_rfc_8628_names_before_polling() {
    let world = world().await;
    let mut run = world.spawn(&["signin", "work", "--device-code", "--json"], &[]);
    let line = run.stdout_line().await;
    let code = world.issued_device_code().await;
    assert!(
        world.device_polls(&code.user_code).is_empty(),
        "printed before the first poll"
    );
    let shown: serde_json::Value = serde_json::from_str(&line).expect("one JSON object");
    assert_eq!(shown["user_code"], code.user_code.as_str());
    assert!(
        shown["verification_uri"]
            .as_str()
            .is_some_and(|u| u.starts_with(&world.sim.http_url)),
        "{shown}"
    );
    assert_eq!(shown["expires_in"], 900);
    assert_eq!(shown["interval"], 5);
    assert!(shown["message"].is_string(), "{shown}");
    assert!(
        shown.get("device_code").is_none(),
        "the device code stays secret"
    );
    world
        .sim
        .state
        .approve_device_code(&code.user_code, ALICE, None)
        .expect("approved");
    let ended = run.finish().await;
    assert_eq!(ended.code, Some(0), "{}", ended.stderr);
    assert_eq!(
        ended.stdout.lines().count(),
        1,
        "one object: {}",
        ended.stdout
    );
}
