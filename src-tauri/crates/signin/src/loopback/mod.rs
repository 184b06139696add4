//! The loopback redirect listener (RFC 8252 §7.3).
//!
//! It listens on 127.0.0.1 and [::1] on the same port (picked by the OS, or
//! from a configured range), accepts exactly one callback on the exact path
//! with the expected `state`, answers everything else with 404/400 and keeps
//! waiting. After the callback it redirects the browser to the bare redirect
//! path, so the code leaves the address bar and history, and shows the final
//! result there. Limits: header size, header read time, connection lifetime,
//! concurrent connections and total requests. Dropping it tears it down.

mod serve;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reconnect_core::secret::AuthorizationCode;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot, watch};
use tokio_util::sync::CancellationToken;

use crate::page::Page;
use serve::{Shared, accept_loop};

/// Where the redirect goes and how the listener defends itself.
#[derive(Debug, Clone)]
pub struct LoopbackConfig {
    /// Host in the redirect URI: `localhost` (both families), `127.0.0.1` or `[::1]`.
    pub host: String,
    /// Ports to try; `None` lets the OS pick.
    pub ports: Option<RangeInclusive<u16>>,
    /// The exact callback path.
    pub path: String,
    /// Defensive limits.
    pub limits: Limits,
}

impl Default for LoopbackConfig {
    fn default() -> Self {
        Self {
            host: "localhost".into(),
            ports: None,
            path: "/".into(),
            limits: Limits::default(),
        }
    }
}

/// Limits that keep a stray local process from holding the listener.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Time to send the request headers.
    pub header_read_timeout: Duration,
    /// Lifetime of one connection.
    pub connection_timeout: Duration,
    /// Request head size (hyper's minimum of 8 KiB applies).
    pub max_header_bytes: usize,
    /// Connections served at once; more are closed at once.
    pub max_concurrent: usize,
    /// Requests in total; past this the sign-in ends.
    pub max_requests: usize,
    /// How long the result page waits for the flow's outcome.
    pub result_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            connection_timeout: Duration::from_secs(30),
            max_header_bytes: 16 * 1024,
            max_concurrent: 16,
            max_requests: 200,
            result_wait: Duration::from_secs(60),
        }
    }
}

/// What the provider sent back through the browser.
#[derive(Debug)]
pub enum Callback {
    /// Success: an authorization code.
    Code {
        /// The code.
        code: AuthorizationCode,
        /// RFC 9207 `iss`, when sent.
        iss: Option<String>,
    },
    /// The provider's error redirect.
    Error {
        /// `error`.
        error: String,
        /// `error_description`.
        description: Option<String>,
        /// `error_subcode` (Entra: `cancel` when the user pressed Cancel).
        subcode: Option<String>,
        /// `error_uri`.
        uri: Option<String>,
    },
}

impl Callback {
    /// The answer a redirect's query carries: a code (with RFC 9207 `iss`),
    /// or the provider's error; `None` when it has neither. The `state` is
    /// the caller's to check.
    pub fn from_query(query: &HashMap<String, String>) -> Option<Self> {
        if let Some(code) = query.get("code").filter(|c| !c.is_empty()) {
            return Some(Self::Code {
                code: AuthorizationCode::new(code.clone()),
                iss: query.get("iss").cloned(),
            });
        }
        let error = query.get("error").filter(|e| !e.is_empty())?;
        Some(Self::Error {
            error: error.clone(),
            description: query.get("error_description").cloned(),
            subcode: query.get("error_subcode").cloned(),
            uri: query.get("error_uri").cloned(),
        })
    }
}

/// Listener failures.
#[derive(Debug, thiserror::Error)]
pub enum LoopbackError {
    /// The configured host is not a loopback name.
    #[error(
        "the redirect host `{0}` is not a loopback address (use localhost, 127.0.0.1 or [::1])"
    )]
    NotLoopback(String),
    /// The callback path is not an absolute path.
    #[error("the redirect path `{0}` must start with `/`")]
    BadPath(String),
    /// No free port.
    #[error(
        "no free port for the sign-in listener ({0}); close whatever uses it or configure another range"
    )]
    PortsBusy(String),
    /// Binding failed for another reason.
    #[error("could not open the sign-in listener on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Too many requests that were not the callback.
    #[error(
        "the sign-in listener got {0} requests that were not the sign-in answer; stopped to be safe"
    )]
    TooManyRequests(usize),
    /// The listener stopped.
    #[error("the sign-in listener stopped")]
    Closed,
}

/// A running listener. Dropping it stops it.
#[derive(Debug)]
pub struct Loopback {
    redirect_uri: String,
    addrs: Vec<SocketAddr>,
    callback: Option<oneshot::Receiver<Callback>>,
    fatal: Option<oneshot::Receiver<LoopbackError>>,
    page: watch::Sender<Option<Page>>,
    served: watch::Receiver<bool>,
    shutdown: CancellationToken,
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn families(host: &str) -> Result<(bool, bool), LoopbackError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return Ok((true, true));
    }
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) if ip.is_loopback() => Ok((true, false)),
        Ok(IpAddr::V6(ip)) if ip.is_loopback() => Ok((false, true)),
        _ => Err(LoopbackError::NotLoopback(host.to_owned())),
    }
}

