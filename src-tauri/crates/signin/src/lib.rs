//! `reconnect-signin` runs the interactive reconnect, bounded and safe, in
//! three ways that share one completion path (id_token, same account,
//! storage under the account's lock):
//!
//! - [`Signin::run`]: authorization code + PKCE through the browser on this
//!   machine and a loopback redirect.
//! - [`PasteSignin`]: the same request opened on any machine; the address
//!   the browser ended on is pasted back (or reaches the listener through an
//!   SSH tunnel).
//! - [`DeviceSignin`]: a user code entered on another device (RFC 8628).
//!
//! Also: [`SigninOptions`] (timeout, `--select-account`, a fixed port, the
//! cancel handle); [`Browser`] (the system browser or a browser command);
//! [`SigninStore`], the storage the flows use ([`profile_store`] binds it to
//! `reconnect_store::Profile`); [`loopback`], the bounded redirect listener.

pub mod browser;
pub mod claims;
mod complete;
pub mod device;
pub mod error;
pub mod flow;
pub mod identity;
pub mod loopback;
pub mod page;
pub mod paste;
#[cfg(target_os = "linux")]
pub mod portal;
pub mod profile_store;
mod redirect;
pub mod request;
pub mod store;

pub use browser::{Browser, CommandBrowser, Launched, NoBrowser, SystemBrowser};
pub use device::{DeviceError, DeviceSignin, UserCode};
pub use error::{Outcome, SigninError};
pub use flow::{DEFAULT_TIMEOUT, Progress, Signin, SigninOptions};
pub use identity::KnownUser;
pub use loopback::{Callback, Limits, Loopback, LoopbackConfig};
pub use paste::{PasteError, PasteSignin};
pub use store::{AccountSettings, Connected, FailedAttempt, ProviderKind, SigninStore};
pub use tokio_util::sync::CancellationToken;
