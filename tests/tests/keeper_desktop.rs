//! `reconnect keep` on a desktop: when an account needs a person, the
//! keeper shows a notification through the session bus's notification
//! service (here the stand-in desktop of `reconnect_e2e::desktop_bus`), with
//! the words the engine defines for a keeper without a window. Run inside
//! `scripts/with-session.sh`.

mod keeper_support;

use std::time::Duration;

use keeper_support::{ALICE, DAY, World};
use reconnect_core::health::Notice;
use reconnect_e2e::desktop_bus::Desktop;
use reconnect_e2e::harness::assert_success;
use reconnect_engine::notification::{Click, notification_text_for};

fn once_with_notifications(world: &World) -> String {
    let out = world
        .command(&["keep", "--once"])
        .env_remove("RECONNECT_NO_NOTIFICATIONS")
        .output()
        .expect("keep --once");
    assert_success(&out, "keep --once");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_account_that_needs_an_administrator_is_notified_on_the_desktop() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let desktop = runtime
        .block_on(Desktop::start())
        .expect("the stand-in desktop takes the notification service's name");
    let world = World::start();
    world.connect("work", ALICE);
    once_with_notifications(&world);
    assert!(
        desktop.notifications().is_empty(),
        "a refresh is no news: {:?}",
        desktop.notifications()
    );

    world.fault(serde_json::json!({"code": 50057, "upn": ALICE}));
    world.advance(8 * DAY);
    let log = once_with_notifications(&world);
    let shown = runtime
        .block_on(desktop.wait_for_notifications(
            Duration::from_secs(30),
            "notification",
            |shown| !shown.is_empty(),
        ))
        .unwrap_or_else(|e| panic!("{e}\n{log}"));
    let (title, body) =
        notification_text_for(&[("work".to_owned(), Notice::NeedsAdmin)], Click::Nothing);
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert_eq!(shown[0].summary, title);
    assert_eq!(shown[0].body, body);
    assert_eq!(shown[0].app_name, "Reconnect");
}
