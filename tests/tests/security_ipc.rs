//! No command answer or event the webview receives holds a secret: the real
//! window (demo profile, its simulator inside the app) is driven through the
//! main views — dashboard, account detail, failures chart, decode tool,
//! tester panel with "Refresh now", break and restore, and a whole
//! interactive reconnect (its `reconnect-progress` events) — while every IPC
//! answer is recorded inside the page, then each one is scanned with
//! `reconnect_e2e::secrets` for the tokens the profile's keychain holds
//! (before and after the refreshes), the authorization code of the
//! reconnect, and any token-shaped text.
//!
//! The reconnect's "browser" (`RECONNECT_BROWSER`) is a curl script that
//! follows the sign-in URL with the simulator auto-approving the user, and
//! notes the redirects it saw so the code can be looked for too.
//!
//! How the answers are recorded: Tauri's own IPC functions are read-only
//! properties, so the test wraps the two places every answer passes through
//! instead: `window.fetch` (the `ipc://` request of each command and its raw
//! answer, as `ui/api.js` → `__TAURI__.core.invoke` sends it) and the
//! callback table's lookup (`__TAURI_INTERNALS__.callbacks.get`), which every
//! answer and every backend event is delivered through, whatever the
//! transport. Answers before the wrapper is installed (the first render) are
//! not seen; the same commands run again afterwards.
//!
//! The recorded payloads are also written to
//! `artifacts/security-ipc-payloads.json`, so the end-of-run scan
//! (`security_artifacts`, run again by `scripts/ci/security.sh`) covers them.

mod app_support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;

use app_support::App;
use reconnect_e2e::secrets::{ScanReport, SecretScanner, announce, token_shapes};
use reconnect_e2e::window::artifacts_dir;
use serde_json::{Value, json};

/// Installs the recorder in the page (idempotent).
const RECORDER: &str = r#"
if (!window.__securityIpcLog) {
  const log = [];
  window.__securityIpcLog = log;
  const realFetch = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input.url;
    const response = await realFetch(input, init);
    if (url.startsWith("ipc:") || url.includes("ipc.localhost")) {
      const cmd = decodeURIComponent(url.replace(/^.*localhost\//, ""));
      const body = init && typeof init.body === "string" ? init.body : "";
      response.clone().text().then((text) => log.push({
        via: "fetch", cmd, args: body, status: response.headers.get("Tauri-Response"), body: text,
      }));
    }
    return response;
  };
  const table = window.__TAURI_INTERNALS__.callbacks;
  const lookup = table.get.bind(table);
  table.get = (id) => {
    const callback = lookup(id);
    if (!callback) return callback;
    return (data) => {
      let text;
      try { text = JSON.stringify(data); } catch (e) { text = String(data); }
      const event = data && typeof data === "object" && typeof data.event === "string" ? data.event : null;
      log.push({ via: "callback", event, body: text === undefined ? "" : text });
      return callback(data);
    };
  };
}
return true;
"#;

/// Notes every token the demo profile's keychain holds now.
fn note_demo_tokens(app: &App, scanner: &mut SecretScanner) -> usize {
    let dir = app.home.reconnect_home().join("profiles").join("demo");
    let home = reconnect_store::Home::at(&dir).expect("the demo profile's home");
    let profile = reconnect_store::Profile::open_at(home).expect("the demo profile opens");
    let mut noted = 0;
    for account in profile.store().accounts().expect("accounts") {
        let Ok(Some(set)) = profile.load_tokens(account.id) else {
            continue;
        };
        let name = &account.name;
        let parts = [
            (
                "access token",
                set.access_token.as_ref().map(|t| t.expose()),
            ),
            (
                "refresh token",
                set.refresh_token.as_ref().map(|t| t.expose()),
            ),
            ("id_token", set.id_token.as_ref().map(|t| t.expose())),
        ];
        for (what, value) in parts {
            if let Some(value) = value {
                scanner.add(&format!("{what} of {name} (demo keychain)"), value);
                noted += 1;
            }
        }
    }
    noted
}

/// A `RECONNECT_BROWSER` that follows the sign-in like a browser, keeping
/// curl's trace of the redirects (with the code) in `notes`.
fn following_browser(dir: &std::path::Path) -> (String, std::path::PathBuf) {
    let script = dir.join("browser-follow.sh");
    let notes = dir.join("redirects.txt");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec curl -sS -v -L --max-time 20 -o /dev/null \"$1\" 2>>'{}'\n",
            notes.display()
        ),
    )
    .expect("write the browser script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (script.display().to_string(), notes)
}

