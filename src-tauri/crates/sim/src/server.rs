//! Running the simulator on real sockets: loopback listeners for HTTP and,
//! with TLS, HTTPS; the handle tests keep; shutdown on drop.

use std::net::{SocketAddr, TcpListener};

use axum::Extension;
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;

use crate::routes::ListenerScheme;
use crate::state::SimState;
use crate::{SimError, app, tls};

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where the HTTP listener binds (loopback only). Default `127.0.0.1:0`.
    /// With TLS, HTTPS binds the same IP on a free port.
    pub addr: SocketAddr,
    /// Also serve HTTPS with a freshly generated local CA.
    pub tls: bool,
    /// Users to seed. Default `alice@contoso.test` and `bob@contoso.test`.
    pub users: Vec<String>,
    /// `/authorize` finishes for this user with no page (MFA and consent count as done).
    pub auto_approve: Option<String>,
    /// Apps registered from the start (a strict simulator knows no others).
    pub apps: Vec<crate::registry::AppRegistration>,
    /// `--lenient`: answer unregistered apps and unknown tenants as if they
    /// were registered with [`crate::registry::AppRegistration::lenient`].
    pub lenient: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: false,
            users: vec![
                "alice@contoso.test".to_owned(),
                "bob@contoso.test".to_owned(),
            ],
            auto_approve: None,
            apps: Vec::new(),
            lenient: false,
        }
    }
}

/// Starts simulators.
#[derive(Debug)]
pub struct Simulator;

/// A simulator serving on loopback. Dropping it stops the listeners.
#[derive(Debug)]
pub struct RunningSim {
    /// `http://127.0.0.1:PORT`.
    pub http_url: String,
    /// `https://127.0.0.1:PORT` when TLS is on.
    pub https_url: Option<String>,
    /// The CA certificate (PEM) clients must trust for `https_url`.
    pub ca_pem: Option<String>,
    /// The shared state: drive the clock, users and faults directly.
    pub state: SimState,
    handles: Vec<Handle<SocketAddr>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn bind(addr: SocketAddr) -> Result<TcpListener, SimError> {
    if !addr.ip().is_loopback() {
        return Err(SimError::NotLoopback(addr));
    }
    let listener = TcpListener::bind(addr).map_err(|source| SimError::Bind { addr, source })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| SimError::Bind { addr, source })?;
    Ok(listener)
}

fn url(scheme: &str, addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("{scheme}://{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("{scheme}://[{}]:{}", a.ip(), a.port()),
    }
}

impl Simulator {
    /// Binds the listeners and starts serving on the current tokio runtime.
    pub async fn start(config: SimConfig) -> Result<RunningSim, SimError> {
        let state = SimState::new(&config)?;
        Self::start_with_state(config, state).await
    }

    /// Like [`Simulator::start`], over a state the caller prepared.
    pub async fn start_with_state(
        config: SimConfig,
        state: SimState,
    ) -> Result<RunningSim, SimError> {
        let http = bind(config.addr)?;
        let http_addr = http.local_addr().map_err(|source| SimError::Bind {
            addr: config.addr,
            source,
        })?;
        let mut handles = Vec::new();
        let mut tasks = Vec::new();

        let router = app(state.clone()).layer(Extension(ListenerScheme("http")));
        let handle = Handle::new();
        let server = axum_server::from_tcp(http)
            .map_err(|source| SimError::Bind {
                addr: http_addr,
                source,
            })?
            .handle(handle.clone());
        tasks.push(tokio::spawn(async move {
            if let Err(e) = server.serve(router.into_make_service()).await {
                tracing::warn!("simulator http listener stopped: {e}");
            }
        }));
        handles.push(handle);

        let (https_url, ca_pem) = if config.tls {
            let local = tls::generate()?;
            let https_addr = SocketAddr::new(http_addr.ip(), 0);
            let listener = bind(https_addr)?;
            let bound = listener.local_addr().map_err(|source| SimError::Bind {
                addr: https_addr,
                source,
            })?;
            let router = app(state.clone()).layer(Extension(ListenerScheme("https")));
            let handle = Handle::new();
            let server = axum_server::from_tcp_rustls(
                listener,
                RustlsConfig::from_config(local.server_config),
            )
            .map_err(|source| SimError::Bind {
                addr: bound,
                source,
            })?
            .handle(handle.clone());
            tasks.push(tokio::spawn(async move {
                if let Err(e) = server.serve(router.into_make_service()).await {
                    tracing::warn!("simulator https listener stopped: {e}");
                }
            }));
            handles.push(handle);
            (Some(url("https", bound)), Some(local.ca_pem))
        } else {
            (None, None)
        };

        Ok(RunningSim {
            http_url: url("http", http_addr),
            https_url,
            ca_pem,
            state,
            handles,
            tasks,
        })
    }
}

impl RunningSim {
    /// The HTTPS URL when TLS is on, else the HTTP one.
    pub fn url(&self) -> &str {
        self.https_url.as_deref().unwrap_or(&self.http_url)
    }

    /// The authority clients configure, e.g. `http://127.0.0.1:PORT/common`.
    pub fn authority(&self, tenant: &str) -> String {
        format!("{}/{tenant}", self.url())
    }

    /// Stops the listeners and waits for them to finish.
    pub async fn shutdown(mut self) {
        for handle in &self.handles {
            handle.shutdown();
        }
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }

    /// Serves until the listeners stop (used by `reconnect sim serve`).
    pub async fn wait(mut self) {
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        for handle in &self.handles {
            handle.shutdown();
        }
    }
}
