//! Acting on web pages over WebDriver without racing them: the real window
//! (WebKitWebDriver) and headless Chromium alike.
//!
//! A page can change under a test at any moment: a form post replaces the
//! whole document, a view re-renders and replaces the element just found.
//! Checking that an element exists and then looking it up again to use it
//! loses that race now and then, and a fixed sleep only makes it rarer. So
//! every helper here does one *attempt* at a time (look the element up,
//! check in one script call that the document has finished loading and the
//! element is attached, shown, enabled and not covered, then act on it) and
//! repeats the whole attempt after a short pause when it misses or when
//! WebDriver says the element went stale, vanished or could not be used. A
//! click is also checked to have reached its element: a view rebuilt
//! between the press and the release of the mouse button swallows the click
//! without any WebDriver error. Each wait is bounded; when it runs out, the
//! error says what was waited for, on which address, and what went wrong
//! last.
//!
//! - [`Page`] is that settle-then-act primitive ([`Page::until`],
//!   [`Page::on`]) with the usual actions on top ([`Page::click`],
//!   [`Page::fill`], [`Page::find`], [`Page::text`], [`Page::read`]).
//! - [`Chromium`] starts chromedriver and Debian's headless Chromium, and
//!   stops both when dropped.
//! - [`walk_sim_sign_in`] completes the simulator's sign-in form (user,
//!   password, MFA, consent) until the browser leaves the simulator.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use fantoccini::Locator;
//! use reconnect_e2e::browser::{Chromium, Page};
//! let chromium = Chromium::launch().await?;
//! chromium.client.goto("http://127.0.0.1:8080/").await?;
//! let page = Page::new(&chromium.client);
//! page.fill(Locator::Id("username"), "alice@contoso.test").await?;
//! page.click(Locator::Id("next")).await?;
//! chromium.close().await;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::{CmdError, ErrorStatus};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::Value;

use crate::harness::KillOnDrop;

/// How long a helper waits by default before it gives up.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The pause between two attempts.
const POLL: Duration = Duration::from_millis(100);

/// The Debian package `chromium`'s browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The Debian package `chromium-driver`'s WebDriver server.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// What an element must be before a helper acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// In the document, which has finished loading.
    Present,
    /// Present, and also shown, enabled and not covered by another element
    /// (a toast, say), so a click or keys reach it.
    Usable,
}

impl Need {
    fn describe(self) -> &'static str {
        match self {
            Self::Present => "to be present",
            Self::Usable => "to be present and clickable",
        }
    }
}

/// Why one attempt did not get there.
#[derive(Debug)]
pub enum Miss {
    /// The page is not in the state needed yet; the text says what is off.
    NotYet(String),
    /// A WebDriver command failed; [`is_transient`] decides whether another
    /// attempt may succeed.
    Command(CmdError),
}

impl From<CmdError> for Miss {
    fn from(e: CmdError) -> Self {
        Self::Command(e)
    }
}

/// A wait that ran out, or a command that cannot succeed by trying again.
#[derive(Debug)]
pub struct Stalled {
    message: String,
}

