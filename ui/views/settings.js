// The settings view: whether Reconnect starts at login (this profile's
// setting; the operating system's entry follows it), who keeps the profile
// (runs its scheduled refreshes), and Quit, which is also how Reconnect is
// stopped on desktops without a tray.
import * as api from "../api.js";
import { h, $, toast } from "../dom.js";
import * as failure from "./failure.js";
import { keeperLine } from "./words.js";

let busy = false;

function loginStart(view) {
  const box = h("input", {
    type: "checkbox",
    id: "start-at-login",
    checked: view.start_at_login.on,
    disabled: busy,
    "aria-describedby": "start-at-login-help",
  });
  box.addEventListener("change", () => choose(box.checked));
  const help = view.start_at_login.chosen
    ? "Reconnect then starts without its window and keeps your connections alive in the background."
    : view.demo
      ? "Off for the demo unless you turn it on. Reconnect then starts without its window."
      : "On once this profile has an account, unless you turn it off. Reconnect then starts without its window.";
  return h("div", { class: "panel" },
    h("label", { class: "check" }, box, " Start Reconnect when I log in"),
    h("p", { id: "start-at-login-help", class: "muted" }, help),
  );
}

function keeper(view) {
  return h("div", { class: "panel" },
    h("h3", {}, "Background refreshes"),
    h("p", { id: "settings-keeper", dataset: { by: view.keeper.by, pid: view.keeper.pid ?? "" } }, keeperLine(view.keeper)),
  );
}

function quit() {
  return h("div", { class: "panel" },
    h("h3", {}, "Quit"),
    h("p", { class: "muted" }, "Closing the window leaves Reconnect running. Quit stops it, and with it the background refreshes, until you open it again."),
    h("button", { type: "button", id: "quit-app", onclick: () => api.quitApp() }, "Quit Reconnect"),
  );
}

async function choose(on) {
  busy = true;
  try {
    render(await api.setStartAtLogin(on));
    toast(on ? "Reconnect will start when you log in." : "Reconnect will not start when you log in.", "ok");
  } catch (err) {
    failure.report(err);
    await show();
  } finally {
    busy = false;
  }
}

function render(view) {
  $("view-settings").replaceChildren(
    h("div", { class: "view-head" }, h("h2", { id: "settings-heading" }, "Settings")),
    loginStart(view),
    keeper(view),
    quit(),
  );
}

/** Shows the settings of the open profile. */
export async function show() {
  try {
    render(await api.settingsState());
  } catch (err) {
    $("view-settings").replaceChildren(
      h("div", { class: "view-head" }, h("h2", { id: "settings-heading" }, "Settings")),
      h("p", { class: "error", role: "alert" }, failure.text(err)),
    );
  }
}
