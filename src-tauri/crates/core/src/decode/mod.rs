//! The decoder: turns any sign-in or refresh failure into one [`Verdict`]
//! shared by the refresh engine, the UI and the CLI.
//!
//! (Entry points are being built; the code table is ready.)

pub mod class;
pub mod table;

pub use class::{Category, ReconnectFixes, WhoActs};
pub use table::{CodeInfo, lookup};