fn v6_unavailable(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::AddrNotAvailable | std::io::ErrorKind::Unsupported
    ) || err.raw_os_error() == Some(97) // EAFNOSUPPORT on Linux
}

async fn bind_pair(
    want_v4: bool,
    want_v6: bool,
    port: u16,
) -> Result<Option<Vec<TcpListener>>, LoopbackError> {
    let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, port));
    let first_addr = if want_v4 { v4 } else { v6 };
    let first = match TcpListener::bind(first_addr).await {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => return Ok(None),
        Err(source) => {
            return Err(LoopbackError::Bind {
                addr: first_addr,
                source,
            });
        }
    };
    if !(want_v4 && want_v6) {
        return Ok(Some(vec![first]));
    }
    let port = first
        .local_addr()
        .map_err(|source| LoopbackError::Bind {
            addr: first_addr,
            source,
        })?
        .port();
    let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, port));
    match TcpListener::bind(v6).await {
        Ok(second) => Ok(Some(vec![first, second])),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Ok(None),
        Err(e) if v6_unavailable(&e) => {
            tracing::debug!("no IPv6 loopback here; listening on 127.0.0.1 only");
            Ok(Some(vec![first]))
        }
        Err(source) => Err(LoopbackError::Bind { addr: v6, source }),
    }
}

impl Loopback {
    /// Binds and starts serving. `state` is the value the callback must carry.
    pub async fn start(config: &LoopbackConfig, state: String) -> Result<Self, LoopbackError> {
        let (want_v4, want_v6) = families(&config.host)?;
        if !config.path.starts_with('/') || config.path.contains(['?', '#']) {
            return Err(LoopbackError::BadPath(config.path.clone()));
        }
        let candidates: Vec<u16> = match &config.ports {
            None => vec![0; 8],
            Some(range) => range.clone().collect(),
        };
        let mut listeners = None;
        for port in candidates {
            if let Some(found) = bind_pair(want_v4, want_v6, port).await? {
                listeners = Some(found);
                break;
            }
        }
        let described = match &config.ports {
            Some(r) => format!("ports {}-{} are in use", r.start(), r.end()),
            None => "the OS gave only ports that are in use".into(),
        };
        let listeners = listeners.ok_or(LoopbackError::PortsBusy(described))?;
        let addrs: Vec<SocketAddr> = listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect();
        let port = addrs
            .first()
            .map(SocketAddr::port)
            .ok_or(LoopbackError::Closed)?;
        let redirect_uri = format!("http://{}:{}{}", config.host, port, config.path);

        let (cb_tx, cb_rx) = oneshot::channel();
        let (fatal_tx, fatal_rx) = oneshot::channel();
        let (page_tx, page_rx) = watch::channel(None);
        let (served_tx, served_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            path: config.path.clone(),
            state,
            limits: config.limits.clone(),
            callback: Mutex::new(Some(cb_tx)),
            accepted: AtomicBool::new(false),
            requests: AtomicUsize::new(0),
            fatal: Mutex::new(Some(fatal_tx)),
            page: page_rx,
            served: served_tx,
        });
        let shutdown = CancellationToken::new();
        let slots = Arc::new(Semaphore::new(config.limits.max_concurrent.max(1)));
        for listener in listeners {
            tokio::spawn(accept_loop(
                listener,
                shared.clone(),
                slots.clone(),
                shutdown.clone(),
            ));
        }
        Ok(Self {
            redirect_uri,
            addrs,
            callback: Some(cb_rx),
            fatal: Some(fatal_rx),
            page: page_tx,
            served: served_rx,
            shutdown,
        })
    }

    /// The redirect URI to send in the authorize request.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The addresses listened on.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Waits for the one accepted callback (or a fatal listener error).
    pub async fn callback(&mut self) -> Result<Callback, LoopbackError> {
        let (Some(cb), Some(fatal)) = (self.callback.as_mut(), self.fatal.as_mut()) else {
            return Err(LoopbackError::Closed);
        };
        let result = tokio::select! {
            cb = cb => cb.map_err(|_| LoopbackError::Closed),
            err = fatal => Err(err.unwrap_or(LoopbackError::Closed)),
        };
        self.callback = None;
        result
    }

    /// Shows `page` on the bare redirect URL the browser was sent to, waits
    /// up to `grace` for the browser to fetch it, then tears down.
    pub async fn finish(mut self, page: Page, grace: Duration) {
        let _ = self.page.send(Some(page));
        let _ = tokio::time::timeout(grace, self.served.wait_for(|s| *s)).await;
        self.shutdown.cancel();
    }
}
