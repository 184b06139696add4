//! `reconnect-signin` runs the interactive reconnect: authorization code +
//! PKCE through the system browser and a loopback redirect, bounded and safe.
//!
//! - [`Signin::run`]: the whole flow for one account.
//! - [`SigninOptions`]: timeout, `--select-account`, and the cancel handle.
//! - [`Browser`]: the system browser or a browser command.
//! - [`SigninStore`]: the storage the flow uses; [`profile_store`] binds it
//!   to `reconnect_store::Profile`.
//! - [`loopback`]: the bounded redirect listener.

pub mod browser;
pub mod claims;
pub mod error;
pub mod flow;
pub mod identity;
pub mod loopback;
pub mod page;
pub mod profile_store;
pub mod request;
pub mod store;

pub use browser::{Browser, CommandBrowser, Launched, SystemBrowser};
pub use error::{Outcome, SigninError};
pub use flow::{DEFAULT_TIMEOUT, Progress, Signin, SigninOptions};
pub use identity::KnownUser;
pub use loopback::{Callback, Limits, Loopback, LoopbackConfig};
pub use store::{AccountSettings, Connected, FailedAttempt, ProviderKind, SigninStore};
pub use tokio_util::sync::CancellationToken;
