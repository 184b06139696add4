//! An independent OpenID Connect provider for the tests: panva's
//! `oidc-provider` from the npm registry (`tests/peers/oidc-provider`,
//! installed by `scripts/install-deps.sh --test`), run with Node.js on a
//! loopback port of its own choosing.
//!
//! - [`OidcPeer::start`] runs `node server.mjs`, reads the `ready ISSUER`
//!   line it prints once it listens, and kills it when dropped.
//! - [`approve_device`] plays the person at the verification page of the
//!   device authorization grant (RFC 8628): it opens the page with a cookie
//!   jar, submits the user code with the page's xsrf token, confirms it, signs
//!   in with a login name (any name works; it becomes the subject), consents
//!   (offline_access included) and stops on the success page.
//! - [`walk_sign_in`] does the same for an authorization request: from the
//!   authorization URL through login and consent until the provider redirects
//!   to the client's (loopback) redirect URI.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use reconnect_e2e::oidc_peer::{OidcPeer, approve_device};
//! let peer = OidcPeer::start()?;
//! // … a device authorization request to `peer.issuer` gave a user code …
//! # let (verification_uri, user_code) = (String::new(), String::new());
//! approve_device(&verification_uri, &user_code, "alice").await?;
//! # Ok(())
//! # }
//! ```

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail, ensure};
use url::Url;

use crate::harness::{KillOnDrop, workspace_root};

/// The client registered at the peer: public (no secret), native (loopback
/// redirect URIs on any port), allowed the device code, authorization code
/// and refresh token grants.
pub const CLIENT_ID: &str = "reconnect-e2e";
/// A second public client the peer registers without the refresh_token
/// grant: it never gets a refresh token, whatever it asks for.
pub const NO_REFRESH_CLIENT_ID: &str = "reconnect-e2e-no-refresh";

/// The scopes that get an id_token and a refresh token.
pub const SCOPES: &str = "openid profile offline_access";

/// How long the peer may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// No approval needs more pages than this; more means a form is looping.
const MAX_PAGES: usize = 12;

/// Where the peer's `package.json`, lockfile and `server.mjs` are.
pub fn peer_dir() -> PathBuf {
    workspace_root().join("tests/peers/oidc-provider")
}

/// How to run the peer.
#[derive(Debug, Clone)]
pub struct PeerSettings {
    /// Access token lifetime in seconds.
    pub access_ttl: u64,
    /// Device code lifetime in seconds.
    pub device_ttl: u64,
    /// The polling interval announced with each device code, in seconds.
    pub interval: u64,
}

impl Default for PeerSettings {
    fn default() -> Self {
        Self {
            access_ttl: 300,
            device_ttl: 600,
            interval: 1,
        }
    }
}

/// A running `oidc-provider` on 127.0.0.1, stopped when dropped.
#[derive(Debug)]
pub struct OidcPeer {
    /// The issuer, `http://127.0.0.1:PORT` (no trailing slash).
    pub issuer: String,
    /// The registered public client's id ([`CLIENT_ID`]).
    pub client_id: String,
    log: Arc<Mutex<String>>,
    _process: KillOnDrop,
}

impl OidcPeer {
    /// Starts the peer with the default [`PeerSettings`].
    pub fn start() -> anyhow::Result<Self> {
        Self::start_with(&PeerSettings::default())
    }

