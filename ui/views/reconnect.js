// The Reconnect button and its progress: waiting for the browser, a
// countdown, cancel and "copy link"; and "Sign in on another device", the
// device-code way (its panel is device.js). State comes from
// `reconnect-progress` events, so the card and the detail view show the same
// progress. An event carries `phase` (starting, waiting_for_browser,
// requesting_code, waiting_for_device, exchanging, confirming, succeeded,
// failed, cancelled), `problem` ("browser_failed": the browser could not be
// opened, so the other device is offered first), `device` (the code to show)
// and, once it ended, `outcome` (connected, first_connection, declined,
// reconnect_needed, needs_admin, transient, cancelled, other) and `message`.
//
// A first connection (nothing was known of the account's user before) ends
// in "confirming" with `signed_in` ({ user, display_name, tenant }): the
// card asks whether that is the right account, and the answer keeps the
// connection or removes it (no tokens are kept).
import * as api from "../api.js";
import { h, clock, copyButton, toast } from "../dom.js";
import * as device from "./device.js";

/** account name → latest progress payload. */
const progress = new Map();
const listeners = new Set();
let now = () => Math.floor(Date.now() / 1000);

/** Lets the app tell this module the backend clock offset. */
export function setClock(fn) {
  now = fn;
}

/** Called when any account's progress changes. */
export function onChange(fn) {
  listeners.add(fn);
}

function emit(name) {
  for (const fn of listeners) fn(name);
}

/** Feeds a `reconnect-progress` event. */
export function update(payload) {
  if (!payload || !payload.account) return;
  const before = progress.get(payload.account);
  progress.set(payload.account, payload);
  emit(payload.account);
  const first = before && before.phase === "confirming";
  if (payload.phase === "succeeded") toast(first ? `${payload.account} is connected.` : `${payload.account} is connected again.`, "ok");
  if (payload.phase === "failed") toast(`${payload.account}: ${payload.message || "sign-in failed"}`, "bad");
}

/** Takes the reconnects that ran or waited for an answer before this
 * window listened (it loaded again, or another profile opened). Events
 * received since are newer and win; `fresh` forgets the ones known before. */
export function resume(events, { fresh = false } = {}) {
  if (fresh) {
    const known = [...progress.keys()];
    progress.clear();
    for (const name of known) emit(name);
  }
  for (const p of events || []) {
    if (!p || !p.account || progress.has(p.account)) continue;
    progress.set(p.account, p);
    emit(p.account);
  }
}

/** Forgets the progress of accounts that are not among `names`. */
export function keepOnly(names) {
  const known = new Set(names);
  for (const name of [...progress.keys()]) {
    if (!known.has(name)) progress.delete(name);
  }
}

/** Whether a reconnect is running for `name` (a first connection waiting
 * for the user's answer counts: it is not settled yet). */
export function running(name) {
  const p = progress.get(name);
  return !!p && ["starting", "waiting_for_browser", "requesting_code", "waiting_for_device", "exchanging", "confirming"].includes(p.phase);
}

/** Resolves once no sign-in of `name` runs (or after `ms`). */
function ended(name, ms = 15000) {
  return new Promise((resolve) => {
    if (!running(name)) return resolve();
    const check = (changed) => {
      if (changed !== name || running(name)) return;
      listeners.delete(check);
      resolve();
    };
    listeners.add(check);
    setTimeout(() => {
      listeners.delete(check);
      resolve();
    }, ms);
  });
}

/** Starts the reconnect of `name` (as its Reconnect button does). */
export async function start(name) {
  update({ account: name, phase: "starting" });
  try {
    // Progress (browser opened, countdown, result) arrives as events.
    await api.reconnectStart(name);
  } catch (err) {
    // One is running already: its events keep this card up to date.
    if (err.code === "busy") return;
    update({ account: name, phase: "failed", message: err.message || String(err) });
  }
}

/** Signs `name` in on another device with a code. A browser sign-in still
 * waiting for this account is cancelled first. */
export async function startDevice(name) {
  if (running(name)) {
    await cancel(name);
    await ended(name);
  }
  update({ account: name, phase: "requesting_code" });
  try {
    // The code, and later the result, arrive as events.
    await api.deviceSigninStart(name);
  } catch (err) {
    if (err.code === "busy") return;
    update({ account: name, phase: "failed", message: err.message || String(err) });
  }
}

async function cancel(name) {
  try {
    await api.reconnectCancel(name);
  } catch (err) {
    if (err.code === "not_running") {
      // It ended meanwhile: give the button back.
      progress.delete(name);
      emit(name);
      return;
    }
    toast(err.message || String(err), "bad");
  }
}

async function answer(name, choice, buttons) {
  for (const b of buttons) b.disabled = true;
  try {
    // The outcome arrives as an event.
    await api.firstConnectionAnswer(name, choice);
  } catch (err) {
    if (err.code === "not_running") {
      // Answered elsewhere (the card or the detail view) or ended.
      progress.delete(name);
      emit(name);
      return;
    }
    for (const b of buttons) b.disabled = false;
    toast(err.message || String(err), "bad");
  }
}

