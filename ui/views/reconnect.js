// The Reconnect button and its progress: waiting for the browser, a
// countdown, cancel and "copy link". State comes from `reconnect-progress`
// events, so the card and the detail view show the same progress. An event
// carries `phase` (starting, waiting_for_browser, exchanging, succeeded,
// failed, cancelled) and, once it ended, `outcome` (connected,
// reconnect_needed, needs_admin, transient, cancelled, other) and `message`.
import * as api from "../api.js";
import { h, clock, copyButton, toast } from "../dom.js";

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
  progress.set(payload.account, payload);
  emit(payload.account);
  if (payload.phase === "succeeded") toast(`${payload.account} is connected again.`, "ok");
  if (payload.phase === "failed") toast(`${payload.account}: ${payload.message || "sign-in failed"}`, "bad");
}

/** Whether a reconnect is running for `name`. */
export function running(name) {
  const p = progress.get(name);
  return !!p && ["starting", "waiting_for_browser", "exchanging"].includes(p.phase);
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

/** The Reconnect button, or the progress panel while a reconnect runs. */
export function control(name, { primary = true } = {}) {
  const p = progress.get(name);
  const box = h("div", { class: "reconnect", dataset: { account: name } });
  if (!p || !running(name)) {
    const button = h(
      "button",
      { type: "button", class: primary ? "primary reconnect-button" : "reconnect-button", "aria-label": `Reconnect ${name}` },
      "Reconnect",
    );
    button.addEventListener("click", () => start(name));
    box.append(button);
    if (p && p.phase === "failed") {
      box.append(h("p", { class: "reconnect-result bad", role: "alert", dataset: { outcome: p.outcome || "" } }, p.message || "The sign-in failed."));
    } else if (p && p.phase === "cancelled") {
      // The message says why (cancelled here or in the browser, or timed out).
      box.append(h("p", { class: "reconnect-result" }, p.message || "Sign-in cancelled."));
    }
    return box;
  }
  const steps = {
    starting: "Opening your browser…",
    waiting_for_browser: "Waiting for you to sign in in your browser…",
    exchanging: "Signed in. Saving the new tokens…",
  };
  box.classList.add("running");
  box.append(
    h("div", { class: "progress-line", role: "status", "aria-live": "polite" },
      h("span", { class: "spinner", "aria-hidden": "true" }),
      h("span", { class: "progress-text" }, steps[p.phase] || p.phase),
      p.expires_at ? h("span", { class: "countdown", dataset: { deadline: p.expires_at }, "aria-label": "Time left" }, clock(p.expires_at - now())) : null,
    ),
  );
  // The browser could not be opened: say so; the wait goes on for the link.
  if (p.message) box.append(h("p", { class: "reconnect-problem bad", role: "alert" }, p.message));
  const actions = h("div", { class: "progress-actions" });
  if (p.url) actions.append(copyButton(`Copy the sign-in link for ${name}`, p.url, "copy-link", "Copy link"));
  const cancelButton = h("button", { type: "button", class: "cancel", "aria-label": `Cancel reconnecting ${name}` }, "Cancel");
  cancelButton.addEventListener("click", () => cancel(name));
  actions.append(cancelButton);
  box.append(actions);
  if (p.url && !p.message) {
    box.append(h("p", { class: "hint" }, "Browser did not open? Copy the link and paste it into any browser on this computer."));
  }
  return box;
}

/** Updates every visible countdown (called once a second). */
export function tick() {
  for (const el of document.querySelectorAll(".countdown[data-deadline]")) {
    el.textContent = clock(Number(el.dataset.deadline) - now());
  }
}