    /// Starts `node server.mjs --port 0` in [`peer_dir`] and waits for the
    /// line announcing its issuer.
    pub fn start_with(settings: &PeerSettings) -> anyhow::Result<Self> {
        let dir = peer_dir();
        ensure!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "{} has no node_modules: run scripts/install-deps.sh --test (it runs npm ci there)",
            dir.display()
        );
        let mut child = Command::new("node")
            .arg("server.mjs")
            .args(["--port", "0"])
            .current_dir(&dir)
            .env("OIDC_PEER_CLIENT_ID", CLIENT_ID)
            .env("OIDC_PEER_ACCESS_TTL", settings.access_ttl.to_string())
            .env("OIDC_PEER_DEVICE_TTL", settings.device_ttl.to_string())
            .env("OIDC_PEER_INTERVAL", settings.interval.to_string())
            // Should the test die without dropping us, the closed pipe ends the peer.
            .env("OIDC_PEER_EXIT_ON_STDIN_EOF", "1")
            .env_remove("NODE_OPTIONS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("could not run `node` for the OpenID provider peer: install Node.js (scripts/install-deps.sh --test)")?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let process = KillOnDrop(child);

        let log = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stderr).lines();
            while let Some(Ok(line)) = lines.next() {
                let mut log = sink.lock().unwrap_or_else(|e| e.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });

        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut out = BufReader::new(stdout);
            let mut line = String::new();
            let first = match out.read_line(&mut line) {
                Ok(0) => Err(anyhow!("the peer exited before it listened")),
                Ok(_) => Ok(line.trim().to_owned()),
                Err(e) => Err(e.into()),
            };
            let _ = tx.send(first);
            let _ = std::io::copy(&mut out, &mut std::io::sink());
        });
        let first = rx.recv_timeout(START_TIMEOUT).map_err(|_| {
            anyhow!(
                "the peer did not say it was ready within {} s",
                START_TIMEOUT.as_secs()
            )
        });
        let issuer = first
            .and_then(|line| line)
            .and_then(|line| {
                line.strip_prefix("ready ")
                    .map(str::to_owned)
                    .ok_or_else(|| anyhow!("the peer's first line was not `ready ISSUER`: {line}"))
            })
            .map_err(|e| {
                // Give stderr a moment to arrive: it says why node stopped.
                std::thread::sleep(Duration::from_millis(200));
                let said = log.lock().unwrap_or_else(|e| e.into_inner()).clone();
                anyhow!("{e}; its stderr:\n{said}")
            })?;
        Url::parse(&issuer).with_context(|| format!("the announced issuer {issuer}"))?;
        Ok(Self {
            issuer,
            client_id: CLIENT_ID.to_owned(),
            log,
            _process: process,
        })
    }

    /// What the peer has written on stderr so far (warnings and the errors
    /// it reports for failed grants), for assertion messages.
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// `path` under the issuer.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// Every grant the token endpoint made so far, in order: its
    /// `grant_type`, what it `issued` (`access_token`, `refresh_token`,
    /// `id_token`; never the tokens) and the granted `scope`.
    pub async fn grants(&self) -> anyhow::Result<Vec<Grant>> {
        let response = http_client(false)?
            .get(self.url("/_peer/grants"))
            .send()
            .await?;
        ensure!(
            response.status().is_success(),
            "listing grants: {}",
            response.status()
        );
        Ok(response.json().await?)
    }

    /// Merges `claims` into what the peer says about `login` from now on
    /// (in id_tokens and at the userinfo endpoint).
    pub async fn set_claims(&self, login: &str, claims: serde_json::Value) -> anyhow::Result<()> {
        let url = self.control_url(login, "")?;
        let response = http_client(false)?.put(url).json(&claims).send().await?;
        ensure!(
            response.status().is_success(),
            "setting claims: {}",
            response.status()
        );
        Ok(())
    }

    /// Makes `login` unknown to the peer: its grants stop working (a refresh
    /// fails with `invalid_grant`).
    pub async fn disable_account(&self, login: &str) -> anyhow::Result<()> {
        let url = self.control_url(login, "/disable")?;
        let response = http_client(false)?.post(url).send().await?;
        ensure!(
            response.status().is_success(),
            "disabling {login}: {}",
            response.status()
        );
        Ok(())
    }

    fn control_url(&self, login: &str, tail: &str) -> anyhow::Result<Url> {
        let mut url = Url::parse(&self.issuer)?;
        url.path_segments_mut()
            .map_err(|()| anyhow!("the issuer cannot have a path"))?
            .extend(["_peer", "accounts", login]);
        Ok(Url::parse(&format!("{url}{tail}"))?)
    }
}

/// One grant the peer's token endpoint made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Grant {
    /// `authorization_code`, `refresh_token` or the device code grant's URN.
    pub grant_type: String,
    /// What the answer carried: `access_token`, `refresh_token`, `id_token`.
    pub issued: Vec<String>,
    /// The scope granted.
    pub scope: String,
}

impl Grant {
    /// Whether the answer carried a refresh token.
    pub fn gave_refresh_token(&self) -> bool {
        self.issued.iter().any(|t| t == "refresh_token")
    }
}

/// A loopback HTTP client for pages and control calls: no proxy, a short
/// timeout, and (for pages) a cookie jar and followed redirects.
fn http_client(browser: bool) -> anyhow::Result<reqwest::Client> {
    let redirects = if browser {
        reqwest::redirect::Policy::limited(10)
    } else {
        reqwest::redirect::Policy::none()
    };
    Ok(reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .cookie_store(browser)
        .redirect(redirects)
        .build()?)
}