impl Stalled {
    /// An error with `message` as its whole text.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for Stalled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Stalled {}

/// Whether a failed command may work on a fresh look-up a moment later: the
/// element went stale or is missing, could not take the click or the keys,
/// or the document was being replaced while a script ran.
pub fn is_transient(e: &CmdError) -> bool {
    let CmdError::Standard(w) = e else {
        return false;
    };
    matches!(
        w.error,
        ErrorStatus::StaleElementReference
            | ErrorStatus::NoSuchElement
            | ErrorStatus::ElementNotInteractable
            | ErrorStatus::ElementClickIntercepted
            | ErrorStatus::InvalidElementState
            | ErrorStatus::DetachedShadowRoot
            | ErrorStatus::JavascriptError
            | ErrorStatus::UnknownError
    )
}

/// A one-line account of a failed command (drivers append stack traces).
fn brief(e: &CmdError) -> String {
    match e {
        CmdError::Standard(w) => {
            let first = w.message.lines().next().unwrap_or_default();
            let status = w.error.to_string();
            if first.starts_with(&status) {
                first.to_owned()
            } else {
                format!("{status}: {first}")
            }
        }
        other => other.to_string(),
    }
}

/// How a locator reads in a message: `#id` or the CSS selector.
pub fn describe(target: Locator<'_>) -> String {
    match target {
        Locator::Id(id) => format!("#{id}"),
        Locator::Css(css) => css.to_owned(),
        Locator::LinkText(text) => format!("the link \"{text}\""),
        Locator::XPath(path) => format!("xpath {path}"),
    }
}

/// Decides in one script call whether the element may be used now; returns
/// null when it may, or what is still off.
const SETTLED: &str = r#"
const [el, usable] = arguments;
if (document.readyState !== 'complete') return 'the page is still loading';
if (!el.isConnected) return 'the element is detached from the page';
if (!usable) return null;
const box = el.closest('select') || el;
if (box.getClientRects().length === 0 || getComputedStyle(box).visibility === 'hidden')
  return 'the element is not displayed';
if (el.disabled || box.disabled) return 'the element is disabled';
if (box !== el) return null;
el.scrollIntoView({ block: 'nearest', inline: 'nearest' });
const r = el.getBoundingClientRect();
const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
if (hit && hit !== el && !el.contains(hit) && !(hit.control === el)) {
  const name = hit.tagName.toLowerCase() + (hit.id ? '#' + hit.id : '') +
    (hit.className && typeof hit.className === 'string' ? '.' + hit.className.trim().split(/\s+/).join('.') : '');
  return 'the element is covered by ' + name;
}
return null;
"#;

/// The collapsed `textContent` of the first match of a selector, once the
/// document has loaded; null while there is none.
const TEXT: &str = r#"
const el = document.readyState === 'complete' ? document.querySelector(arguments[0]) : null;
return el ? el.textContent.replace(/\s+/g, ' ').trim() : null;
"#;

/// Numbers the clicks [`Page::click`] confirms.
static NEXT_CLICK: AtomicU64 = AtomicU64::new(1);

/// Arms a listener that notes when a click reaches the element or, if the
/// view was rebuilt in between, an element matching the same selector (the
/// new copy of the same button). A click that lands elsewhere (such as the
/// common parent, when the press and the release hit different copies)
/// does not count.
const ARM_CLICK: &str = r#"
const [el, token, selector] = arguments;
const before = window.__reconnectClick;
if (before) document.removeEventListener('click', before.listener, true);
const seen = { token, hit: false };
seen.listener = (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (target && (el.contains(target) || (selector && target.closest(selector)))) seen.hit = true;
};
window.__reconnectClick = seen;
document.addEventListener('click', seen.listener, true);
"#;

/// Whether the armed click arrived: false only while the document it was
/// armed in is still there and the element has not seen it.
const CLICK_LANDED: &str = r#"
const seen = window.__reconnectClick;
return !seen || seen.token !== arguments[0] || seen.hit;
"#;

/// Settle-then-act on the current document of one WebDriver session.
#[derive(Debug, Clone, Copy)]
pub struct Page<'c> {
    client: &'c Client,
    patience: Duration,
}

impl<'c> Page<'c> {
    /// Helpers on `client`'s current window, waiting up to [`PATIENCE`].
    pub fn new(client: &'c Client) -> Self {
        Self {
            client,
            patience: PATIENCE,
        }
    }

    /// The same helpers with another bound on each wait.
    pub fn with_patience(self, patience: Duration) -> Self {
        Self { patience, ..self }
    }

