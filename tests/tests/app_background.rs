//! Always on, end to end on the real app: closing the window hides it and
//! the process, the tray and the scheduler keep running (a keep-alive point
//! passed on the demo's clock brings the keep-alive refresh to the
//! simulator), the first close is explained by one notification, launching
//! the app again brings the window back, and the tray's Quit ends the
//! process. And one keeper per data directory: while `reconnect keep` keeps
//! the profile (the real one, and the test process holding the keeper lock
//! as it, to move the demo's clock past a keep-alive point), the app names
//! it, runs no scheduler, and takes over once the lock is free.
//!
//! The window is closed the way a desktop closes it when its close button
//! is clicked: the window manager's `WM_DELETE_WINDOW` message (sent here
//! with Xlib). WebDriver's own "close window" cannot stand in for it: it
//! makes WebKit close the page, which the webview destroys outright, and
//! WebKitWebDriver then ends the session and kills the app. The test plays
//! the desktop's notification server and tray host
//! (`reconnect_e2e::desktop_bus`). Needs Xvfb, tauri-driver,
//! WebKitWebDriver, python3 and a session bus with a Secret Service (run
//! through scripts/test.sh).

mod app_support;

use std::path::Path;
use std::process::{Command, Stdio};

use app_support::{App, PATIENCE, eventually};
use reconnect_e2e::desktop_bus::{Desktop, Picture, TrayItem};
use reconnect_e2e::harness::{TempHome, binary, workspace_root};
use reconnect_sim::ControlClient;
use reconnect_store::{Home, KeeperKind, KeeperLock};
use serde_json::json;

/// Eight days: past the demo's keep-alive point (a week after last use).
const PAST_KEEP_ALIVE: i64 = 8 * 86_400;

/// The demo accounts that start broken.
const DEMO_BROKEN: [&str; 3] = ["bianca-files", "carlos-crm", "diego-teams"];

/// Top-level X windows titled "Reconnect" that process `pid` owns, with
/// whether each is mapped (viewable).
fn reconnect_windows(pid: u32) -> Vec<(String, bool)> {
    let tree = run("xwininfo", &["-root", "-children"]);
    tree.lines()
        .filter(|l| l.contains("\"Reconnect\":"))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|id| {
            run("xprop", &["-id", id, "_NET_WM_PID"])
                .trim()
                .ends_with(&format!("= {pid}"))
        })
        .map(|id| {
            let info = run("xwininfo", &["-id", &id]);
            let viewable = info.contains("Map State: IsViewable");
            (id, viewable)
        })
        .collect()
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} could not run: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether process `pid` still runs (a zombie has ended).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit(") ").next().map(|r| !r.starts_with('Z')))
        .unwrap_or(false)
}

