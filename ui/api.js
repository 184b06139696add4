// The one module that talks to the backend. Every call crosses the Tauri IPC
// boundary through `invoke` (and backend events through `listen`); nothing
// else in the UI reaches the backend. No command returns a token, an
// authorization code or a PKCE verifier: only views safe to show.
//
// A command that fails rejects with `{ code, message }` (the app's
// `Failure`, src-tauri/src/commands/error.rs); `invoke` turns that into a
// `BackendError` whose `.code` the views branch on and whose `.message` is
// written for the app.

function tauri() {
  const t = window.__TAURI__;
  if (!t || !t.core) {
    throw new Error("Reconnect's backend is not reachable (not running inside the app).");
  }
  return t;
}

/** A failed command: `.code` names the case (`unknown_account`,
 * `reconnect_needed`, `keychain_locked`, …), `.message` says it in words. */
export class BackendError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "BackendError";
    this.code = code;
  }

  /** The message alone, so `String(err)` reads well. */
  toString() {
    return this.message;
  }
}

/** Any rejection as a BackendError (Tauri's own refusals are plain text). */
function failure(e) {
  if (e instanceof BackendError) return e;
  if (e && typeof e === "object" && typeof e.code === "string") {
    return new BackendError(e.code, String(e.message || e.code));
  }
  return new BackendError("internal", typeof e === "string" ? e : (e && e.message) || String(e));
}

async function invoke(cmd, args) {
  try {
    return await tauri().core.invoke(cmd, args);
  } catch (e) {
    throw failure(e);
  }
}

/** The app's version, the active profile and the profiles one can switch to. */
export const appInfo = () => invoke("app_info");

/** `{ now, accounts: AccountView[] }` — the dashboard's data. */
export const listAccounts = () => invoke("list_accounts");

/** Everything the admin detail shows about one account (no secrets). */
export const accountDetail = (name) => invoke("account_detail", { name });

/** Failures by code over time, plus active spike alerts. */
export const failureChart = (hours) => invoke("failure_chart", { hours });

/** Decodes a pasted error body, description or code into a verdict. */
export const decode = (text) => invoke("decode_text", { text });

/** Adds an account: `{ kind: "microsoft" | "oidc", name, tenant?, issuer?, client_id, scopes }`. */
export const addAccount = (request) => invoke("add_account", { request });

/** `{ clouds: [{ cloud, label, authority }], simulated }` — what the
 * add-account form offers for work-or-school accounts. */
export const addAccountChoices = () => invoke("add_account_choices");

/** Removes an account and its keychain entries. */
export const removeAccount = (name) => invoke("remove_account", { name });

/** Refreshes one account now. */
export const refreshNow = (name) => invoke("refresh_now", { name });

/** Starts an interactive reconnect; progress arrives as `reconnect-progress` events. */
export const reconnectStart = (name) => invoke("reconnect_start", { name });

/** Starts signing in on another device with a code. Resolves with the code
 * to show (`{ user_code, verification_uri, expires_in, expires_at, qr_svg }`)
 * once issued, or null when it ended before; every step also arrives as a
 * `reconnect-progress` event. */
export const deviceSigninStart = (name) => invoke("device_signin_start", { name });

/** Cancels a running reconnect, either way (browser or another device). */
export const reconnectCancel = (name) => invoke("reconnect_cancel", { name });

/** The latest progress event of each reconnect of the open profile that
 * still runs or waits for an answer (for a window that loads meanwhile). */
export const reconnectProgress = () => invoke("reconnect_progress");

/** Answers a first connection's question: `"keep"` or `"remove"`. */
export const firstConnectionAnswer = (name, answer) => invoke("first_connection_answer", { name, answer });

/** Switches the active profile (demo or a real one). */
export const switchProfile = (profile) => invoke("switch_profile", { profile });

/** The tester panel's view: simulator clock, outage, break kinds. */
export const testerState = () => invoke("tester_state");

/** Breaks a simulator account's grant: `kind` is one of tester_state().break_kinds. */
export const testerBreak = (name, kind, code) => invoke("tester_break", { name, kind, code });

/** Restores a simulator account's grant (clears faults, re-enables the user). */
export const testerRestore = (name) => invoke("tester_restore", { name });

/** Starts (`kind`) or ends (`null`) a simulated outage. */
export const testerOutage = (kind) => invoke("tester_outage", { kind });

/** Advances the simulator's (and the engine's) virtual clock. */
export const testerAdvanceClock = (seconds) => invoke("tester_advance_clock", { seconds });

/** For any account: makes its next refresh fail locally with `code`. */
export const testerFailNext = (name, code) => invoke("tester_fail_next", { name, code });

/** The settings view: `{ start_at_login: { on, chosen }, keeper, demo }`. */
export const settingsState = () => invoke("settings_state");

/** Turns starting at login on or off; resolves with the new settings. */
export const setStartAtLogin = (on) => invoke("set_start_at_login", { on });

/** Quits Reconnect (window, tray and background refreshes). */
export const quitApp = () => invoke("quit_app");

/** Subscribes to a backend event; returns a function that unsubscribes. */
export async function listen(event, handler) {
  const t = window.__TAURI__;
  if (!t || !t.event) return () => {};
  return t.event.listen(event, (e) => handler(e.payload));
}

/** Opens Microsoft's documentation page for an AADSTS code in the browser. */
export const openDoc = (code) => invoke("open_doc", { code });
