//! Profiles and scale in the real window: switching between a real profile
//! and the demo is visible and never mixes their accounts; the dashboard
//! renders and filters a thousand accounts. Needs Xvfb, tauri-driver,
//! WebKitWebDriver and a Secret Service (run through scripts/test.sh).

mod app_support;

use std::time::Instant;

use app_support::App;
use fantoccini::Locator;
use serde_json::json;

/// The names on the dashboard's cards, read in one go inside the page (the
/// cards may be rebuilt between two WebDriver calls).
async fn card_names(app: &App) -> Vec<String> {
    let names = app
        .client
        .execute(
            "return [...document.querySelectorAll('li.card')].map((c) => c.dataset.name || '');",
            vec![],
        )
        .await
        .expect("read the card names");
    let mut names: Vec<String> = serde_json::from_value(names).expect("a list of names");
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn switching_profiles_is_visible_and_never_mixes_accounts() {
    let app = App::start(&[]).await;
    let added = app
        .invoke(
            "add_account",
            json!({ "request": { "name": "mine",
                     "provider": { "kind": "entra", "at": { "cloud": "global" }, "tenant": "contoso.com" },
                     "client_id": "11111111-2222-3333-4444-555555555555", "scopes": [] } }),
        )
        .await;
    assert!(added.get("ok").is_some(), "{added}");
    app.wait_for("li.card[data-name='mine']").await;
    // Outside the demo the tester cannot arm a failure for a real account.
    let armed = app
        .invoke("tester_fail_next", json!({ "name": "mine", "code": 50173 }))
        .await;
    assert!(
        armed["err"]["message"]
            .as_str()
            .is_some_and(|e| e.contains("demo profile")),
        "arming a failure outside the demo must be refused: {armed}"
    );
    assert!(
        !app.wait_for("#demo-banner")
            .await
            .is_displayed()
            .await
            .unwrap()
    );

    app.choose("#profile-select", "demo").await;
    app.wait_for("body[data-profile='demo']").await;
    app.wait_for("li.card[data-name='diego-teams']").await;
    assert!(
        app.wait_for("#demo-banner")
            .await
            .is_displayed()
            .await
            .unwrap(),
        "the demo is labelled"
    );
    let demo = card_names(&app).await;
    assert_eq!(
        demo,
        ["adele-mail", "bianca-files", "carlos-crm", "diego-teams"]
    );
    let info = app.invoke("app_info", json!({})).await;
    assert!(
        info["ok"]["data_dir"]
            .as_str()
            .unwrap()
            .ends_with("profiles/demo"),
        "{info}"
    );

    app.choose("#profile-select", "default").await;
    app.wait_for("body[data-profile='default']").await;
    app.wait_gone("li.card[data-name='diego-teams']").await;
    assert_eq!(card_names(&app).await, ["mine"]);
    assert!(
        !app.wait_for("#demo-banner")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn dashboard_renders_and_filters_a_thousand_accounts() {
    let app = App::start(&[]).await;
    let script = r#"
        const done = arguments[arguments.length - 1];
        (async () => {
          for (let i = 0; i < 1000; i += 50) {
            await Promise.all(Array.from({ length: 50 }, (_, j) => {
              const n = String(i + j).padStart(4, "0");
              return window.__TAURI__.core.invoke("add_account", { request: {
                name: `acct-${n}`, provider: { kind: "entra", at: { cloud: "global" }, tenant: "contoso.com" },
                client_id: "11111111-2222-3333-4444-555555555555", scopes: [] } });
            }));
          }
        })().then(() => done("ok"), (e) => done(String(e)));
    "#;
    let added = app.client.execute_async(script, vec![]).await.unwrap();
    assert_eq!(added, json!("ok"));

    let started = Instant::now();
    app.wait_for("li.card[data-name='acct-0999']").await;
    // The adds of a batch land in any order and renders are coalesced, so
    // the last name can be on screen before some of its batch: count them.
    app.wait_count("li.card", 1000).await;
    let cards = app.client.find_all(Locator::Css("li.card")).await.unwrap();
    assert_eq!(cards.len(), 1000);
    eprintln!(
        "1,000 cards on screen {} ms after the last add",
        started.elapsed().as_millis()
    );
    assert!(app.text("#summary").await.contains("1000 connections"));

    app.fill("#filter", "acct-042").await;
    app.wait_gone("li.card[data-name='acct-0001']").await;
    let names = card_names(&app).await;
    assert_eq!(names.len(), 10, "acct-0420 … acct-0429: {names:?}");
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn keyboard_reaches_the_filter_and_moves_between_cards() {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let app = App::start(&[]).await;
    for name in ["kb-a", "kb-b", "kb-c"] {
        let r = app
            .invoke(
                "add_account",
                json!({ "request": { "name": name, "provider": { "kind": "entra", "at": { "cloud": "global" } },
                         "client_id": "11111111-2222-3333-4444-555555555555", "scopes": [] } }),
            )
            .await;
        assert!(r.get("ok").is_some(), "{r}");
    }
    app.wait_for("li.card[data-name='kb-c']").await;
    let active = || async {
        app.client
            .execute(
                "const a = document.activeElement; return a.id || (a.closest('li.card')?.dataset.name ?? a.tagName);",
                vec![],
            )
            .await
            .unwrap()
    };
    let press = |key: char| {
        KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key })
    };

    // "/" jumps to the filter.
    app.client
        .execute("document.activeElement.blur();", vec![])
        .await
        .unwrap();
    app.client.perform_actions(press('/')).await.unwrap();
    assert_eq!(active().await, json!("filter"));

    // Arrow keys move between cards.
    app.client
        .execute(
            "document.querySelector(\"li.card[data-name='kb-a'] a.name\").focus();",
            vec![],
        )
        .await
        .unwrap();
    app.client.perform_actions(press('\u{E015}')).await.unwrap(); // ArrowDown
    assert_eq!(active().await, json!("kb-b"));
    app.client.perform_actions(press('\u{E013}')).await.unwrap(); // ArrowUp
    assert_eq!(active().await, json!("kb-a"));
    app.close().await;
}
