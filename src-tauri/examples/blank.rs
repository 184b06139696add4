//! An empty Tauri 2 window built the same way as the app (same crate,
//! profile and Tauri features): the baseline `scripts/bench-startup.sh`
//! compares Reconnect's startup and memory against.

fn main() {
    tauri::Builder::default()
        .on_page_load(|_, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
                eprintln!("reconnect-bench page-loaded");
            }
        })
        .run(tauri::generate_context!("examples/blank/tauri.conf.json"))
        .expect("the blank window could not start");
}
