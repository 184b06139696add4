//! The system browser is reached through the desktop portal
//! (`org.freedesktop.portal.OpenURI`) when one is on the session bus, so
//! the sign-in URL, with its `state` and PKCE challenge, is never an
//! argument of an `xdg-open` process that other local users can read in
//! `/proc`. Without a portal, the openers (`xdg-open` and the like) are used
//! as before.
//!
//! The portal is played by this test on the private session bus that
//! `scripts/with-session.sh` gives it; recording stand-ins for every opener
//! sit first on `PATH`.

mod signin_support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reconnect_e2e::harness::binary;
use signin_support::SigninWorld;
use zbus::zvariant::{OwnedObjectPath, OwnedValue};

const ALICE: &str = "alice@contoso.test";

/// The stand-in portal: records each URI and visits it as a browser would
/// (the simulator approves alice without a page).
struct Portal {
    opened: Arc<Mutex<Vec<String>>>,
}

#[zbus::interface(name = "org.freedesktop.portal.OpenURI")]
impl Portal {
    #[zbus(name = "OpenURI")]
    fn open_uri(
        &self,
        _parent_window: &str,
        uri: &str,
        _options: HashMap<String, OwnedValue>,
    ) -> OwnedObjectPath {
        self.opened.lock().expect("lock").push(uri.to_owned());
        let _ = std::process::Command::new("curl")
            .args(["-s", "-L", "--max-time", "30", "-o", "/dev/null", uri])
            .spawn();
        OwnedObjectPath::try_from("/org/freedesktop/portal/desktop/request/1/reconnect")
            .expect("object path")
    }
}

async fn serve_portal() -> (zbus::Connection, Arc<Mutex<Vec<String>>>) {
    let opened = Arc::new(Mutex::new(Vec::new()));
    let portal = Portal {
        opened: opened.clone(),
    };
    let bus = zbus::connection::Builder::session()
        .expect("session bus")
        .name(reconnect_signin::portal::PORTAL_NAME)
        .expect("name")
        .serve_at(reconnect_signin::portal::PORTAL_PATH, portal)
        .expect("object")
        .build()
        .await
        .expect("the stand-in portal is on the bus");
    (bus, opened)
}

async fn signin(world: &SigninWorld, openers: &std::path::Path) -> std::process::Output {
    let path = format!(
        "{}:{}",
        openers.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = tokio::process::Command::from(world.home.command(binary("reconnect")));
    cmd.args(["signin", "work", "--timeout", "60"])
        .env_remove("RECONNECT_BROWSER")
        .env_remove("WAYLAND_DISPLAY")
        .env("DISPLAY", ":99")
        .env("PATH", path)
        .kill_on_drop(true);
    cmd.output().await.expect("reconnect signin runs")
}

// One test: the portal is a name on the whole session bus, so a second test
// running beside this one would see it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_opens_the_sign_in_and_no_opener_process_sees_the_url() {
    let world = SigninWorld::start(Some(ALICE)).await;
    world.add_account("work", &[]).await;
    let (dir, record) = signin_support::stand_in_openers(&world, true);

    // No portal yet: the openers are used, as before.
    let out = signin(&world, &dir).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let used = std::fs::read_to_string(&record).expect("an opener ran");
    assert!(used.contains("xdg-open") || used.contains("gio"), "{used}");
    std::fs::remove_file(&record).expect("reset the record");

    // With a portal on the bus, the URL goes to it over D-Bus only.
    let (_bus, opened) = serve_portal().await;
    let out = signin(&world, &dir).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let opened = opened.lock().expect("lock").clone();
    assert_eq!(opened.len(), 1, "the portal got the URL once: {opened:?}");
    assert!(
        opened[0].starts_with(&world.sim.http_url) && opened[0].contains("code_challenge="),
        "{opened:?}"
    );
    assert!(
        !record.exists(),
        "no opener process was started: {:?}",
        std::fs::read_to_string(&record)
    );
}
