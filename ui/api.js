// The one module that talks to the backend. Every call crosses the Tauri IPC
// boundary through `invoke`; nothing else in the UI reaches the backend.

const invoke = (cmd, args) => {
  const tauri = window.__TAURI__;
  if (!tauri || !tauri.core) {
    return Promise.reject(new Error("Reconnect's backend is not reachable (not running inside the app)."));
  }
  return tauri.core.invoke(cmd, args);
};

/** The accounts, as webview-safe views (never tokens). */
export const listAccounts = () => invoke("list_accounts");

/** The app's version and profile. */
export const appInfo = () => invoke("app_info");
