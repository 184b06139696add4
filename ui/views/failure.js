// How a failed command is shown. The words are the backend's (each failure
// carries a message written for the app); the code (see api.js) picks what
// helps next: a keychain failure has the app check the keychain again, so
// its banner shows on every view, and a grant that signing in again fixes
// offers Reconnect.
import { h, toast } from "../dom.js";
import * as reconnect from "./reconnect.js";

/** Failure code → the keychain banner's state. */
const KEYCHAIN = { keychain_locked: "locked", keychain_denied: "denied", keychain_unavailable: "unavailable" };

/** The words of any error: the backend's message, or the error as text. */
export function text(err) {
  return (err && err.message) || String(err);
}

/** Whether signing in again (Reconnect) is what helps. */
export function needsReconnect(err) {
  return ["reconnect_needed", "not_connected"].includes(err && err.code);
}

/** The keychain banner's state when the keychain is what failed, else null. */
export function keychainState(err) {
  return KEYCHAIN[err && err.code] || null;
}

/** Tells the app the keychain failed; it re-reads the list, which probes the
 * keychain and raises the banner. */
function keychainFailed() {
  window.dispatchEvent(new CustomEvent("keychain-failed"));
}

/** Shows `err` as a toast. For `account`, a failure that signing in again
 * fixes comes with a Reconnect button. */
export function report(err, account) {
  if (keychainState(err)) keychainFailed();
  if (account && needsReconnect(err) && !reconnect.running(account)) {
    const again = h("button", { type: "button", class: "toast-action", "aria-label": `Reconnect ${account}`, onclick: () => reconnect.start(account) }, "Reconnect");
    toast(h("span", {}, text(err), " ", again), "bad");
    return;
  }
  toast(text(err), "bad");
}
