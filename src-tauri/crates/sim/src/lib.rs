//! `reconnect-sim` simulates Microsoft's identity platform v2.0 endpoints on
//! loopback, with controls to break any grant the way the real service does.
//!
//! Two ways in:
//! - [`app`] builds the axum [`Router`] over a [`SimState`], for in-process
//!   tests with `tower::ServiceExt::oneshot`;
//! - [`Simulator::start`] binds real listeners (HTTP, and HTTPS with a fresh
//!   local CA when asked) on loopback and returns a [`RunningSim`] with the
//!   URLs, the CA PEM and the shared [`SimState`].
//!
//! Everything runs on a virtual clock ([`SimState::advance_clock`]). The
//! control API lives under `/_sim/` (see the crate README); [`ControlClient`]
//! drives a running simulator through it, with the same body types
//! ([`wire`]) the server's handlers use, and typed kinds of outage
//! ([`Outage`]) and of broken grant ([`BreakKind`]).
//!
//! The device authorization grant (RFC 8628) is served as Entra serves it
//! ([`device`]): codes from `devicecode`, polls at the token endpoint, a page
//! at `/devicelogin`, and control routes to approve, decline and block.

pub mod admission;
pub mod authorize_request;
pub mod breaks;
pub mod client_auth;
pub mod clock;
pub mod code_grant;
pub mod control_client;
pub mod device;
pub mod failure;
pub mod faults;
pub mod grant;
pub mod keys;
pub mod log;
pub mod mint;
pub mod model;
pub mod page;
pub mod registry;
pub mod routes;
pub mod server;
pub mod signin;
pub mod state;
pub mod tenant;
pub mod tls;
pub mod wire;

use axum::Router;
use axum::routing::{get, post};

pub use breaks::{BreakError, BreakKind};
pub use control_client::{ControlClient, ControlError};
pub use device::{DeviceAuthorization, DeviceStatus, TenantPolicy};
pub use failure::{ErrorBody, Failure};
pub use faults::{Fault, FaultRequest, Outage, UNTIL_CLEARED};
pub use log::LogEntry;
pub use model::{User, UserStatePatch};
pub use registry::{AppRegistration, Audience, Platform, RedirectUri, Rotation};
pub use server::{RunningSim, SimConfig, Simulator};
pub use state::{GrantRequest, SimState};
pub use tenant::CONSUMERS_TENANT_ID;
pub use wire::{
    AppList, ClockReading, DeviceApproval, DeviceCodeInfo, DeviceCodeList, FaultList, LogPage,
    NewUser, Revocation, UserInfo, UserList,
};

/// Errors of the simulator library.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A listener address that is not loopback.
    #[error(
        "refusing to listen on {0}: the simulator binds loopback addresses only (127.0.0.1, ::1)"
    )]
    NotLoopback(std::net::SocketAddr),
    /// Binding or serving failed.
    #[error("could not listen on {addr}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Certificate generation or TLS set-up failed.
    #[error("TLS set-up failed: {0}")]
    Tls(String),
    /// Key loading or signing failed.
    #[error("signing keys: {0}")]
    Keys(String),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The thing to create exists already.
    #[error("{0}")]
    Conflict(String),
    /// The request is not valid.
    #[error("{0}")]
    Invalid(String),
}

/// A random (version 4) UUID from the thread's userspace generator: ids the
/// simulator makes per request (trace and correlation ids, sessions) need no
/// system call each.
pub(crate) fn new_uuid() -> uuid::Uuid {
    use rand::Rng as _;
    uuid::Builder::from_random_bytes(rand::rng().random()).into_uuid()
}

/// The simulator's router over `state`: the identity endpoints and `/_sim`.
pub fn app(state: SimState) -> Router {
    use routes::{authorize, control, device, discovery, token};
    Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::keys))
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(authorize::start).post(authorize::step),
        )
        .route("/{tenant}/oauth2/v2.0/token", post(token::token))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(device::devicecode))
        .route(
            "/{tenant}/{policy}/v2.0/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route(
            "/{tenant}/{policy}/discovery/v2.0/keys",
            get(discovery::keys),
        )
        .route(
            "/{tenant}/{policy}/oauth2/v2.0/authorize",
            get(authorize::start).post(authorize::step),
        )
        .route("/{tenant}/{policy}/oauth2/v2.0/token", post(token::token))
        .route(
            "/devicelogin",
            get(device::login_page).post(device::login_submit),
        )
        .route(
            "/_sim/users",
            get(control::list_users).post(control::create_user),
        )
        .route("/_sim/users/{upn}/state", post(control::user_state))
        .route("/_sim/users/{upn}/revoke", post(control::revoke))
        .route("/_sim/grants", post(control::grants))
        .route(
            "/_sim/faults",
            get(control::list_faults)
                .post(control::add_fault)
                .delete(control::clear_faults),
        )
        .route(
            "/_sim/clock",
            get(control::read_clock).post(control::advance_clock),
        )
        .route(
            "/_sim/log",
            get(control::read_log).delete(control::clear_log),
        )
        .route(
            "/_sim/apps",
            get(control::list_apps).post(control::register_app),
        )
        .route(
            "/_sim/apps/{client_id}",
            get(control::get_app).delete(control::remove_app),
        )
        .route("/_sim/auto-approve", post(control::auto_approve))
        .route("/_sim/devicecodes", get(control::list_device_codes))
        .route(
            "/_sim/devicecodes/{user_code}/approve",
            post(control::approve_device_code),
        )
        .route(
            "/_sim/devicecodes/{user_code}/decline",
            post(control::decline_device_code),
        )
        .route(
            "/_sim/tenants/{tenant}/policy",
            get(control::tenant_policy).post(control::set_tenant_policy),
        )
        .with_state(state)
}
