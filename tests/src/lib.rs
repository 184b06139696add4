//! Shared harness for the end-to-end tests: where the built binaries are,
//! isolated HOME/XDG/RECONNECT_HOME directories, child processes that are
//! killed when a test ends, and WebDriver helpers that wait for a page to
//! settle before acting on it. Each area of tests lives in its own file under
//! `tests/tests/`.

pub mod browser;
pub mod desktop_bus;
pub mod grants;
pub mod harness;
pub mod keyring;
pub mod oidc_peer;
pub mod secrets;
pub mod sim_process;
pub mod window;
pub mod world;
