//! Getting the user's attention, end to end on the real app window and the
//! real D-Bus protocols: the test plays the desktop (a notification server
//! and a tray host, `reconnect_e2e::desktop_bus`) on the private session bus
//! the app inherits, so what it sees is what a desktop would show:
//!
//! - several accounts breaking at once give exactly one notification naming
//!   them, and clicking a notification opens the window on its account;
//! - the tray icon's picture and label show whether anything needs
//!   attention, follow recovery, and its menu opens the account to fix.
//!
//! Needs Xvfb, tauri-driver, WebKitWebDriver and a session bus with a
//! Secret Service (run through scripts/test.sh). Notifications stay on here:
//! nothing sets `RECONNECT_NO_NOTIFICATIONS`.

mod app_support;

use app_support::{App, PATIENCE};
use fantoccini::elements::Element;
use reconnect_e2e::desktop_bus::{Desktop, Picture, Shown, TrayItem, TrayState};
use reconnect_e2e::harness::workspace_root;
use serde_json::{Value, json};

/// The demo accounts that start broken.
const DEMO_BROKEN: [&str; 3] = ["bianca-files", "carlos-crm", "diego-teams"];

/// The real window of an app started with notifications on (the shared
/// `App::start` turns them off for the other window tests).
struct Window(App);

impl Window {
    /// Starts the app on `profile` and waits for its first render.
    async fn start(profile: &str) -> Self {
        Self(App::start_with_notifications(&[("RECONNECT_PROFILE", profile)]).await)
    }

    async fn wait_for(&self, css: &str) -> Element {
        self.0.wait_for(css).await
    }

    /// Calls a backend command the way the UI does; it must succeed.
    async fn invoke(&self, cmd: &str, args: Value) -> Value {
        let reply = self.0.invoke(cmd, args).await;
        assert!(reply.get("ok").is_some(), "{cmd} failed: {reply}");
        reply
    }

    /// Shows the dashboard, so a later jump to a detail view is visible.
    async fn show_dashboard(&self) {
        self.0.go("#/").await;
        self.wait_for("#view-dashboard:not([hidden])").await;
    }

    /// Waits until the window shows the detail view of `account`.
    async fn wait_for_detail_of(&self, account: &str) {
        let heading = self
            .wait_for(&format!(
                "#view-detail:not([hidden]) #detail-heading[data-account='{account}']"
            ))
            .await;
        assert!(
            heading.is_displayed().await.expect("visibility"),
            "the detail of {account} is on screen"
        );
    }

    /// The account whose detail view is on screen, once one is.
    async fn detail_shown(&self) -> String {
        self.wait_for("#view-detail:not([hidden]) #detail-heading[data-account]")
            .await
            .attr("data-account")
            .await
            .expect("heading attribute")
            .expect("the heading names its account")
    }

    async fn screenshot(&self, name: &str) {
        self.0.screenshot(name).await;
    }

    async fn close(self) {
        self.0.close().await;
    }
}

/// The tray pictures the app ships.
fn shipped_picture(file: &str) -> Picture {
    Picture::load(&workspace_root().join("icons").join(file)).expect("a shipped tray icon")
}

/// Whether the tray currently draws `expected` with `label` beside it.
fn tray_shows(state: &TrayState, expected: &Picture, label: &str) -> anyhow::Result<bool> {
    if state.label != label {
        return Ok(false);
    }
    let file = state
        .icon_file()
        .ok_or_else(|| anyhow::anyhow!("no icon"))?;
    Ok(Picture::load(&file)? == *expected)
}

async fn wait_for_tray(
    desktop: &Desktop,
    item: &TrayItem,
    what: &str,
    picture: &Picture,
    label: &str,
) -> TrayState {
    desktop
        .wait_for_tray_state(item, PATIENCE, what, |s| tray_shows(s, picture, label))
        .await
        .unwrap_or_else(|e| panic!("{e:#}"))
}