/// Asks window `id` to close as a window manager does when its close
/// button is clicked (`WM_PROTOCOLS` / `WM_DELETE_WINDOW`).
fn click_close_button(id: &str) {
    const SCRIPT: &str = r#"
import ctypes, sys
x = ctypes.cdll.LoadLibrary("libX11.so.6")
x.XOpenDisplay.restype = ctypes.c_void_p
x.XInternAtom.restype = ctypes.c_ulong
x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
x.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
x.XCloseDisplay.argtypes = [ctypes.c_void_p]
class Message(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("window", ctypes.c_ulong),
                ("message_type", ctypes.c_ulong), ("format", ctypes.c_int), ("data", ctypes.c_long * 5)]
class Event(ctypes.Union):
    _fields_ = [("xclient", Message), ("pad", ctypes.c_long * 24)]
display = x.XOpenDisplay(None)
if not display:
    sys.exit("no X display")
window = int(sys.argv[1], 16)
event = Event()
event.xclient.type = 33  # ClientMessage
event.xclient.window = window
event.xclient.message_type = x.XInternAtom(display, b"WM_PROTOCOLS", 0)
event.xclient.format = 32
event.xclient.data[0] = x.XInternAtom(display, b"WM_DELETE_WINDOW", 0)
x.XSendEvent(display, window, 0, 0, ctypes.byref(event))
x.XSync(display, 0)
x.XCloseDisplay(display)
"#;
    let out = Command::new("python3")
        .args(["-c", SCRIPT, id])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the close message was not sent: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The process that keeps `data_dir`, as its lock file names it.
fn keeper_of(data_dir: &Path) -> Option<(u32, Option<KeeperKind>)> {
    let home = Home::at(data_dir).ok()?;
    let keeper = KeeperLock::holder(&home).ok()??;
    Some((keeper.pid?, keeper.kind))
}

/// The demo simulator's control API, found from the issuer the add-account
/// form offers (`<simulator>/<tenant>/v2.0`).
async fn simulator(app: &App) -> ControlClient {
    let info = app.invoke("app_info", json!({})).await;
    let issuer = info["ok"]["add_defaults"]["issuer"]
        .as_str()
        .unwrap_or_else(|| panic!("the demo offers its simulator's issuer: {info}"));
    let base = issuer
        .trim_end_matches("/v2.0")
        .rsplit_once('/')
        .map(|(base, _tenant)| base)
        .expect("an issuer URL");
    ControlClient::new(base).expect("the simulator's control API")
}

/// The users whose refresh tokens reached the simulator at or after `since`
/// (virtual time).
async fn refreshed_since(sim: &ControlClient, since: i64) -> Vec<String> {
    let log = sim.log().await.expect("the simulator's log");
    log.requests
        .into_iter()
        .filter(|r| r.endpoint == "token" && r.grant_type.as_deref() == Some("refresh_token"))
        .filter(|r| r.unix >= since)
        .map(|r| r.user.unwrap_or_default())
        .collect()
}

/// Moves the demo's clock (the tester panel's command) and returns the new
/// virtual now.
async fn advance_clock(app: &App, seconds: i64) -> i64 {
    let moved = app
        .invoke("tester_advance_clock", json!({ "seconds": seconds }))
        .await;
    moved["ok"]
        .as_i64()
        .unwrap_or_else(|| panic!("the clock moved: {moved}"))
}

async fn wait_for_tray_label(desktop: &Desktop, item: &TrayItem, label: &str) {
    let attention = Picture::load(&workspace_root().join("icons/tray-attention.png"))
        .expect("the shipped attention picture");
    desktop
        .wait_for_tray_state(item, PATIENCE, &format!("label {label}"), |s| {
            let file = s.icon_file().ok_or_else(|| anyhow::anyhow!("no icon"))?;
            Ok(s.label == label && Picture::load(&file)? == attention)
        })
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
}

/// Launches the app again on the same data, as a person does from the
/// menu: the running instance opens its window and the new one exits.
async fn launch_again(app: &App, env: &[(&str, &str)]) {
    let mut cmd = app.home.command(binary("reconnect-app"));
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut second = cmd.spawn().expect("a second launch");
    let status = eventually("the second launch handing over and exiting", async || {
        second.try_wait().expect("wait")
    })
    .await;
    assert!(status.success(), "the second launch failed: {status}");
}

fn explanations(desktop: &Desktop) -> Vec<String> {
    desktop
        .notifications()
        .into_iter()
        .filter(|n| n.summary == "Reconnect keeps running")
        .map(|n| n.body)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver, python3 and a Secret Service: run through scripts/test.sh"]
async fn closing_the_window_keeps_the_app_its_tray_and_its_scheduler_running() {
    let desktop = Desktop::start().await.expect("the stand-in desktop");
    let env = [("RECONNECT_PROFILE", "demo")];
    let app = App::start_with_notifications(&env).await;
    for name in DEMO_BROKEN {
        app.wait_for(&format!(
            "li.card[data-name='{name}'][data-health='reconnect_needed']"
        ))
        .await;
    }
    let item = desktop.wait_for_tray(PATIENCE).await.expect("the tray");
    wait_for_tray_label(&desktop, &item, "3").await;
    let data_dir = app.home.reconnect_home().join("profiles").join("demo");
    let (pid, kind) = keeper_of(&data_dir).expect("the app keeps the demo profile");
    assert_eq!(kind, Some(KeeperKind::App));
    let windows = reconnect_windows(pid);
    let [(window, true)] = windows.as_slice() else {
        panic!("one Reconnect window on screen: {windows:?}");
    };

    click_close_button(window);
    eventually("the window hiding", async || {
        reconnect_windows(pid)
            .iter()
            .all(|(_, shown)| !shown)
            .then_some(())
    })
    .await;
    assert!(running(pid), "closing the window ended the app");
    let told = desktop
        .wait_for_notifications(PATIENCE, "explanation of the closed window", |n| {
            n.iter().any(|n| n.summary == "Reconnect keeps running")
        })
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let body = &told
        .iter()
        .find(|n| n.summary.contains("keeps"))
        .unwrap()
        .body;
    assert!(body.contains("Quit") && body.contains("tray"), "{body}");

    // With the window hidden, a keep-alive point passes on the demo's
    // clock: the scheduler refreshes the healthy account at the simulator.
    let sim = simulator(&app).await;
    let now = advance_clock(&app, PAST_KEEP_ALIVE).await;
    let refreshed = eventually("the keep-alive refresh", async || {
        let users = refreshed_since(&sim, now).await;
        (!users.is_empty()).then_some(users)
    })
    .await;
    assert_eq!(
        refreshed,
        ["adele@contoso.test"],
        "only the healthy account is kept alive"
    );
    // The tray still counts the three broken accounts.
    wait_for_tray_label(&desktop, &item, "3").await;
    assert!(running(pid));

    // The tray's "Refresh all now" works with the window hidden: every
    // account is tried at the simulator (nothing else was due meanwhile).
    let since = advance_clock(&app, 120).await;
    assert_eq!(refreshed_since(&sim, since).await, Vec::<String>::new());
    desktop
        .click_tray_menu(&item, "Refresh all now")
        .await
        .expect("the tray's refresh entry");
    let users = eventually("every account refreshed", async || {
        let users = refreshed_since(&sim, since).await;
        (users.len() >= 4).then_some(users)
    })
    .await;
    for user in ["adele", "bianca", "carlos", "diego"] {
        let upn = format!("{user}@contoso.test");
        assert!(users.contains(&upn), "{upn} was refreshed: {users:?}");
    }

    // Launching the app again brings the window back; closing it again
    // says nothing more.
    launch_again(&app, &env).await;
    eventually("the window showing again", async || {
        reconnect_windows(pid)
            .iter()
            .any(|(_, shown)| *shown)
            .then_some(())
    })
    .await;
    let windows = reconnect_windows(pid);
    click_close_button(&windows[0].0);
    eventually("the window hiding again", async || {
        reconnect_windows(pid)
            .iter()
            .all(|(_, shown)| !shown)
            .then_some(())
    })
    .await;
    assert!(running(pid));

    // Quit in the tray menu ends the process (and frees the profile).
    desktop
        .click_tray_menu(&item, "Quit")
        .await
        .expect("the tray's Quit");
    eventually("the app ending", async || (!running(pid)).then_some(())).await;
    assert_eq!(keeper_of(&data_dir), None, "nobody keeps the profile now");
    assert_eq!(
        explanations(&desktop).len(),
        1,
        "the closed window is explained once"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn a_profile_kept_by_reconnect_keep_gets_no_second_scheduler() {
    // The stand-in desktop is taken only to wait for the other test's turn
    // (its tray host would otherwise see this app's tray too).
    let _desktop = Desktop::start().await.expect("the stand-in desktop");
    // The test plays `reconnect keep`: it holds the demo profile's keeper lock.
    let home = TempHome::new();
    let data_dir = home.reconnect_home().join("profiles").join("demo");
    let lock = KeeperLock::acquire(&Home::at(&data_dir).expect("home"), KeeperKind::Keep)
        .expect("the keeper lock");
    let reconnect_home = home.reconnect_home();
    let app = App::start(&[
        ("RECONNECT_HOME", reconnect_home.to_str().expect("utf-8")),
        ("RECONNECT_PROFILE", "demo"),
    ])
    .await;
    app.wait_count("li.card", 4).await;

    // The dashboard names the keeper.
    let line = app
        .wait_for("#keeper:not([hidden])[data-by='reconnect_keep']")
        .await;
    let pid = std::process::id().to_string();
    assert_eq!(
        line.attr("data-pid").await.expect("attribute").as_deref(),
        Some(pid.as_str())
    );
    let text = app.text("#keeper").await;
    assert!(
        text.contains("Kept by reconnect keep") && text.contains(&format!("(PID {pid})")),
        "{text}"
    );

    // A keep-alive point passes: nothing is refreshed, as this app runs no
    // scheduler (the command returns once the app has done what is due).
    let sim = simulator(&app).await;
    let now = advance_clock(&app, PAST_KEEP_ALIVE).await;
    assert_eq!(
        refreshed_since(&sim, now).await,
        Vec::<String>::new(),
        "no scheduled refresh while another process keeps the profile"
    );
    // The broken accounts wait for their retry, which is the keeper's to run.
    for name in DEMO_BROKEN {
        app.wait_for(&format!(
            "li.card[data-name='{name}'][data-health='retrying']"
        ))
        .await;
    }
    // On demand still works: the tray's "Refresh all now" and the cards'
    // "Refresh now" go through the engine.
    let refreshed = app
        .invoke("refresh_now", json!({ "name": "adele-mail" }))
        .await;
    assert!(refreshed.get("ok").is_some(), "{refreshed}");
    assert_eq!(refreshed_since(&sim, now).await, ["adele@contoso.test"]);

    // `reconnect keep` stops: the app takes over, says nothing more about
    // another keeper, and its scheduler runs the retries that were due.
    drop(lock);
    app.wait_for("#keeper[hidden][data-by='this_app']").await;
    for name in DEMO_BROKEN {
        app.wait_for(&format!(
            "li.card[data-name='{name}'][data-health='reconnect_needed']"
        ))
        .await;
    }
    let after: Vec<String> = refreshed_since(&sim, now).await;
    for user in [
        "bianca@contoso.test",
        "carlos@contoso.test",
        "diego@contoso.test",
    ] {
        assert!(after.iter().any(|u| u == user), "{user} retried: {after:?}");
    }
    let (holder, kind) = keeper_of(&data_dir).expect("the app keeps it now");
    assert_eq!(kind, Some(KeeperKind::App));
    assert_ne!(holder, std::process::id());
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn the_app_names_a_running_reconnect_keep_and_takes_over_when_it_stops() {
    let _desktop = Desktop::start().await.expect("the stand-in desktop");
    let home = TempHome::new();
    let data_dir = home.reconnect_home().join("profiles").join("demo");
    std::fs::create_dir_all(&data_dir).expect("profile dir");
    let mut keep = home.command(binary("reconnect"));
    keep.args(["keep", "--home", data_dir.to_str().expect("utf-8")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut keep = reconnect_e2e::harness::KillOnDrop(keep.spawn().expect("reconnect keep"));
    let keep_pid = keep.0.id();
    let held = eventually("reconnect keep taking the profile", async || {
        keeper_of(&data_dir)
    })
    .await;
    assert_eq!(held, (keep_pid, Some(KeeperKind::Keep)));

    let reconnect_home = home.reconnect_home();
    let app = App::start(&[
        ("RECONNECT_HOME", reconnect_home.to_str().expect("utf-8")),
        ("RECONNECT_PROFILE", "demo"),
    ])
    .await;
    app.wait_for("#keeper:not([hidden])[data-by='reconnect_keep']")
        .await;
    let text = app.text("#keeper").await;
    assert!(
        text.contains(&format!("Kept by reconnect keep (PID {keep_pid})")),
        "{text}"
    );

    // `reconnect keep` stops; the app keeps the profile from then on.
    let _ = keep.0.kill();
    let _ = keep.0.wait();
    app.wait_for("#keeper[hidden][data-by='this_app']").await;
    let (pid, kind) = keeper_of(&data_dir).expect("the app keeps it now");
    assert_eq!(kind, Some(KeeperKind::App));
    assert_ne!(pid, keep_pid);
    app.close().await;
}
