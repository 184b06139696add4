//! Shared steps of the window tests: open the real app over WebDriver with
//! an isolated environment, wait for the UI, call a command, read text.

#![allow(dead_code)]

use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use reconnect_e2e::harness::TempHome;
use reconnect_e2e::window::{WindowDriver, artifacts_dir};
use serde_json::Value;

/// Picks rustls' crypto provider once (more than one is compiled in).
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The app under test, its WebDriver session and its isolated home.
pub struct App {
    pub client: Client,
    pub home: TempHome,
    _driver: WindowDriver,
}

/// How long UI changes that involve the engine may take.
pub const PATIENCE: Duration = Duration::from_secs(90);

impl App {
    /// Starts the app with `env` (plus a temporary HOME/XDG/RECONNECT_HOME)
    /// and waits for its first render. Desktop notifications are off.
    pub async fn start(env: &[(&str, &str)]) -> Self {
        Self::launch(env, false).await
    }

    /// Like [`App::start`], with desktop notifications on (the attention
    /// tests play the notification server).
    pub async fn start_with_notifications(env: &[(&str, &str)]) -> Self {
        Self::launch(env, true).await
    }

    async fn launch(env: &[(&str, &str)], notifications: bool) -> Self {
        install_crypto();
        let home = TempHome::new();
        let mut all: Vec<(&str, &str)> = Vec::new();
        if !notifications {
            all.push(("RECONNECT_NO_NOTIFICATIONS", "1"));
        }
        all.extend_from_slice(env);
        let driver = WindowDriver::start(&home, &all).expect("tauri-driver");
        let client = ClientBuilder::rustls()
            .expect("rustls client")
            .capabilities(driver.capabilities())
            .connect(&driver.url)
            .await
            .expect("a WebDriver session on the real window");
        client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css("body[data-ready='true']"))
            .await
            .expect("the UI finished its first render");
        Self {
            client,
            home,
            _driver: driver,
        }
    }

    /// Starts the demo profile and waits until its seeded accounts have
    /// been refreshed once (the broken ones show their decoded reason).
    pub async fn demo() -> Self {
        let app = Self::start(&[("RECONNECT_PROFILE", "demo")]).await;
        for name in ["bianca-files", "carlos-crm", "diego-teams"] {
            app.wait_for(&format!(
                "li.card[data-name='{name}'][data-health='reconnect_needed']"
            ))
            .await;
        }
        app
    }

    /// Calls a backend command the way the UI does.
    pub async fn invoke(&self, cmd: &str, args: Value) -> Value {
        let script = r#"
            const [cmd, args, done] = arguments;
            window.__TAURI__.core.invoke(cmd, args)
              .then(v => done({ ok: v }))
              .catch(e => done({ err: String(e) }));
        "#;
        self.client
            .execute_async(script, vec![Value::from(cmd), args])
            .await
            .expect("invoke script ran")
    }

    /// Waits for an element matching `css`.
    pub async fn wait_for(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// The text of the first element matching `css` (its `textContent`
    /// with runs of white space collapsed; WebKitWebDriver's element text
    /// drops ellipsised grid cells).
    pub async fn text(&self, css: &str) -> String {
        let el = self.wait_for(css).await;
        let value = self
            .client
            .execute(
                "return arguments[0].textContent.replace(/\\s+/g, ' ').trim();",
                vec![serde_json::to_value(&el).expect("element reference")],
            )
            .await
            .expect("element text");
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Clicks the first element matching `css`. Cards are rebuilt when
    /// their data changes, so an element found a moment ago may be gone: the
    /// click is retried on a fresh lookup.
    pub async fn click(&self, css: &str) {
        let mut last = None;
        for _ in 0..20 {
            match self.wait_for(css).await.click().await {
                Ok(()) => return,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        panic!("click {css}: {last:?}");
    }

    /// Picks `value` in the first `<select>` matching `css`, as a user
    /// does (a click on the option). Views may re-render under the test,
    /// leaving a just-clicked option detached, so the choice is checked on
    /// a fresh lookup and made again until it sticks.
    pub async fn choose(&self, css: &str, value: &str) {
        for _ in 0..20 {
            let option = format!("{css} option[value='{value}']");
            if let Ok(()) = self.wait_for(&option).await.click().await {
                let picked = self
                    .client
                    .execute(
                        "const s = document.querySelector(arguments[0]); return s ? s.value : null;",
                        vec![Value::from(css)],
                    )
                    .await
                    .expect("read the select");
                if picked.as_str() == Some(value) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        panic!("could not choose {value} in {css}");
    }

    /// Navigates inside the app (hash routes).
    pub async fn go(&self, hash: &str) {
        self.client
            .execute("location.hash = arguments[0];", vec![Value::from(hash)])
            .await
            .expect("navigate");
    }

    /// Waits until `css` no longer matches anything.
    pub async fn wait_gone(&self, css: &str) {
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            let found = self
                .client
                .find_all(Locator::Css(css))
                .await
                .expect("query");
            if found.is_empty() {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{css} is still there");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Saves a screenshot of the window under `artifacts/`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(artifacts_dir().join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Ends the session (closing the app).
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