/// Of `names`, the one `text` mentions first.
fn first_named<'a>(text: &str, names: &[&'a str]) -> Option<&'a str> {
    names
        .iter()
        .filter_map(|n| text.find(n).map(|at| (at, *n)))
        .min()
        .map(|(_, n)| n)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn broken_accounts_give_one_notification_and_a_click_opens_the_account() {
    let desktop = Desktop::start().await.expect("the stand-in desktop");
    let window = Window::start("demo").await;
    for name in DEMO_BROKEN {
        window
            .wait_for(&format!(
                "li.card[data-name='{name}'][data-health='reconnect_needed']"
            ))
            .await;
    }

    desktop
        .wait_for_notifications(PATIENCE, "notification", |n| !n.is_empty())
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));

    // One more account breaks later, on its own. Its notification comes
    // after any the first three caused, so once it is here every earlier
    // notification is too.
    window
        .invoke(
            "tester_break",
            json!({ "name": "adele-mail", "kind": "mfa", "code": null }),
        )
        .await;
    let shown = desktop
        .wait_for_notifications(PATIENCE, "notification about adele-mail", |n| {
            n.iter().any(|n| n.summary.contains("adele-mail"))
        })
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let [together, single]: [Shown; 2] = shown.clone().try_into().unwrap_or_else(|_| {
        panic!("one notification for the three accounts, one for the fourth: {shown:#?}")
    });

    assert!(
        together.summary.contains("3 connections"),
        "the title counts the accounts: {together:?}"
    );
    for name in DEMO_BROKEN {
        assert!(
            together.body.contains(name),
            "the notification names {name}: {together:?}"
        );
    }
    assert!(
        single.summary.contains("adele-mail")
            && DEMO_BROKEN
                .iter()
                .all(|n| !single.summary.contains(n) && !single.body.contains(n)),
        "a lone account's notification names only it: {single:?}"
    );
    assert!(
        together.offers_click() && single.offers_click(),
        "clicks on the notifications are reported back to the app: {shown:?}"
    );

    // Clicking the combined notification opens the first account it names.
    let first = first_named(&together.body, &DEMO_BROKEN).expect("a named account");
    window.show_dashboard().await;
    desktop.click(together.id).await.expect("click");
    window.wait_for_detail_of(first).await;
    window.screenshot("app-notification-click").await;

    // And the lone account's notification opens that account.
    window.show_dashboard().await;
    desktop.click(single.id).await.expect("click");
    window.wait_for_detail_of("adele-mail").await;

    assert_eq!(
        desktop.notifications().len(),
        2,
        "clicks show no further notification"
    );
    window.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn tray_icon_shows_whether_anything_needs_attention_and_opens_it() {
    let healthy = shipped_picture("tray.png");
    let attention = shipped_picture("tray-attention.png");
    assert_ne!(healthy, attention, "the two tray pictures differ");

    let desktop = Desktop::start().await.expect("the stand-in desktop");
    // An empty profile: nothing needs attention.
    let window = Window::start("default").await;
    let item = desktop
        .wait_for_tray(PATIENCE)
        .await
        .expect("the tray icon registers with the panel");
    let state = wait_for_tray(&desktop, &item, "all healthy", &healthy, "").await;
    assert_eq!(state.status, "Active", "the tray icon is shown: {state:?}");

    // The demo opens with three broken accounts.
    window
        .invoke("switch_profile", json!({ "profile": "demo" }))
        .await;
    wait_for_tray(&desktop, &item, "3 need attention", &attention, "3").await;

    // The tray's "Open Reconnect" opens an account that needs attention.
    window.show_dashboard().await;
    desktop
        .click_tray_menu(&item, "Open Reconnect")
        .await
        .expect("the tray menu's open entry");
    let opened = window.detail_shown().await;
    assert!(
        DEMO_BROKEN.contains(&opened.as_str()),
        "the tray opened {opened}, which needs no attention"
    );

    // One account recovers: the count follows.
    window
        .invoke("tester_restore", json!({ "name": "diego-teams" }))
        .await;
    wait_for_tray(&desktop, &item, "2 need attention", &attention, "2").await;

    // The others are removed: nothing needs attention any more.
    for name in ["bianca-files", "carlos-crm"] {
        window
            .invoke("remove_account", json!({ "name": name }))
            .await;
    }
    let state = wait_for_tray(&desktop, &item, "all healthy again", &healthy, "").await;
    assert_eq!(state.status, "Active", "{state:?}");
    window.close().await;
}

/// A profile with one account of each kind, made with the `reconnect` CLI
/// against a simulator: healthy, never connected, reconnect needed, needs
/// an admin, and retrying (its user's requests keep failing, so it stays so).
struct MixedProfile {
    home: reconnect_e2e::harness::TempHome,
    _sim: reconnect_sim::RunningSim,
}

