//! Declares the app's own commands so that each one needs an explicit
//! `allow-<command>` permission in a capability file (see `capabilities/`).

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(&["list_accounts", "app_info"])),
    )
    .expect("failed to run tauri-build");
}