/** The question after a first connection: who signed in, keep or remove. */
function question(name, p) {
  const who = p.signed_in || { user: "an unknown user" };
  const keep = h("button", { type: "button", class: "primary keep-connection", "aria-label": `Keep the connection of ${name}` }, "Keep this connection");
  const remove = h("button", { type: "button", class: "danger remove-connection", "aria-label": `Remove the connection of ${name}` }, "That’s not me / Remove");
  keep.addEventListener("click", () => answer(name, "keep", [keep, remove]));
  remove.addEventListener("click", () => answer(name, "remove", [keep, remove]));
  return h("div", { class: "reconnect confirming", role: "group", "aria-label": `Confirm who signed in to ${name}`, dataset: { account: name } },
    h("p", { class: "confirm-title" }, "Is this the account you meant to connect?"),
    h("p", { class: "signed-in" },
      "Signed in as ", h("strong", { class: "signed-in-user" }, who.user),
      who.display_name ? ` (${who.display_name})` : "",
      who.tenant ? h("span", { class: "signed-in-tenant" }, ` in tenant ${who.tenant}`) : "",
      "."),
    h("p", { class: "hint" }, "This is the first sign-in of this account. If you picked the wrong user in the browser, remove it: no tokens are kept, and you can sign in again."),
    h("div", { class: "reconnect-buttons" }, keep, remove));
}

/** The Reconnect button, or the progress panel while a reconnect runs. */
export function control(name, { primary = true } = {}) {
  const p = progress.get(name);
  if (p && p.phase === "confirming") return question(name, p);
  const box = h("div", { class: "reconnect", dataset: { account: name } });
  if (!p || !running(name)) {
    // The browser could not be started: the other device comes first.
    const browserFailed = !!p && p.problem === "browser_failed";
    const button = h(
      "button",
      { type: "button", class: primary && !browserFailed ? "primary reconnect-button" : "reconnect-button", "aria-label": `Reconnect ${name}` },
      "Reconnect",
    );
    button.addEventListener("click", () => start(name));
    box.append(h("div", { class: "reconnect-buttons" }, button, device.offerButton(name, startDevice, { prominent: primary && browserFailed })));
    if (p && p.phase === "failed") {
      box.append(h("p", { class: "reconnect-result bad", role: "alert", dataset: { outcome: p.outcome || "" } }, p.message || "The sign-in failed."));
    } else if (p && p.phase === "cancelled") {
      // The message says why (cancelled here, in the browser or on the
      // other device, timed out, or the code expired).
      box.append(h("p", { class: "reconnect-result" }, p.message || "Sign-in cancelled."));
    }
    if (browserFailed) box.append(h("p", { class: "hint" }, device.BROWSER_FAILED_HINT));
    return box;
  }
  const steps = {
    starting: "Opening your browser…",
    waiting_for_browser: "Waiting for you to sign in in your browser…",
    requesting_code: "Asking for a sign-in code…",
    waiting_for_device: "Waiting for you to sign in on the other device…",
    exchanging: "Signed in. Saving the new tokens…",
  };
  box.classList.add("running");
  // The code panel takes the card's whole width.
  if (p.phase === "waiting_for_device") box.classList.add("device-way");
  box.append(
    h("div", { class: "progress-line", role: "status", "aria-live": "polite" },
      h("span", { class: "spinner", "aria-hidden": "true" }),
      h("span", { class: "progress-text" }, steps[p.phase] || p.phase),
      p.expires_at ? h("span", { class: "countdown", dataset: { deadline: p.expires_at }, "aria-label": "Time left" }, clock(p.expires_at - now())) : null,
    ),
  );
  // The browser could not be opened: say so; the wait goes on for the link.
  if (p.message) box.append(h("p", { class: "reconnect-problem bad", role: "alert" }, p.message));
  if (p.phase === "waiting_for_device" && p.device) box.append(device.codePanel(name, p.device));
  const actions = h("div", { class: "progress-actions" });
  if (p.url) actions.append(copyButton(`Copy the sign-in link for ${name}`, p.url, "copy-link", "Copy link"));
  const browserWay = ["starting", "waiting_for_browser"].includes(p.phase);
  if (browserWay) {
    actions.append(device.offerButton(name, startDevice, { prominent: p.problem === "browser_failed" }));
  }
  const cancelButton = h("button", { type: "button", class: "cancel", "aria-label": `Cancel reconnecting ${name}` }, "Cancel");
  cancelButton.addEventListener("click", () => cancel(name));
  actions.append(cancelButton);
  box.append(actions);
  if (p.url && !p.message) {
    box.append(h("p", { class: "hint" }, "Browser did not open? Copy the link and paste it into any browser on this computer."));
  }
  if (browserWay && p.problem === "browser_failed") box.append(h("p", { class: "hint" }, device.BROWSER_FAILED_HINT));
  return box;
}

/** Updates every visible countdown (called once a second). */
export function tick() {
  for (const el of document.querySelectorAll(".countdown[data-deadline]")) {
    el.textContent = clock(Number(el.dataset.deadline) - now());
  }
}
