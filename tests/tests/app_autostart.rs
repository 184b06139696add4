//! Start at login, end to end on the real app: the setting in the window
//! and the tray's check item write and remove the XDG autostart entry (with
//! `--background` and the real binary), a real profile's first account turns
//! it on by default, and the choice lands in the profile's `config.toml`.
//! Started with `--background` (what that entry runs), the app maps no
//! window, while its tray and notifications work; launching it again opens
//! the window, and the tray's Quit ends it.
//!
//! The autostart plugin writes the entry under `$HOME/.config/autostart`,
//! XDG's default config home; the app is started with `XDG_CONFIG_HOME` set
//! to that directory, as on a desktop that does not move it. The test plays
//! the desktop's notification server and tray host
//! (`reconnect_e2e::desktop_bus`). Needs Xvfb, tauri-driver,
//! WebKitWebDriver, x11-utils and a session bus with a Secret Service (run
//! through scripts/test.sh).

mod app_support;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use app_support::{App, PATIENCE, eventually};
use reconnect_e2e::desktop_bus::Desktop;
use reconnect_e2e::harness::{KillOnDrop, TempHome, binary};
use serde_json::json;

/// Whether process `pid` maps a top-level window titled "Reconnect".
fn shows_a_window(pid: u32) -> bool {
    let tree = run("xwininfo", &["-root", "-children"]);
    tree.lines()
        .filter(|l| l.contains("\"Reconnect\":"))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|id| {
            run("xprop", &["-id", id, "_NET_WM_PID"])
                .trim()
                .ends_with(&format!("= {pid}"))
        })
        .any(|id| run("xwininfo", &["-id", id]).contains("Map State: IsViewable"))
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} could not run: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An isolated home whose XDG config home is `$HOME/.config`.
struct LoginHome {
    home: TempHome,
}

impl LoginHome {
    fn new() -> Self {
        let home = TempHome::new();
        std::fs::create_dir_all(home.path().join("home/.config")).expect("config home");
        Self { home }
    }

    fn config_home(&self) -> PathBuf {
        self.home.path().join("home/.config")
    }

    /// The entry a desktop starts at login.
    fn entry(&self) -> PathBuf {
        self.config_home().join("autostart/Reconnect.desktop")
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let path = |p: PathBuf| p.to_str().expect("utf-8 path").to_owned();
        vec![
            ("HOME", path(self.home.path().join("home"))),
            ("XDG_CONFIG_HOME", path(self.config_home())),
            ("RECONNECT_HOME", path(self.home.reconnect_home())),
        ]
    }

    fn config_toml(&self) -> String {
        std::fs::read_to_string(self.home.reconnect_home().join("config.toml")).unwrap_or_default()
    }
}

/// Waits until the entry starts the real binary in the background, or
/// until it is gone. The plugin creates the file before it writes it, so an
/// empty entry read in between is "not yet", not a wrong entry.
async fn wait_for_entry(home: &LoginHome, present: bool) {
    let expected = format!("Exec={} --background", binary("reconnect-app").display());
    let entry = home.entry();
    let what = if present {
        format!("the entry written with {expected:?}")
    } else {
        "the entry removed".to_owned()
    };
    eventually(&what, async || {
        let text = std::fs::read_to_string(&entry).ok();
        let written = text.is_some_and(|t| t.lines().any(|l| l == expected));
        let gone = !entry.exists();
        (if present { written } else { gone }).then_some(())
    })
    .await;
}

/// Waits until the settings view shows the box `checked` or not.
async fn wait_for_box(app: &App, checked: bool) {
    let js = "const b = document.querySelector('#start-at-login'); return b ? b.checked : null;";
    eventually("the settings view following", async || {
        let now = app.client.execute(js, vec![]).await.ok()?;
        (now.as_bool() == Some(checked)).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn start_at_login_writes_and_removes_the_login_entry() {
    let desktop = Desktop::start().await.expect("the stand-in desktop");
    let home = LoginHome::new();
    let env = home.env();
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.push(("RECONNECT_PROFILE", "default"));
    let app = App::start(&all).await;
    let item = desktop.wait_for_tray(PATIENCE).await.expect("the tray");

    // A real profile without accounts does not start at login.
    app.go("#/settings").await;
    wait_for_box(&app, false).await;
    assert!(!home.entry().exists(), "no entry for an empty profile");

    // Its first account turns the default on.
    let added = app
        .invoke(
            "add_account",
            json!({ "request": { "name": "work", "provider": { "kind": "entra", "at": { "cloud": "global" } },
                "client_id": "11111111-2222-3333-4444-555555555555", "scopes": [] } }),
        )
        .await;
    assert!(added.get("ok").is_some(), "{added}");
    wait_for_entry(&home, true).await;
    app.go("#/").await;
    app.go("#/settings").await;
    wait_for_box(&app, true).await;

    // Turned off in the window: the entry goes, the choice is the profile's.
    app.click("#start-at-login").await;
    wait_for_entry(&home, false).await;
    wait_for_box(&app, false).await;
    assert!(
        home.config_toml().contains("start_at_login = false"),
        "{}",
        home.config_toml()
    );

    // Turned on in the tray: the entry is back and the window follows.
    desktop
        .click_tray_menu(&item, "Start at login")
        .await
        .expect("the tray's check item");
    wait_for_entry(&home, true).await;
    wait_for_box(&app, true).await;
    assert!(home.config_toml().contains("start_at_login = true"));
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, x11-utils and a Secret Service: run through scripts/test.sh"]
async fn started_in_the_background_it_shows_no_window_but_its_tray_and_notifications() {
    let desktop = Desktop::start().await.expect("the stand-in desktop");
    let home = TempHome::new();
    let launch = |args: &[&str]| {
        let mut cmd = home.command(binary("reconnect-app"));
        cmd.args(args)
            .env("RECONNECT_PROFILE", "demo")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    let mut app = KillOnDrop(launch(&["--background"]).spawn().expect("the app starts"));
    let pid = app.0.id();

    // The tray and the notifications work: the demo's three broken accounts
    // are counted and announced.
    let item = desktop.wait_for_tray(PATIENCE).await.expect("the tray");
    desktop
        .wait_for_tray_state(&item, PATIENCE, "3 need attention", |s| Ok(s.label == "3"))
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let shown = desktop
        .wait_for_notifications(PATIENCE, "the broken accounts' notification", |n| {
            n.iter().any(|n| n.summary.contains("3 connections"))
        })
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        !shown.iter().any(|n| n.summary.contains("keeps running")),
        "nothing was closed, so nothing is explained: {shown:?}"
    );
    // By then the app is fully up, and no window of it is on screen.
    assert!(!shows_a_window(pid), "a login start shows no window");

    // Opening Reconnect again shows the window of the running app.
    let mut again = launch(&[]).spawn().expect("a second launch");
    let status = eventually("the second launch handing over", async || {
        again.try_wait().expect("wait")
    })
    .await;
    assert!(status.success(), "{status}");
    eventually("the window showing", async || {
        shows_a_window(pid).then_some(())
    })
    .await;

    desktop
        .click_tray_menu(&item, "Quit")
        .await
        .expect("the tray's Quit");
    let status = eventually("the app ending", async || app.0.try_wait().expect("wait")).await;
    assert!(status.success(), "Quit ends the app normally: {status}");
}