impl MixedProfile {
    async fn create() -> Self {
        let sim = reconnect_sim::Simulator::start(reconnect_sim::SimConfig {
            apps: vec![reconnect_e2e::grants::app()],
            ..reconnect_sim::SimConfig::default()
        })
        .await
        .expect("simulator");
        let profile = Self {
            home: reconnect_e2e::harness::TempHome::new(),
            _sim: sim,
        };
        for name in ["healthy", "never", "revoked", "admin", "retrying"] {
            profile.cli(
                &[
                    "add",
                    name,
                    "--authority",
                    &profile._sim.http_url,
                    "--tenant",
                    "common",
                    "--client-id",
                    reconnect_e2e::grants::CLIENT_ID,
                ],
                &[],
            );
        }
        profile.import("healthy", "alice@contoso.test");
        profile.import("revoked", "alice@contoso.test");
        profile.import("admin", "alice@contoso.test");
        profile.import("retrying", "bob@contoso.test");
        profile.cli(&["refresh", "healthy"], &[]);
        // Revoked: one failure earns one retry, the second stops it (the
        // second run's clock is two minutes ahead, past the 60 s floor).
        profile.fault(json!({"code": 50173, "upn": "alice@contoso.test"}));
        profile.fail(&["refresh", "revoked"], &[]);
        profile.fault(json!({"code": 50173, "upn": "alice@contoso.test"}));
        profile.fail(
            &["refresh", "revoked"],
            &[("RECONNECT_TEST_CLOCK_OFFSET", "120")],
        );
        profile.fault(json!({"code": 53003, "upn": "alice@contoso.test"}));
        profile.fail(&["refresh", "admin"], &[]);
        profile.fault(json!({"code": 90033, "upn": "bob@contoso.test", "count": 100_000}));
        profile.fail(&["refresh", "retrying"], &[]);
        profile
    }

    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Command {
        let mut cmd = self
            .home
            .command(reconnect_e2e::harness::binary("reconnect"));
        cmd.args(args).stdin(std::process::Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    fn cli(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.command(args, env).output().expect("reconnect runs");
        reconnect_e2e::harness::assert_success(&out, &args.join(" "));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn fail(&self, args: &[&str], env: &[(&str, &str)]) {
        let out = self.command(args, env).output().expect("reconnect runs");
        assert!(
            !out.status.success(),
            "{} was meant to fail",
            args.join(" ")
        );
    }

    fn import(&self, name: &str, upn: &str) {
        let command = self
            .home
            .command(reconnect_e2e::harness::binary("reconnect"));
        reconnect_e2e::grants::import(command, &self._sim, name, upn);
    }

    fn fault(&self, fault: Value) {
        let request = serde_json::from_value(fault).expect("fault");
        self._sim.state.add_fault(request).expect("fault added");
    }

    fn status(&self) -> Value {
        serde_json::from_str(&self.cli(&["status", "--json"], &[])).expect("status JSON")
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn tray_dashboard_and_status_count_the_same_accounts() {
    let profile = MixedProfile::create().await;
    let status = profile.status();
    let states: Vec<(String, String, bool)> = status["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap_or_default().to_owned(),
                a["health"]["state"].as_str().unwrap_or_default().to_owned(),
                a["needs_attention"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    let expect = |name: &str, state: &str, attention: bool| {
        assert!(
            states.contains(&(name.to_owned(), state.to_owned(), attention)),
            "{name} should be {state} (attention {attention}): {states:?}"
        );
    };
    expect("healthy", "healthy", false);
    expect("never", "never_connected", true);
    expect("revoked", "reconnect_needed", true);
    expect("admin", "needs_admin", true);
    expect("retrying", "retrying", false);
    assert_eq!(status["needs_attention"], 3, "{status:#}");

    let attention = shipped_picture("tray-attention.png");
    let desktop = Desktop::start().await.expect("the stand-in desktop");
    let dir = profile.home.reconnect_home();
    let window = Window(
        App::start(&[
            ("RECONNECT_HOME", dir.to_str().expect("utf-8 path")),
            ("RECONNECT_PROFILE", "default"),
        ])
        .await,
    );
    let item = desktop
        .wait_for_tray(PATIENCE)
        .await
        .expect("the tray icon");
    wait_for_tray(&desktop, &item, "3 need attention", &attention, "3").await;
    window.0.wait_count("li.card", 5).await;
    window
        .0
        .wait_count("li.card[data-attention='true']", 3)
        .await;
    let summary = window.0.text("#summary").await;
    assert_eq!(
        summary, "5 connections: 3 need attention · 1 healthy · 1 retrying",
        "the dashboard's summary"
    );
    let shown = window
        .wait_for("#summary[data-needs-attention]")
        .await
        .attr("data-needs-attention")
        .await
        .expect("attribute");
    assert_eq!(shown.as_deref(), Some("3"));
    // Nothing moved meanwhile: the CLI still says the same.
    assert_eq!(profile.status()["needs_attention"], 3);
    window.close().await;
}