    /// The session the helpers drive.
    pub fn client(&self) -> &'c Client {
        self.client
    }

    /// Runs `attempt` until it succeeds, pausing briefly between attempts
    /// that missed or failed with a transient error. Gives up at once on
    /// any other error, and after the patience runs out; the error then
    /// reads "waited N s for SUBJECT on ADDRESS GOAL; last error: …".
    pub async fn until<T>(
        &self,
        subject: &str,
        goal: &str,
        mut attempt: impl AsyncFnMut() -> Result<T, Miss>,
    ) -> Result<T, Stalled> {
        let started = Instant::now();
        loop {
            let last = match attempt().await {
                Ok(value) => return Ok(value),
                Err(Miss::NotYet(why)) => why,
                Err(Miss::Command(e)) if is_transient(&e) => brief(&e),
                Err(Miss::Command(e)) => {
                    let at = self.address().await;
                    return Err(Stalled::new(format!(
                        "gave up waiting for {subject} on {at} {goal}: {}",
                        brief(&e)
                    )));
                }
            };
            if started.elapsed() >= self.patience {
                let at = self.address().await;
                let secs = started.elapsed().as_secs();
                return Err(Stalled::new(format!(
                    "waited {secs} s for {subject} on {at} {goal}; last error: {last}"
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Looks `target` up afresh on every attempt, waits until it is
    /// [`Need`]ed enough, and runs `act` on it; an attempt whose look-up,
    /// check or action fails transiently is made again.
    pub async fn on<T>(
        &self,
        target: Locator<'_>,
        need: Need,
        mut act: impl AsyncFnMut(Element) -> Result<T, Miss>,
    ) -> Result<T, Stalled> {
        let subject = describe(target);
        self.until(&subject, need.describe(), async || {
            self.attempt(target, need, &mut act).await
        })
        .await
    }

    /// One attempt of [`Page::on`]: look `target` up, check in one script
    /// call that the document has loaded and the element is as `need`s,
    /// then act. For callers that build their own [`Page::until`] loop.
    pub async fn attempt<T>(
        &self,
        target: Locator<'_>,
        need: Need,
        act: &mut impl AsyncFnMut(Element) -> Result<T, Miss>,
    ) -> Result<T, Miss> {
        let el = self.client.find(target).await?;
        let handle = serde_json::to_value(&el).expect("an element reference is JSON");
        let usable = Value::Bool(need == Need::Usable);
        let verdict = self.client.execute(SETTLED, vec![handle, usable]).await?;
        if let Some(why) = verdict.as_str() {
            return Err(Miss::NotYet(why.to_owned()));
        }
        act(el).await
    }

    /// The element, once it is in the loaded document.
    pub async fn find(&self, target: Locator<'_>) -> Result<Element, Stalled> {
        self.on(target, Need::Present, async |el| Ok(el)).await
    }

    /// Clicks the element once it is shown, enabled and not covered, and
    /// makes sure the click arrived: a view re-rendered between the press
    /// and the release of the button swallows a click without any error,
    /// so a click the element never saw is made again on a fresh look-up.
    pub async fn click(&self, target: Locator<'_>) -> Result<(), Stalled> {
        self.on(target, Need::Usable, async |el| {
            self.click_and_confirm(target, el).await
        })
        .await
    }

    async fn click_and_confirm(&self, target: Locator<'_>, el: Element) -> Result<(), Miss> {
        let token = Value::from(NEXT_CLICK.fetch_add(1, Ordering::Relaxed));
        let handle = serde_json::to_value(&el).expect("an element reference is JSON");
        let selector = match target {
            Locator::Css(css) => Value::from(css),
            Locator::Id(id) => Value::from(format!("[id=\"{}\"]", id.replace('"', "\\\""))),
            Locator::LinkText(_) | Locator::XPath(_) => Value::Null,
        };
        self.client
            .execute(ARM_CLICK, vec![handle, token.clone(), selector])
            .await?;
        let clicked = el.click().await;
        // Drivers return once the page has handled the events; should one
        // return sooner, a second of looking keeps a click from being doubled.
        let looks = if clicked.is_ok() { 10 } else { 1 };
        for look in 0..looks {
            if look > 0 {
                tokio::time::sleep(POLL).await;
            }
            match self.client.execute(CLICK_LANDED, vec![token.clone()]).await {
                Ok(Value::Bool(false)) => continue,
                // It arrived, or the document it was armed in is gone.
                Ok(_) => return Ok(()),
                Err(e) if is_transient(&e) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
        clicked?;
        Err(Miss::NotYet(
            "the click never reached the element (the page changed under it)".into(),
        ))
    }

    /// Replaces the field's value by typing `text` into it (an empty
    /// `text` just clears it).
    pub async fn fill(&self, target: Locator<'_>, text: &str) -> Result<(), Stalled> {
        self.on(target, Need::Usable, async |el| {
            el.clear().await?;
            if !text.is_empty() {
                el.send_keys(text).await?;
            }
            Ok(())
        })
        .await
    }

    /// Runs `script` until it returns something other than null (or
    /// undefined), and returns that. The script runs in one call, so what it
    /// reads comes from one document; it should be free of side effects
    /// beyond marking what it has seen, since it may run many times.
    pub async fn read(
        &self,
        subject: &str,
        goal: &str,
        script: &str,
        args: Vec<Value>,
    ) -> Result<Value, Stalled> {
        self.until(subject, goal, async || {
            let value = self.client.execute(script, args.clone()).await?;
            if value.is_null() {
                return Err(Miss::NotYet(format!("{subject} is not there yet")));
            }
            Ok(value)
        })
        .await
    }

    /// The `textContent` of the first element matching `css`, with runs of
    /// white space collapsed, read in one script call (nothing can go stale
    /// between finding the element and reading it).
    pub async fn text(&self, css: &str) -> Result<String, Stalled> {
        let value = self
            .read(css, "to be present", TEXT, vec![Value::from(css)])
            .await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// The current address, for messages (or why it could not be read).
    pub async fn address(&self) -> String {
        match self.client.current_url().await {
            Ok(url) => url.to_string(),
            Err(e) => format!("an unknown address ({})", brief(&e)),
        }
    }
}

/// Picks rustls' ring crypto provider for the WebDriver clients (more than
/// one provider is linked into the test binaries, so none is the default).
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Headless Chromium behind its own chromedriver, on a throwaway profile.
/// Dropping it stops chromedriver and the browser and deletes the profile;
/// [`Chromium::close`] ends the session politely first.
pub struct Chromium {
    /// The WebDriver session.
    pub client: Client,
    driver: KillOnDrop,
    _profile: tempfile::TempDir,
}

impl fmt::Debug for Chromium {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chromium")
            .field("driver", &self.driver.0.id())
            .finish_non_exhaustive()
    }
}

impl Chromium {
    /// Starts chromedriver on a loopback port of its own choosing and opens
    /// a session on [`CHROMIUM`], headless, with a fresh user-data directory.
    pub async fn launch() -> anyhow::Result<Self> {
        install_crypto();
        let (driver, port) = start_chromedriver().await?;
        let profile = tempfile::tempdir()?;
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "chrome".into());
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": CHROMIUM, "args": args }),
        );
        let client = ClientBuilder::rustls()?
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .map_err(|e| anyhow::anyhow!("chromedriver opened no Chromium session: {e}"))?;
        Ok(Self {
            client,
            driver,
            _profile: profile,
        })
    }

    /// Settle-then-act helpers on the browser's window.
    pub fn page(&self) -> Page<'_> {
        Page::new(&self.client)
    }

    /// Ends the session (Chromium quits); chromedriver stops on drop.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // chromedriver leads its own process group, which Chromium joins: a
        // test that panicked before `close` leaves no browser behind.
        let group = format!("-{}", self.driver.0.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
    }
}

/// Starts chromedriver on port 0 and reads the port it took from what it
/// prints, so two tests starting at once never pick the same free port (a
/// port found free and handed over later may be taken in between, and the
/// test would then talk to another test's driver).
async fn start_chromedriver() -> anyhow::Result<(KillOnDrop, u16)> {
    use std::os::unix::process::CommandExt as _;
    let mut child = Command::new(CHROMEDRIVER)
        .arg("--port=0")
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            anyhow::anyhow!("could not start {CHROMEDRIVER} ({e}): install chromium-driver")
        })?;
    let stdout = child.stdout.take().expect("chromedriver's stdout is piped");
    let driver = KillOnDrop(child);
    let announced = tokio::task::spawn_blocking(move || announced_port(stdout));
    let port = tokio::time::timeout(Duration::from_secs(20), announced)
        .await
        .map_err(|_| anyhow::anyhow!("chromedriver did not start listening within 20 s"))???;
    Ok((driver, port))
}

/// Reads chromedriver's output up to "…started successfully on port N." and
/// returns N; the rest of the output is drained in the background.
fn announced_port(stdout: std::process::ChildStdout) -> anyhow::Result<u16> {
    const STARTED: &str = "ChromeDriver was started successfully on port ";
    let mut output = BufReader::new(stdout);
    let mut line = String::new();
    loop {
        line.clear();
        anyhow::ensure!(
            output.read_line(&mut line)? > 0,
            "chromedriver exited before it listened"
        );
        if let Some(rest) = line.trim().strip_prefix(STARTED) {
            let port = rest.trim_end_matches('.').parse()?;
            std::thread::spawn(move || std::io::copy(&mut output, &mut std::io::sink()));
            return Ok(port);
        }
    }
}

/// Who signs in on the simulator's page.
#[derive(Debug, Clone, Copy)]
pub struct Person<'a> {
    /// Typed into the username field when the page asks for a user.
    pub user: &'a str,
    /// Typed into the password field.
    pub password: &'a str,
}

/// How a walk through the simulator's sign-in form went.
#[derive(Debug, Clone)]
pub struct SignInWalk {
    /// The steps filled in, in order: `user`, `password`, `mfa`, `consent`.
    pub steps: Vec<&'static str>,
    /// Where the browser ended up once it left the simulator.
    pub landed: url::Url,
}

/// No sign-in needs more pages than this; more means the form is looping.
const MAX_PAGES: usize = 8;

/// Reads a document that has finished loading and was not read before (it
/// marks the ones it read), so each form post is seen to land exactly once:
/// `{ step, href, error }`, or null while the old document is still there
/// or the new one is loading.
const FRESH_DOCUMENT: &str = r#"
if (document.readyState !== 'complete' || !document.body || window.__reconnectWalked) return null;
window.__reconnectWalked = true;
const error = document.getElementById('error');
return {
  step: document.body.dataset.step ?? null,
  href: location.href,
  error: error ? error.textContent.trim() : null,
};
"#;

/// One document the walk arrived at.
struct Arrival {
    step: Option<String>,
    url: url::Url,
    error: Option<String>,
}

async fn next_document(page: &Page<'_>) -> Result<Arrival, Stalled> {
    let value = page
        .read(
            "the next page",
            "to finish loading",
            FRESH_DOCUMENT,
            Vec::new(),
        )
        .await?;
    let href = value["href"].as_str().unwrap_or_default();
    let url = url::Url::parse(href)
        .map_err(|e| Stalled::new(format!("the browser is at an odd address {href:?}: {e}")))?;
    Ok(Arrival {
        step: value["step"].as_str().map(str::to_owned),
        url,
        error: value["error"].as_str().map(str::to_owned),
    })
}

/// Fills in and submits the step the page shows; returns its name.
async fn fill_step(
    page: &Page<'_>,
    at: &Arrival,
    who: Person<'_>,
) -> Result<&'static str, Stalled> {
    if let Some(error) = &at.error {
        return Err(Stalled::new(format!(
            "the simulator turned the last answer down at {}: {error}",
            at.url
        )));
    }
    match at.step.as_deref() {
        Some("user") => {
            page.fill(Locator::Id("username"), who.user).await?;
            page.click(Locator::Id("next")).await?;
            Ok("user")
        }
        Some("password") => {
            page.fill(Locator::Id("password"), who.password).await?;
            page.click(Locator::Id("sign-in")).await?;
            Ok("password")
        }
        Some("mfa") => page.click(Locator::Id("approve")).await.map(|()| "mfa"),
        Some("consent") => page.click(Locator::Id("accept")).await.map(|()| "consent"),
        other => Err(Stalled::new(format!(
            "the simulator's page at {} shows a step this walk cannot fill: {other:?}",
            at.url
        ))),
    }
}

/// Opens `start` (the simulator's authorize URL) and completes the sign-in
/// form as `who`, one page at a time: it reads the step each new document
/// shows (`body[data-step]`), fills it in, submits it, and waits for the
/// next document. It stops when the browser has left the simulator's origin
/// (the redirect to the app's loopback) and returns the steps it filled.
/// A page showing an error, or a step it does not know, ends the walk.
pub async fn walk_sim_sign_in(
    client: &Client,
    start: &url::Url,
    who: Person<'_>,
) -> Result<SignInWalk, Stalled> {
    let page = Page::new(client);
    client
        .goto(start.as_str())
        .await
        .map_err(|e| Stalled::new(format!("could not open {start}: {}", brief(&e))))?;
    let simulator = start.origin();
    let mut steps = Vec::new();
    for _ in 0..MAX_PAGES {
        let at = next_document(&page).await?;
        if at.url.origin() != simulator {
            return Ok(SignInWalk {
                steps,
                landed: at.url,
            });
        }
        steps.push(fill_step(&page, &at, who).await?);
    }
    Err(Stalled::new(format!(
        "the sign-in form was still going after {MAX_PAGES} pages; steps filled: {steps:?}"
    )))
}
