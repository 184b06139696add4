//! `reconnect-oauth` talks to token endpoints: refresh and code-exchange
//! requests, OpenID Connect discovery, and id_token validation against the
//! provider's JWKS. It follows no redirects, caps response sizes and times out.
//!
//! - [`TokenClient`]: the HTTP client (no redirects, size cap, timeouts,
//!   optional extra root CA) with [`TokenClient::refresh`] and
//!   [`TokenClient::exchange_code`].
//! - [`TokenResponse`] / [`TokenError`]: what a token request produced.
//! - [`endpoints`]: where a provider's authorize and token endpoints are
//!   (Microsoft by convention, any OpenID provider by discovery).
//! - [`id_token`]: id_token validation with the provider's JWKS.
//! - [`device`]: the device authorization grant (RFC 8628): a user code,
//!   then polling with [`TokenClient::request_device_code`] and
//!   [`TokenClient::poll_device_code`].

pub mod client;
pub mod device;
pub mod endpoints;
pub mod error;
pub mod id_token;
pub mod response;

pub use client::{Clock, Redemption, SPA_ORIGIN, TokenClient, TokenClientConfig};
pub use device::{DeviceAuthorization, DeviceCode, DeviceEnding, DevicePoll, DeviceStartError};
pub use endpoints::{ProviderEndpoints, ProviderMetadata};
pub use error::{FetchError, TokenError, TransportKind};
pub use id_token::{IdTokenClaims, IdTokenError, IdTokenValidator};
pub use response::{ClientInfo, TokenResponse};
