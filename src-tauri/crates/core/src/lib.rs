//! `reconnect-core` is the pure domain of Reconnect.
//!
//! It decides; it never does IO. Everything here is a function of its inputs
//! (including "now", which callers pass in), so the policy that keeps
//! connections alive can be tested without a network, a keychain or a clock.
//! The dependency rule — no tokio, reqwest, keyring, tauri, axum or file IO —
//! is checked in CI by `scripts/check-core-deps.sh`.

pub mod authority;
pub mod claims;
pub mod decode;
pub mod failure;
pub mod forecast;
pub mod health;
pub mod jwt;
pub mod policy;
pub mod report;
pub mod route;
pub mod scope;
pub mod secret;
pub mod spike;
pub mod tokens;
