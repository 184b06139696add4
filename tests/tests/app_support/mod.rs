//! Shared steps of the window tests: open the real app over WebDriver with
//! an isolated environment, wait for the UI, call a command, read text.

#![allow(dead_code)]

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use reconnect_e2e::browser::{Miss, Need, Page};
use reconnect_e2e::harness::{TempHome, keyring_note};
use reconnect_e2e::window::{WindowDriver, artifacts_dir};
use serde_json::Value;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// Picks rustls' crypto provider once (more than one is compiled in).
pub use reconnect_e2e::browser::install_crypto;

/// The app under test, its WebDriver session and its isolated home.
pub struct App {
    pub client: Client,
    pub home: TempHome,
    _driver: WindowDriver,
    /// This test's turn on the display; dropped last, after the app.
    _screen: OwnedMutexGuard<()>,
}

/// One app window on the display at a time: the tests of a binary share
/// one X display, and WebKit does not paint a window that another covers,
/// so screenshots showed an old frame (and focus moved between tests).
/// Binaries already run one after another.
static SCREEN: LazyLock<Arc<Mutex<()>>> = LazyLock::new(Arc::default);

/// Waits for this test's turn on the display (for a test that drives a
/// window without [`App`]); the turn ends when the guard drops.
pub async fn screen_turn() -> OwnedMutexGuard<()> {
    SCREEN.clone().lock_owned().await
}

/// How long UI changes that involve the engine may take.
pub const PATIENCE: Duration = Duration::from_secs(90);

/// Polls `check` until it gives a value, failing with `what` after
/// [`PATIENCE`] (a bound on waiting, not a timing being tested).
pub async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what} never happened"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

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
        let screen = screen_turn().await;
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
        Page::new(&client)
            .with_patience(PATIENCE)
            .find(Locator::Css("body[data-ready='true']"))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "the UI never finished its first render: {e}{}",
                    keyring_note()
                )
            });
        Self {
            client,
            home,
            _driver: driver,
            _screen: screen,
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
              .catch(e => done({ err: e && typeof e === "object" ? e : String(e) }));
        "#;
        self.client
            .execute_async(script, vec![Value::from(cmd), args])
            .await
            .expect("invoke script ran")
    }

    /// Settle-then-act helpers on the window, waiting up to [`PATIENCE`].
    pub fn page(&self) -> Page<'_> {
        Page::new(&self.client).with_patience(PATIENCE)
    }

    /// Waits for an element matching `css` in the rendered page.
    pub async fn wait_for(&self, css: &str) -> Element {
        self.page()
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{e}{}", keyring_note()))
    }

    /// The text of the first element matching `css` (its `textContent`
    /// with runs of white space collapsed; WebKitWebDriver's element text
    /// drops ellipsised grid cells), found and read in one page call.
    pub async fn text(&self, css: &str) -> String {
        self.page()
            .text(css)
            .await
            .unwrap_or_else(|e| panic!("{e}{}", keyring_note()))
    }

    /// Clicks the first element matching `css` once it is shown and
    /// enabled. Cards are rebuilt when their data changes, so an element
    /// found a moment ago may be gone: the helper then looks it up again.
    pub async fn click(&self, css: &str) {
        self.page()
            .click(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{e}{}", keyring_note()))
    }

    /// Replaces the value of the first field matching `css` by typing
    /// `text` into it, once it is shown and enabled.
    pub async fn fill(&self, css: &str, text: &str) {
        self.page()
            .fill(Locator::Css(css), text)
            .await
            .unwrap_or_else(|e| panic!("{e}{}", keyring_note()))
    }

    /// Picks `value` in the first `<select>` matching `css`, as a user
    /// does (a click on the option). Views may re-render under the test,
    /// leaving a just-clicked option detached, so the choice is checked on
    /// a fresh lookup and made again until it sticks.
    pub async fn choose(&self, css: &str, value: &str) {
        let page = self.page();
        let option = format!("{css} option[value='{value}']");
        let picked = "const s = document.querySelector(arguments[0]); return s ? s.value : null;";
        page.until(css, &format!("to have {value} chosen"), async || {
            let mut click = async |el: Element| Ok(el.click().await?);
            page.attempt(Locator::Css(&option), Need::Usable, &mut click)
                .await?;
            let now = self.client.execute(picked, vec![Value::from(css)]).await?;
            if now.as_str() == Some(value) {
                Ok(())
            } else {
                Err(Miss::NotYet(format!("the select still holds {now}")))
            }
        })
        .await
        .unwrap_or_else(|e| panic!("{e}{}", keyring_note()))
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
        self.page()
            .until(css, "to be gone", async || {
                let found = self.client.find_all(Locator::Css(css)).await?;
                if found.is_empty() {
                    Ok(())
                } else {
                    Err(Miss::NotYet(format!("{} still match", found.len())))
                }
            })
            .await
            .unwrap_or_else(|e| panic!("{e}{}", keyring_note()))
    }

    /// Waits until exactly `n` elements match `css` (counted in one page
    /// call, so a re-render cannot split the count).
    pub async fn wait_count(&self, css: &str, n: usize) {
        let count = "return document.querySelectorAll(arguments[0]).length;";
        self.page()
            .until(css, &format!("to match {n} elements"), async || {
                let now = self.client.execute(count, vec![Value::from(css)]).await?;
                if now.as_u64() == Some(n as u64) {
                    Ok(())
                } else {
                    Err(Miss::NotYet(format!("{now} match so far")))
                }
            })
            .await
            .unwrap_or_else(|e| panic!("{e}{}", keyring_note()))
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
