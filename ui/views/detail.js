// The admin detail of one account: verdict, raw fields, "Copy diagnostics",
// the timeline of attempts and token facts without secrets.
import * as api from "../api.js";
import { h, $, relative, utc, span, copyButton, toast } from "../dom.js";
import * as reconnect from "./reconnect.js";
import * as verdict from "./verdict.js";
import * as failure from "./failure.js";
import { health, forecast, stateWho, unreachableLine } from "./words.js";

let current = null;

function claimsTable(claims) {
  const rows = [
    ["amr", (claims.amr || []).join(", ")],
    ["acrs", (claims.acrs || []).join(", ")],
    ["xms_cc", (claims.xms_cc || []).join(", ")],
    ["tid", claims.tid],
    ["oid", claims.oid],
    ["scp", claims.scp],
  ];
  return h("table", { class: "claims" },
    h("caption", {}, claims.token === "id" ? "ID token claims" : "Access token claims"),
    h("tbody", {}, rows.map(([k, v]) => h("tr", {}, h("th", { scope: "row", class: "mono" }, k), h("td", { class: "mono" }, v || "—")))),
  );
}

function tokenFacts(t, now) {
  if (!t) return h("p", { class: "muted" }, "No tokens stored: the account has not signed in yet.");
  const idle = t.refresh_last_used_at ? now - t.refresh_last_used_at : null;
  const age = t.refresh_first_issued_at ? now - t.refresh_first_issued_at : null;
  return h("div", { class: "token-facts" },
    h("dl", { class: "facts wide" },
      h("dt", {}, "Scopes"), h("dd", { class: "mono" }, (t.scopes || []).join(" ") || "—"),
      h("dt", {}, "Access token expires"), h("dd", {}, t.access_expires_at ? `${utc(t.access_expires_at)} (${relative(t.access_expires_at, now)})` : "—"),
      h("dt", {}, "Refresh token age"), h("dd", {}, age !== null ? `${span(age)} (signed in ${utc(t.refresh_first_issued_at)})` : "—"),
      h("dt", {}, "Refresh token idle for"), h("dd", {}, idle !== null ? span(idle) : "—"),
      h("dt", {}, "Single-page app tokens"), h("dd", {}, t.spa ? "Yes (fixed 24-hour lifetime)" : "No"),
    ),
    h("div", { class: "claims-grid" }, (t.claims || []).map(claimsTable)),
  );
}

// How each outcome reads in the timeline, and its colour.
const OUTCOME = { ok: "succeeded", failed: "failed", cancelled: "cancelled", discarded: "discarded" };
const TONE = { ok: "ok", failed: "bad", cancelled: "idle", discarded: "idle" };

function timeline(entries, now) {
  if (!entries.length) return h("p", { class: "muted" }, "No attempts recorded yet.");
  return h("ol", { class: "timeline", "aria-label": "Attempts, newest first" },
    entries.map((e) =>
      h("li", { class: `event ${TONE[e.outcome] || "bad"}`, dataset: { outcome: e.outcome } },
        h("time", { datetime: new Date(e.at * 1000).toISOString(), title: utc(e.at) }, relative(e.at, now)),
        h("span", { class: "event-kind" }, e.kind),
        h("span", { class: "event-outcome" }, OUTCOME[e.outcome] || e.outcome),
        e.code ? h("span", { class: "code" }, `AADSTS${e.code}`) : null,
        e.title ? h("span", { class: "event-title" }, e.title) : null,
        e.detail ? h("span", { class: "event-detail muted" }, e.detail) : null,
      ),
    ),
  );
}

/** The account whose Remove button was pressed once, and until when. */
let armed = null;

function isArmed(name) {
  return armed && armed.name === name && Date.now() < armed.until;
}

async function remove(name, button) {
  // Two steps, inside the page: the first click asks, the second removes.
  // The armed state survives a re-render of the view.
  if (!isArmed(name)) {
    armed = { name, until: Date.now() + 6000 };
    button.dataset.armed = "true";
    button.textContent = "Confirm: remove and delete its tokens";
    setTimeout(() => {
      if (!isArmed(name)) {
        button.dataset.armed = "false";
        button.textContent = "Remove";
      }
    }, 6100);
    return;
  }
  armed = null;
  try {
    await api.removeAccount(name);
    toast(`${name} removed.`, "ok");
    location.hash = "#/";
  } catch (err) {
    failure.report(err);
    // Removed meanwhile (elsewhere, or by the CLI): nothing left to show.
    if (err.code === "unknown_account") location.hash = "#/";
  }
}

