//! Smoke test of the real desktop window, driven over WebDriver under Xvfb:
//! the shell renders, the accounts list is fed by the `list_accounts`
//! command, the version comes from the backend, and the webview may call only
//! the app's own commands; the page follows the desktop's light or dark
//! theme.

mod app_support;

use std::time::Duration;

use app_support::App;
use fantoccini::{ClientBuilder, Locator};
use reconnect_e2e::harness::TempHome;
use reconnect_e2e::window::{WindowDriver, artifacts_dir};
use serde_json::Value;

async fn invoke(client: &fantoccini::Client, cmd: &str) -> Value {
    let script = r#"
        const [cmd, done] = arguments;
        window.__TAURI__.core.invoke(cmd)
          .then(v => done({ ok: v }))
          .catch(e => done({ err: String(e) }));
    "#;
    client
        .execute_async(script, vec![Value::from(cmd)])
        .await
        .expect("invoke script ran")
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run through scripts/test.sh"]
async fn window_renders_shell_and_allows_only_own_commands() {
    // More than one rustls provider is compiled into this test crate.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let _screen = app_support::screen_turn().await;
    let home = TempHome::new();
    let driver = WindowDriver::start(&home, &[]).expect("tauri-driver");
    let client = ClientBuilder::rustls()
        .expect("rustls client")
        .capabilities(driver.capabilities())
        .connect(&driver.url)
        .await
        .expect("a WebDriver session on the real window");

    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("body[data-ready='true']"))
        .await
        .expect("the UI finished its first render");

    let brand = client.find(Locator::Css("h1.brand")).await.unwrap();
    assert_eq!(brand.text().await.unwrap().trim(), "Reconnect");

    let version = client.find(Locator::Id("version")).await.unwrap();
    let version = version.text().await.unwrap();
    assert_eq!(version, format!("v{}", env!("CARGO_PKG_VERSION")));

    // The accounts list is fed by the real command; a fresh profile is empty.
    let list = invoke(&client, "list_accounts").await;
    assert_eq!(list["ok"]["accounts"], serde_json::json!([]), "{list}");
    assert!(
        list["ok"]["now"].is_i64(),
        "the backend's clock comes with the list: {list}"
    );
    let empty = client.find(Locator::Id("empty")).await.unwrap();
    assert!(empty.is_displayed().await.unwrap(), "empty state is shown");

    // A core API the capability file does not grant is refused.
    let denied = invoke(&client, "plugin:app|version").await;
    let denied_text = denied["err"].as_str().unwrap_or_default();
    assert!(
        denied_text.contains("not allowed"),
        "a non-granted command must be refused, got {denied}"
    );

    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(artifacts_dir().join("app-window.png"), png).unwrap();
    client.close().await.unwrap();
}

/// The page's background colour, as the browser computed it.
async fn background(app: &App) -> String {
    app.client
        .execute(
            "return getComputedStyle(document.body).backgroundColor;",
            vec![],
        )
        .await
        .expect("computed style")
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run through scripts/test.sh"]
async fn the_window_follows_the_desktop_light_or_dark_theme() {
    let mut seen = Vec::new();
    for theme in ["Adwaita", "Adwaita:dark"] {
        let app = App::start(&[("GTK_THEME", theme)]).await;
        seen.push((theme, background(&app).await));
        app.close().await;
    }
    // Light: the light page colour; dark: the dark one (style.css).
    assert_eq!(seen[0].1, "rgb(245, 246, 248)", "{seen:?}");
    assert_eq!(seen[1].1, "rgb(18, 21, 25)", "{seen:?}");
}
