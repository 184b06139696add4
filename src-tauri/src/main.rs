//! Entry point of the desktop app; everything lives in the library crate.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    reconnect_app::run();
}