/// How the approval went.
#[derive(Debug, Clone)]
pub struct Approval {
    /// The forms submitted, in order: `code` (the user code), `submit` (the
    /// auto-posting page `verification_uri_complete` serves), `confirm`,
    /// `login`, `consent`.
    pub steps: Vec<&'static str>,
    /// The text of the final page.
    pub text: String,
}

/// Approves a pending device authorization as its user would in a browser:
/// opens `verification_uri` (or `verification_uri_complete`), enters
/// `user_code` when asked, confirms it, signs in as `login` (any name is
/// accepted; it becomes the subject) and consents, until the provider's
/// "Sign-in Success" page. Fails with the provider's error when a page says
/// the code is wrong, expired or used, or when the pages loop.
pub async fn approve_device(
    verification_uri: &str,
    user_code: &str,
    login: &str,
) -> anyhow::Result<Approval> {
    let client = http_client(true)?;
    let mut steps = Vec::new();
    let mut response = client
        .get(verification_uri)
        .send()
        .await
        .with_context(|| format!("opening {verification_uri}"))?;
    for _ in 0..MAX_PAGES {
        let at = response.url().clone();
        let status = response.status();
        let html = response.text().await?;
        let page = Page::parse(&html);
        if page.title.contains("Sign-in Success") {
            return Ok(Approval {
                steps,
                text: page.text,
            });
        }
        if let Some(error) = page.error() {
            bail!("the device verification at {at} failed ({status}): {error}");
        }
        let form = page
            .forms
            .first()
            .ok_or_else(|| anyhow!("no form on {at} ({status}): {}", page.text))?;
        let (step, fields) = fill(form, user_code, login)?;
        steps.push(step);
        let action = at.join(&form.action)?;
        response = client
            .post(action.clone())
            .form(&fields)
            .send()
            .await
            .with_context(|| format!("posting the {step} form to {action}"))?;
    }
    bail!("the device verification did not finish within {MAX_PAGES} pages ({steps:?})")
}

/// Walks an authorization request through the peer's pages: opens
/// `authorize_url`, signs in as `login`, consents, and returns the URL the
/// provider redirected to (the client's redirect URI with `code` and
/// `state`, or with `error`), without visiting it.
pub async fn walk_sign_in(
    authorize_url: &str,
    login: &str,
) -> anyhow::Result<(Vec<&'static str>, Url)> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let start = Url::parse(authorize_url)?;
    let mut steps = Vec::new();
    let mut next = Some((start.clone(), None::<Vec<(String, String)>>));
    let mut pages = 0;
    while let Some((url, form)) = next.take() {
        pages += 1;
        ensure!(
            pages <= MAX_PAGES * 2,
            "the sign-in did not finish ({steps:?})"
        );
        let request = match form {
            Some(fields) => client.post(url.clone()).form(&fields),
            None => client.get(url.clone()),
        };
        let response = request
            .send()
            .await
            .with_context(|| format!("requesting {url}"))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| anyhow!("a redirect without a Location from {url}"))?;
            let target = url.join(location)?;
            if target.origin() != start.origin() {
                return Ok((steps, target));
            }
            next = Some((target, None));
            continue;
        }
        let html = response.text().await?;
        let page = Page::parse(&html);
        if let Some(error) = page.error() {
            bail!("the sign-in at {url} failed ({status}): {error}");
        }
        let form = page
            .forms
            .first()
            .ok_or_else(|| anyhow!("no form on {url} ({status}): {}", page.text))?;
        let (step, fields) = fill(form, "", login)?;
        steps.push(step);
        next = Some((url.join(&form.action)?, Some(fields)));
    }
    bail!("the sign-in stopped without a redirect ({steps:?})")
}

/// Which form this is, and the fields to submit: hidden fields as they are,
/// the user code, login name and password typed in.
fn fill(
    form: &Form,
    user_code: &str,
    login: &str,
) -> anyhow::Result<(&'static str, Vec<(String, String)>)> {
    let hidden = |name: &str| {
        form.inputs
            .iter()
            .find(|i| i.name == name && i.kind == "hidden")
            .map(|i| i.value.as_str())
    };
    let step = match (form.id.as_str(), hidden("prompt")) {
        ("op.deviceInputForm", _) => "code",
        ("op.deviceConfirmForm", _) => "confirm",
        (_, Some("login")) => "login",
        (_, Some("consent")) => "consent",
        _ if hidden("user_code").is_some() && hidden("xsrf").is_some() => "submit",
        _ => bail!("a form this walker does not know: {form:?}"),
    };
    let mut fields = Vec::new();
    for input in &form.inputs {
        let value = match (input.kind.as_str(), input.name.as_str()) {
            ("hidden", _) => input.value.clone(),
            (_, "user_code") => user_code.to_owned(),
            (_, "login") => login.to_owned(),
            (_, "password") => "any password".to_owned(),
            _ => input.value.clone(),
        };
        fields.push((input.name.clone(), value));
    }
    Ok((step, fields))
}