/// The authorization codes in the redirects curl followed.
fn codes_in(notes: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(notes).unwrap_or_default();
    text.lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("< location:"))
        .filter_map(|l| {
            let target = l.split_once(':')?.1.trim();
            let url = url::Url::parse(target).ok()?;
            url.query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned())
        })
        .collect()
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(700)).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn no_ipc_answer_or_event_the_webview_receives_holds_a_secret() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let (browser, notes) = following_browser(scratch.path());
    let app = App::start(&[
        ("RECONNECT_PROFILE", "demo"),
        ("RECONNECT_BROWSER", browser.as_str()),
    ])
    .await;
    for name in ["bianca-files", "carlos-crm", "diego-teams"] {
        app.wait_for(&format!(
            "li.card[data-name='{name}'][data-health='reconnect_needed']"
        ))
        .await;
    }
    let installed = app
        .client
        .execute(RECORDER, vec![])
        .await
        .expect("install the IPC recorder");
    assert_eq!(installed, json!(true));
    let mut scanner = SecretScanner::new();
    let before = tokio::task::block_in_place(|| note_demo_tokens(&app, &mut scanner));
    assert!(
        before >= 4,
        "the demo keychain holds tokens to look for ({before})"
    );

    // Dashboard, then two account details (a broken and a healthy one).
    app.go("#/failures").await;
    app.wait_for("#view-failures").await;
    app.go("#/").await;
    app.wait_for("li.card[data-name='adele-mail']").await;
    app.click("li.card[data-name='carlos-crm'] a.details-link")
        .await;
    app.wait_for("#view-detail .verdict").await;
    app.go("#/account/adele-mail").await;
    app.wait_for("#view-detail .timeline").await;

    // The decode tool.
    app.go("#/decode").await;
    let input = app.wait_for("#decode-input").await;
    input
        .send_keys(r#"{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity.","error_codes":[700082]}"#)
        .await
        .expect("type into the decode tool");
    app.click("#decode-run").await;
    app.wait_for("#decode-output .verdict").await;

    // The tester panel: refresh now (new tokens), break and restore.
    let row = "#view-tester tr[data-name='adele-mail']";
    app.go("#/tester").await;
    app.click(&format!("{row} button.refresh-now")).await;
    settle().await;
    app.choose(&format!("{row} select.break-kind"), "mfa").await;
    app.click(&format!("{row} button.break")).await;
    app.go("#/").await;
    app.wait_for("li.card[data-name='adele-mail'][data-health='reconnect_needed']")
        .await;
    app.go("#/tester").await;
    app.click(&format!("{row} button.restore")).await;
    app.go("#/").await;
    app.wait_for("li.card[data-name='adele-mail'][data-health='healthy']")
        .await;
    settle().await;

    // A whole reconnect of a revoked account, the simulator approving it.
    let info = app.invoke("app_info", json!({})).await;
    let issuer = info["ok"]["add_defaults"]["issuer"]
        .as_str()
        .expect("the demo offers its simulator as issuer");
    let sim = url::Url::parse(issuer).expect("issuer URL");
    let sim = sim.origin().ascii_serialization();
    let approved = reqwest::Client::new()
        .post(format!("{sim}/_sim/auto-approve"))
        .json(&json!({ "upn": "carlos@contoso.test" }))
        .send()
        .await
        .expect("the demo simulator answers");
    assert!(approved.status().is_success(), "auto-approve: {approved:?}");
    app.go("#/").await;
    app.click("li.card[data-name='carlos-crm'] button.reconnect-button")
        .await;
    app.wait_for("li.card[data-name='carlos-crm'][data-health='healthy']")
        .await;
    settle().await;
    let codes = codes_in(&notes);
    assert!(
        !codes.is_empty(),
        "the reconnect's redirect carried an authorization code"
    );
    for code in &codes {
        scanner.add("authorization code of the reconnect", code);
    }

    let after = tokio::task::block_in_place(|| note_demo_tokens(&app, &mut scanner));
    let log = app
        .client
        .execute("return window.__securityIpcLog || [];", vec![])
        .await
        .expect("read the IPC log");
    let entries = log.as_array().cloned().unwrap_or_default();

    // Control: the scanner does see one of these tokens inside a JSON answer.
    let control = tokio::task::block_in_place(|| {
        let dir = app.home.reconnect_home().join("profiles").join("demo");
        let profile =
            reconnect_store::Profile::open_at(reconnect_store::Home::at(&dir).expect("home"))
                .expect("profile");
        let id = profile.store().account("adele-mail").expect("adele").id;
        let set = profile
            .load_tokens(id)
            .expect("tokens")
            .expect("adele has tokens");
        let fake = json!({ "leak": set.refresh_token.as_ref().map(|t| t.expose()) });
        scanner.scan_bytes("control", fake.to_string().as_bytes())
    });
    assert!(
        !control.findings.is_empty(),
        "the scanner must recognise a stored token inside a JSON answer"
    );

    let mut report = ScanReport::default();
    let mut by_cmd = BTreeMap::<String, usize>::new();
    let mut events = BTreeMap::<String, usize>::new();
    let (mut answers, mut deliveries) = (0usize, 0usize);
    for (i, entry) in entries.iter().enumerate() {
        let body = entry["body"].as_str().unwrap_or_default();
        let args = entry["args"].as_str().unwrap_or_default();
        let label = match entry["via"].as_str() {
            Some("fetch") => {
                let cmd = entry["cmd"].as_str().unwrap_or("?").to_owned();
                *by_cmd.entry(cmd.clone()).or_default() += 1;
                answers += 1;
                format!("IPC answer #{i} to {cmd}")
            }
            _ => {
                deliveries += 1;
                if let Some(event) = entry["event"].as_str() {
                    *events.entry(event.to_owned()).or_default() += 1;
                    format!("IPC event #{i} {event}")
                } else {
                    format!("IPC callback #{i}")
                }
            }
        };
        for (what, bytes) in [("", body), (" (arguments)", args)] {
            let origin = format!("{label}{what}");
            report.merge(scanner.scan_bytes(&origin, bytes.as_bytes()));
            report.merge(token_shapes(&origin, bytes.as_bytes()));
        }
    }
    std::fs::write(
        artifacts_dir().join("security-ipc-payloads.json"),
        serde_json::to_vec_pretty(&Value::Array(entries.clone())).expect("payloads serialise"),
    )
    .expect("write the IPC payloads for the end-of-run scan");

    for cmd in [
        "list_accounts",
        "account_detail",
        "failure_chart",
        "decode_text",
        "tester_state",
        "refresh_now",
        "tester_break",
        "tester_restore",
        "reconnect_start",
    ] {
        assert!(
            by_cmd.contains_key(cmd),
            "the run recorded no answer to {cmd}: {by_cmd:?}"
        );
    }
    assert!(
        events.contains_key("reconnect-progress"),
        "the reconnect's progress events were recorded: {events:?}"
    );
    assert!(
        deliveries >= answers,
        "every answer is also delivered through the callback table"
    );
    report.assert_clean("in IPC payloads the webview received");
    let cmds: Vec<String> = by_cmd.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let evs: Vec<String> = events.iter().map(|(k, v)| format!("{k} {v}")).collect();
    announce(&format!(
        "IPC payloads {}/{} clean: {answers} command answers ({}), {deliveries} callback \
         deliveries incl. events ({}), scanned for {} secrets (the demo keychain's tokens, \
         {before} held before and {after} after the refreshes and the reconnect, and its \
         authorization code) and token-shaped text",
        entries.len(),
        entries.len(),
        cmds.join(", "),
        if evs.is_empty() {
            "none".to_owned()
        } else {
            evs.join(", ")
        },
        report.secrets,
    ));
    app.close().await;
}
