//! `reconnect keep` as a process: one keeper per profile (a second one, and
//! `keep --once`, refuse with exit 5 and name the keeper's PID while `token`
//! works beside it), SIGTERM while a refresh is held at the simulator or at
//! a pause point (exit 0 within the five seconds promised, and the account's
//! tokens still work afterwards), and `keep --once` doing what is due.
//! Run inside `scripts/with-session.sh` (the real Secret Service).

mod keeper_support;

use std::time::Duration;

use keeper_support::{ALICE, DAY, Keeper, World};
use reconnect_e2e::harness::assert_success;

/// A world with account `work` that the keeper has refreshed once.
fn kept_world() -> (World, Keeper) {
    let world = World::start();
    world.connect("work", ALICE);
    let mut keeper = world.keeper(&[]);
    keeper.wait_for("the first refresh", |l| l.contains("work: refreshed"));
    (world, keeper)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_second_keeper_refuses_and_names_the_first_while_token_still_works() {
    let (world, keeper) = kept_world();
    for args in [&["keep"][..], &["keep", "--once"][..]] {
        let out = world.run(args);
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(5), "{args:?}: {said}");
        assert!(
            said.contains(&format!("`reconnect keep` (PID {})", keeper.pid())),
            "{args:?} names the keeper: {said}"
        );
    }
    let token = world.run(&["token", "work"]);
    assert_success(&token, "token beside a keeper");
    assert!(!token.stdout.is_empty());
    let status = world.run(&["status", "work"]);
    assert_success(&status, "status beside a keeper");
}

/// SIGTERM now; the keeper must end with 0 within five seconds.
fn terminate(keeper: &mut Keeper) {
    keeper.signal("TERM");
    let status = keeper.wait_exit(Duration::from_secs(5));
    let status = status.unwrap_or_else(|| {
        panic!(
            "the keeper was still running 5 s after SIGTERM:\n{}",
            keeper.text()
        )
    });
    assert_eq!(status.code(), Some(0), "{}", keeper.text());
}

/// The account works afterwards: healthy, and a token that needs a refresh
/// (the last access token expired days ago) is issued.
fn assert_tokens_work(world: &World) {
    let token = world.run(&["token", "work"]);
    assert_success(&token, "token after the keeper stopped");
    let status = world.status("work");
    assert_eq!(status["health"]["state"], "healthy", "{status:#}");
    assert_eq!(world.refreshes().last().map(|(_, s)| *s), Some(200));
}

#[test]
fn sigterm_while_the_simulator_holds_a_refresh_exits_0_and_loses_nothing() {
    let (world, mut keeper) = kept_world();
    world.fault(serde_json::json!({"outage": "slow", "count": 1, "delay_ms": 60_000}));
    world.advance(8 * DAY);
    // The keep-alive is due: wait until the simulator holds its request.
    let deadline = std::time::Instant::now() + keeper_support::PATIENCE;
    while !world.sim.state.faults().is_empty() {
        assert!(std::time::Instant::now() < deadline, "{}", keeper.text());
        std::thread::sleep(Duration::from_millis(20));
    }
    terminate(&mut keeper);
    assert!(
        keeper.text().contains("abandoned"),
        "the keeper says the refresh was dropped:\n{}",
        keeper.text()
    );
    assert_tokens_work(&world);
}

#[test]
fn sigterm_while_a_refresh_holds_its_lock_exits_0_and_loses_nothing() {
    let world = World::start();
    world.connect("work", ALICE);
    let mut keeper = world.keeper(&[
        ("RECONNECT_TEST_PAUSE_AT", "locked"),
        ("RECONNECT_TEST_PAUSE_MS", "600000"),
    ]);
    keeper.wait_for("the pause at `locked`", |l| {
        l.starts_with("reconnect-test-paused locked")
    });
    terminate(&mut keeper);
    assert_tokens_work(&world);
}

#[test]
fn keep_once_runs_what_is_due_and_nothing_else() {
    let world = World::start();
    world.connect("work", ALICE);
    let first = world.run(&["keep", "--once"]);
    assert_success(&first, "keep --once");
    assert!(
        stderr(&first).contains("work: refreshed"),
        "{}",
        stderr(&first)
    );
    assert_eq!(world.refreshes().len(), 1);

    let idle = world.run(&["keep", "--once"]);
    assert_success(&idle, "keep --once with nothing due");
    assert_eq!(world.refreshes().len(), 1, "{}", stderr(&idle));

    world.advance(8 * DAY);
    let due = world.run(&["keep", "--once"]);
    assert_success(&due, "keep --once with a keep-alive due");
    assert_eq!(world.refreshes().len(), 2, "{}", stderr(&due));
    assert!(stderr(&due).contains("1 refreshed"), "{}", stderr(&due));
}