/// What a page of the peer holds that the walkers need.
#[derive(Debug, Clone, Default)]
struct Page {
    title: String,
    text: String,
    forms: Vec<Form>,
    /// The fields of the peer's error page (`<dl id="error">`), if it is one.
    error_fields: Vec<(String, String)>,
    /// A paragraph saying the code was wrong (the input page re-rendered).
    notice: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Form {
    id: String,
    action: String,
    inputs: Vec<Input>,
}

#[derive(Debug, Clone, Default)]
struct Input {
    name: String,
    kind: String,
    value: String,
}

impl Page {
    fn parse(html: &str) -> Self {
        let doc = dom_query::Document::from(html);
        let collapse = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let title = collapse(&doc.select("title").text());
        let text = collapse(&doc.select("body").text());
        let forms = doc
            .select("form")
            .iter()
            .filter(|f| {
                f.attr("method")
                    .is_some_and(|m| m.eq_ignore_ascii_case("post"))
            })
            .map(|f| Form {
                id: f.attr("id").map(|s| s.to_string()).unwrap_or_default(),
                action: f.attr("action").map(|s| s.to_string()).unwrap_or_default(),
                inputs: f
                    .select("input[name]")
                    .iter()
                    .map(|i| Input {
                        name: i.attr("name").map(|s| s.to_string()).unwrap_or_default(),
                        kind: i
                            .attr("type")
                            .map(|s| s.to_ascii_lowercase())
                            .unwrap_or_else(|| "text".into()),
                        value: i.attr("value").map(|s| s.to_string()).unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect();
        let error_fields = doc
            .select("#error dd[data-field]")
            .iter()
            .map(|d| {
                (
                    d.attr("data-field")
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                    collapse(&d.text()),
                )
            })
            .collect();
        let notice = doc
            .select("p.red")
            .iter()
            .map(|p| collapse(&p.text()))
            .find(|t| !t.is_empty());
        Self {
            title,
            text,
            forms,
            error_fields,
            notice,
        }
    }

    /// Why the page is not a step forward: the provider's error page, or
    /// the code entry page saying the code was wrong, expired or used.
    fn error(&self) -> Option<String> {
        if !self.error_fields.is_empty() {
            let parts: Vec<String> = self
                .error_fields
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            return Some(parts.join("; "));
        }
        if self.title.contains("oops") {
            return Some(self.text.clone());
        }
        self.notice.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_entry_page_is_filled_with_the_code() {
        let html = r#"<html><head><title>Sign-in</title></head><body>
            <p>Enter the code displayed on your device</p>
            <form id="op.deviceInputForm" novalidate method="post" action="/device">
              <input type="hidden" name="xsrf" value="abc"/>
              <input type="text" name="user_code" placeholder="Enter code"></input>
            </form>
            <button type="submit" form="op.deviceInputForm">Continue</button></body></html>"#;
        let page = Page::parse(html);
        assert!(page.error().is_none(), "{page:?}");
        let (step, fields) = fill(&page.forms[0], "ABCD-EFGH", "alice").unwrap();
        assert_eq!(step, "code");
        assert_eq!(
            fields,
            vec![
                ("xsrf".to_owned(), "abc".to_owned()),
                ("user_code".to_owned(), "ABCD-EFGH".to_owned())
            ]
        );
    }

    #[test]
    fn a_wrong_code_is_an_error() {
        let html = r#"<html><head><title>Sign-in</title></head><body>
            <p class="red">The code you entered is incorrect. Try again</p>
            <form id="op.deviceInputForm" method="post" action="/device">
              <input type="hidden" name="xsrf" value="abc"/></form></body></html>"#;
        let page = Page::parse(html);
        assert_eq!(
            page.error().as_deref(),
            Some("The code you entered is incorrect. Try again")
        );
    }
}
