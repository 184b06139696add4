//! `reconnect signin` end to end, scripted: the real CLI, the real keychain
//! (run under scripts/with-session.sh), the simulator with auto-approve, and
//! shell-script "browsers". Covers a first connect, a forged callback, a
//! closed browser (timeout), Ctrl-C, a busy port, an error callback and the
//! same-account guard.

mod signin_support;

use std::time::Duration;

use signin_support::{BrowserScript, SigninWorld, stderr};

const ALICE: &str = "alice@contoso.test";
const BOB: &str = "bob@contoso.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_sign_in_connects_a_new_account() {
    let world = SigninWorld::start(Some(ALICE)).await;
    world.add_account("work", &[]).await;
    let (browser, urls) = world.browser(BrowserScript::Curl);
    let out = world
        .reconnect(&["signin", "work", "--browser", &browser])
        .await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("connected as alice@contoso.test"), "{err}");
    let url = SigninWorld::last_url(&urls).expect("the browser got the URL");
    assert!(
        err.contains(url.as_str()),
        "the URL is printed for copying: {err}"
    );
    assert!(url.as_str().starts_with(&world.sim.http_url));
    assert!(out.stdout.is_empty(), "progress goes to stderr only");

    let token = world.reconnect(&["token", "work"]).await;
    assert_eq!(token.status.code(), Some(0), "{}", stderr(&token));
    assert!(!String::from_utf8_lossy(&token.stdout).trim().is_empty());
    let accounts = world.reconnect(&["accounts", "--json"]).await;
    let text = String::from_utf8_lossy(&accounts.stdout);
    assert!(text.contains(ALICE), "the identity is recorded: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_callback_with_a_wrong_state_is_refused_and_the_real_one_connects() {
    let world = SigninWorld::start(Some(ALICE)).await;
    world.add_account("work", &[]).await;
    let (browser, _) = world.browser(BrowserScript::ForgedFirst);
    let out = world
        .reconnect(&["signin", "work", "--browser", &browser])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let forged = std::fs::read_to_string(world.home.path().join("forged-status.txt")).unwrap();
    assert_eq!(forged.trim(), "400", "the forged callback got a 400 page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_browser_times_out_with_exit_5_and_a_clear_message() {
    let world = SigninWorld::start(Some(ALICE)).await;
    world.add_account("work", &[]).await;
    let (browser, _) = world.browser(BrowserScript::RecordOnly);
    let started = std::time::Instant::now();
    let out = world
        .reconnect(&["signin", "work", "--browser", &browser, "--timeout", "2"])
        .await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains("no answer from the browser within 2 s"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    let events = world.reconnect(&["events", "work", "--json"]).await;
    let text = String::from_utf8_lossy(&events.stdout);
    assert!(
        text.contains("cancelled"),
        "the attempt is in the history: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_with_exit_5() {
    let world = SigninWorld::start(Some(ALICE)).await;
    world.add_account("work", &[]).await;
    let (browser, urls) = world.browser(BrowserScript::RecordOnly);
    let mut cmd = tokio::process::Command::from(
        world
            .home
            .command(reconnect_e2e::harness::binary("reconnect")),
    );
    cmd.args(["signin", "work", "--browser", &browser, "--timeout", "120"])
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let child = cmd.spawn().unwrap();
    let pid = child.id().unwrap().to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while SigninWorld::last_url(&urls).is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the browser was never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let kill = tokio::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .unwrap();
    assert!(kill.success());
    let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("cancelled"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_redirect_port_is_reported_and_a_range_avoids_it() {
    let world = SigninWorld::start(Some(ALICE)).await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let only = port.to_string();
    world
        .add_account("pinned", &["--redirect-ports", &only])
        .await;
    let (browser, _) = world.browser(BrowserScript::Curl);
    let out = world
        .reconnect(&["signin", "pinned", "--browser", &browser])
        .await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no free port") && err.contains(&only), "{err}");

    let range = format!("{port}-{}", port.saturating_add(20));
    world
        .add_account("ranged", &["--redirect-ports", &range])
        .await;
    let out = world
        .reconnect(&["signin", "ranged", "--browser", &browser])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_callback_ends_with_the_decoded_reason() {
    let world = SigninWorld::start(Some(ALICE)).await;
    world.add_account("work", &[]).await;
    let patch = reconnect_sim::UserStatePatch {
        disabled: Some(true),
        ..Default::default()
    };
    world.sim.state.set_user_state(ALICE, &patch).unwrap();
    let (browser, _) = world.browser(BrowserScript::Curl);
    let out = world
        .reconnect(&["signin", "work", "--browser", &browser])
        .await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "an admin must act: {err}");
    assert!(err.contains("AADSTS50057"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_as_someone_else_keeps_the_connection_and_says_who_is_who() {
    let world = SigninWorld::start(Some(ALICE)).await;
    world.add_account("work", &[]).await;
    let (browser, _) = world.browser(BrowserScript::Curl);
    let first = world
        .reconnect(&["signin", "work", "--browser", &browser])
        .await;
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let before = world.reconnect(&["token", "work"]).await;
    assert_eq!(before.status.code(), Some(0), "{}", stderr(&before));

    world.sim.state.set_auto_approve(Some(BOB));
    let out = world
        .reconnect(&["signin", "work", "--browser", &browser, "--select-account"])
        .await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("signed in as bob@contoso.test"), "{err}");
    assert!(err.contains("belongs to alice@contoso.test"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");

    let after = world.reconnect(&["token", "work"]).await;
    assert_eq!(
        after.status.code(),
        Some(0),
        "the old connection still works: {}",
        stderr(&after)
    );
    assert_eq!(
        before.stdout, after.stdout,
        "the stored tokens were not replaced"
    );
    let accounts = String::from_utf8_lossy(&world.reconnect(&["accounts", "--json"]).await.stdout)
        .into_owned();
    assert!(
        accounts.contains(ALICE) && !accounts.contains(BOB),
        "{accounts}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keychain_it_fails_before_the_browser_opens() {
    let world = SigninWorld::start(Some(ALICE)).await;
    world.add_account("work", &[]).await;
    let (browser, urls) = world.browser(BrowserScript::Curl);
    let runtime = world.home.path().join("no-bus-here");
    std::fs::create_dir_all(&runtime).unwrap();
    let mut cmd = tokio::process::Command::from(
        world
            .home
            .command(reconnect_e2e::harness::binary("reconnect")),
    );
    cmd.args(["signin", "work", "--browser", &browser])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", &runtime);
    let out = cmd.output().await.unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no keychain"), "{err}");
    assert!(
        SigninWorld::last_url(&urls).is_none(),
        "the browser was not started"
    );
    assert!(
        world
            .sim
            .state
            .log()
            .iter()
            .all(|e| e.endpoint != "authorize")
    );
}
