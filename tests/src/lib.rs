//! Shared harness for the end-to-end tests: where the built binaries are,
//! isolated HOME/XDG/RECONNECT_HOME directories, and child processes that are
//! killed when a test ends. Each area of tests lives in its own file under
//! `tests/tests/`.

pub mod desktop_bus;
pub mod harness;
pub mod keyring;
pub mod secrets;
pub mod window;