async function refresh(name) {
  try {
    await api.refreshNow(name);
  } catch (err) {
    // A grant that signing in again fixes comes with a Reconnect button.
    failure.report(err, name);
  }
  show(name);
}

function render(d) {
  const a = d.account;
  const [label, tone] = health(a.health);
  const section = $("view-detail");
  const forecastText = ["healthy", "expiring_soon"].includes(a.health) ? forecast(a.forecast, d.now) : null;
  section.replaceChildren(
    h("div", { class: "view-head" },
      h("a", { href: "#/", class: "back" }, "← All connections"),
      h("h2", { id: "detail-heading", dataset: { account: a.name } }, a.name, " ", h("span", { class: `badge tone-${tone}`, dataset: { health: a.health } }, label)),
      h("p", { class: "muted" }, [a.user, a.tenant, a.provider_label].filter(Boolean).join(" · ")),
    ),
    h("div", { class: "detail-actions" },
      a.can_reconnect ? reconnect.control(a.name) : null,
      h("button", { type: "button", class: "refresh-now", onclick: () => refresh(a.name) }, "Refresh now"),
      h("button", { type: "button", class: "danger remove", "aria-label": `Remove ${a.name}`, dataset: { armed: isArmed(a.name) ? "true" : "false" },
        onclick: (e) => remove(a.name, e.currentTarget) }, isArmed(a.name) ? "Confirm: remove and delete its tokens" : "Remove"),
    ),
    h("div", { class: "detail-grid" },
      h("section", { class: "panel", "aria-labelledby": "verdict-heading" },
        h("h3", { id: "verdict-heading" }, "Why"),
        a.unreachable
          ? h("p", { class: "unreachable" }, unreachableLine(a.unreachable, d.now), ` Who acts: ${stateWho(a.health)}.`)
          : null,
        d.verdict
          ? verdict.panel(d.verdict, 4)
          : h("p", { class: "ok-text" }, a.health === "healthy" ? "Nothing is wrong: the last refresh worked." : "No failure recorded."),
        d.diagnostics
          ? h("div", { class: "diagnostics" },
              h("div", { class: "row" }, h("h4", {}, "Diagnostics for a support ticket"),
                copyButton("Copy diagnostics", d.diagnostics, "copy-diagnostics", "Copy diagnostics")),
              h("pre", { class: "mono", tabindex: "0", "aria-label": "Diagnostics (redacted)" }, d.diagnostics))
          : null,
      ),
      h("section", { class: "panel", "aria-labelledby": "facts-heading" },
        h("h3", { id: "facts-heading" }, "Token facts"),
        h("p", { class: "muted" }, `Last successful refresh: ${relative(a.last_refresh_ok_at, d.now)}.`, forecastText ? ` ${forecastText}.` : ""),
        tokenFacts(d.token, d.now),
      ),
      h("section", { class: "panel span-2", "aria-labelledby": "timeline-heading" },
        h("h3", { id: "timeline-heading" }, "Timeline"),
        timeline(d.timeline || [], d.now),
      ),
    ),
  );
}

/** Shows the detail of `name`. */
export async function show(name) {
  current = name;
  try {
    const d = await api.accountDetail(name);
    if (current === name) render(d);
  } catch (err) {
    $("view-detail").replaceChildren(
      h("a", { href: "#/", class: "back" }, "← All connections"),
      h("h2", { id: "detail-heading" }, name),
      h("p", { class: "error", role: "alert", dataset: { code: err.code || "" } }, failure.text(err)),
    );
  }
}

/** The account shown, if the detail view is open. */
export function shown() {
  return current;
}

/** Forgets the shown account (the view was left). */
export function leave() {
  current = null;
}

reconnect.onChange((name) => {
  if (current === name) show(name);
});
