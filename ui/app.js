// UI entry: routing between the views, the profile switch, and keeping the
// dashboard current from backend events (with a slow poll as a safety net).
import * as api from "./api.js";
import { $, h, toast } from "./dom.js";
import * as dashboard from "./views/dashboard.js";
import * as detail from "./views/detail.js";
import * as failures from "./views/failures.js";
import * as decode from "./views/decode.js";
import * as tester from "./views/tester.js";
import * as settings from "./views/settings.js";
import * as accounts from "./views/accounts.js";
import * as reconnect from "./views/reconnect.js";
import * as failure from "./views/failure.js";

let clockSkew = 0; // backend "now" minus local now (the demo's clock may run ahead)
const backendNow = () => Math.floor(Date.now() / 1000) + clockSkew;
reconnect.setClock(backendNow);

async function loadAccounts() {
  const list = await api.listAccounts();
  clockSkew = list.now - Math.floor(Date.now() / 1000);
  // A removed account's progress goes with it (one added again starts clean).
  reconnect.keepOnly(list.accounts.map((a) => a.name));
  dashboard.render(list);
  failures.banner(list.spikes);
  dashboard.keychainBanner(list.keychain);
  return list;
}

function route() {
  const hash = location.hash || "#/";
  const [, view, arg] = hash.match(/^#\/([a-z]*)\/?(.*)$/) || [];
  const name = { "": "dashboard", account: "detail", failures: "failures", decode: "decode", tester: "tester", settings: "settings" }[view] || "dashboard";
  for (const section of document.querySelectorAll("main > .view")) section.hidden = section.id !== `view-${name}`;
  for (const link of document.querySelectorAll(".tabs a")) {
    const active = link.dataset.route === name || (name === "detail" && link.dataset.route === "dashboard");
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (name !== "detail") detail.leave();
  if (name === "detail") detail.show(decodeURIComponent(arg));
  if (name === "failures") failures.show();
  if (name === "decode") decode.show();
  if (name === "tester") tester.show();
  if (name === "settings") settings.show();
  if (name === "dashboard") loadAccounts().catch(() => {});
}

let pending = null;
/** Coalesces bursts of change events into one reload. */
function changed() {
  if (pending) return;
  pending = setTimeout(async () => {
    pending = null;
    try {
      await loadAccounts();
    } catch {
      /* shown by the next successful load */
    }
    const shown = detail.shown();
    if (shown && !$("view-detail").hidden) detail.show(shown);
    if (!$("view-tester").hidden) tester.show();
    if (!$("view-settings").hidden) settings.show();
  }, 150);
}

function showInfo(info) {
  $("version").textContent = `v${info.version}`;
  $("data-dir").textContent = info.data_dir || "";
  $("profile").textContent = info.demo ? "Demo: simulator inside the app" : "";
  $("profile").className = info.demo ? "profile-badge demo" : "profile-badge";
  $("demo-banner").hidden = !info.demo;
  document.body.dataset.profile = info.profile;
  const select = $("profile-select");
  select.replaceChildren(...info.profiles.map((p) => h("option", { value: p.id, selected: p.id === info.profile }, p.label)));
  accounts.setDefaults(info.add_defaults);
}

async function switchProfile(profile) {
  try {
    showInfo(await api.switchProfile(profile));
    reconnect.resume(await api.reconnectProgress(), { fresh: true });
    toast(`Switched to the ${profile} profile.`, "ok");
    route();
  } catch (err) {
    failure.report(err);
  }
}

async function start() {
  dashboard.init();
  $("add-account").addEventListener("click", () => accounts.open());
  $("profile-select").addEventListener("change", (e) => switchProfile(e.target.value));
  window.addEventListener("hashchange", route);
  // A command failed on the keychain: the reload probes it and shows the banner.
  window.addEventListener("keychain-failed", changed);
  // The demo starts its simulator and seeds accounts first; say so.
  $("summary").textContent = "Opening the profile…";
  try {
    showInfo(await api.appInfo());
    await api.listen("accounts-changed", changed);
    await api.listen("settings-changed", () => {
      if (!$("view-settings").hidden) settings.show();
    });
    await api.listen("reconnect-progress", (p) => {
      reconnect.update(p);
      if (p.phase === "succeeded" || p.phase === "failed") changed();
    });
    // A sign-in that runs, or a first connection's question, outlives a window.
    reconnect.resume(await api.reconnectProgress());
    await api.listen("open-account", (p) => {
      location.hash = `#/account/${encodeURIComponent(p.name)}`;
    });
    await loadAccounts();
    route();
  } catch (err) {
    $("empty").hidden = false;
    $("empty").replaceChildren(h("p", { class: "error", role: "alert", dataset: { code: err.code || "" } }, failure.text(err)));
  }
  setInterval(reconnect.tick, 1000);
  setInterval(changed, 30000);
  document.body.dataset.ready = "true";
}

start();
