//! One module per command family. Each exposes clap `Args` types and `run`
//! functions returning the process exit code.

pub mod account;
pub mod credential;
pub mod decode;
pub mod keep;
pub mod logging;
pub mod service;
pub mod signin;
pub mod sim;
pub mod status;
pub mod token;

/// Exit codes shared by `token`, `refresh` and `signin` (part of the CLI contract).
pub mod exit {
    /// Anything else went wrong.
    pub const OTHER: u8 = 1;
    /// The account needs an interactive reconnect.
    pub const RECONNECT_NEEDED: u8 = 2;
    /// An admin or the app's developer must act.
    pub const NEEDS_ADMIN: u8 = 3;
    /// A transient failure: try again later.
    pub const TRANSIENT: u8 = 4;
    /// Sign-in was cancelled or timed out.
    pub const CANCELLED: u8 = 5;
    /// `reconnect keep`: another process keeps this profile.
    pub const KEPT_ELSEWHERE: u8 = 5;
}
