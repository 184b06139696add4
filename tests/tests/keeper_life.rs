//! `reconnect keep` through a simulated 200-day life with nobody touching
//! anything: the simulator's virtual clock and the keeper's move together a
//! day at a time. Keep-alive refreshes come exactly as often as the forecast
//! says, the keeper survives a `kill -9` between rounds and another in the
//! middle of a refresh (its lock held, nothing sent yet), and at the end the
//! connection is healthy with every refresh answered and no grant lost.
//! Run inside `scripts/with-session.sh` (the real Secret Service).

mod keeper_support;

use keeper_support::{ALICE, DAY, World};
use reconnect_e2e::harness::assert_success;

const LIFE_DAYS: i64 = 200;
/// The day the keeper is killed between rounds.
const CRASH_DAY: i64 = 100;

#[test]
fn a_keeper_keeps_a_connection_alive_for_200_days_through_two_crashes() {
    let world = World::start();
    world.connect("work", ALICE);
    // An imported refresh token has no history: the keeper's first round
    // refreshes it, and from then on the forecast knows when to keep it alive.
    let mut keeper = world.keeper(&[]);
    keeper.wait_round(world.now());
    assert_eq!(world.refreshes().len(), 1, "{}", keeper.text());
    let start = world.status("work");
    let time = |key: &str| {
        let value = start.pointer(key).and_then(serde_json::Value::as_i64);
        value.unwrap_or_else(|| panic!("no {key} in {start:#}"))
    };
    let interval = time("/forecast/keep_alive_at") - time("/last_refresh");
    assert!(interval > 0 && interval < 90 * DAY, "{start:#}");
    // The first refresh, then one per forecast interval.
    let due = |day: i64| 1 + usize::try_from(day * DAY / interval).expect("count");

    let mut crashed_mid_refresh = false;
    for day in 1..=LIFE_DAYS {
        world.advance(DAY);
        if day == CRASH_DAY {
            keeper.signal("KILL");
            keeper = world.keeper(&[]);
        }
        if day > CRASH_DAY && due(day) > due(day - 1) && !crashed_mid_refresh {
            // Once: a keeper that dies holding the refresh lock, before it
            // sent anything; the next one must not be stuck behind it.
            crashed_mid_refresh = true;
            keeper.signal("KILL");
            let mut paused = world.keeper(&[
                ("RECONNECT_TEST_PAUSE_AT", "locked"),
                ("RECONNECT_TEST_PAUSE_MS", "600000"),
            ]);
            paused.wait_for("the pause at `locked`", |l| {
                l.starts_with("reconnect-test-paused locked")
            });
            paused.signal("KILL");
            drop(paused);
            keeper = world.keeper(&[]);
        }
        keeper.wait_round(world.now());
        assert_eq!(
            world.refreshes().len(),
            due(day),
            "day {day}: keep-alive refreshes so far; keeper log:\n{}",
            keeper.text()
        );
    }
    assert!(crashed_mid_refresh, "the mid-refresh crash happened");

    assert!(
        world.refreshes().iter().all(|(_, status)| *status == 200),
        "every refresh was answered: {:?}",
        world.refreshes()
    );
    assert_eq!(world.refreshes().len(), due(LIFE_DAYS));
    let end = world.status("work");
    assert_eq!(end["health"]["state"], "healthy", "{end:#}");
    assert_eq!(end["needs_attention"], false, "{end:#}");
    let next = end["forecast"]["keep_alive_at"].as_i64().expect("next");
    assert!(next > world.now(), "the next keep-alive is ahead: {end:#}");
    // The stored grant still works: the last access token expired days ago,
    // so this is one more refresh.
    let token = world.run(&["token", "work"]);
    assert_success(&token, "token after 200 days");
    assert_eq!(world.refreshes().len(), due(LIFE_DAYS) + 1);
    assert_eq!(world.refreshes().last().map(|(_, s)| *s), Some(200));
}
