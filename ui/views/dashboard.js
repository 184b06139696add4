// The dashboard: one card per account. Rendering is keyed by account name and
// a card is rebuilt only when its data changed, so a refresh of 1,000
// accounts touches only the cards that moved; off-screen cards skip layout
// and paint (`content-visibility` in style.css).
import { h, $, relative } from "../dom.js";
import * as reconnect from "./reconnect.js";
import { health, forecast, codeLabel, whoActs, stateWho, unreachableLine, summaryLine, keeperLine, UNSAVED } from "./words.js";

/** name → { sig, el } */
const cards = new Map();
let lastList = { now: 0, accounts: [], summary: null };
let filterText = "";

function signature(account, now) {
  // Relative times change with the clock; round "now" so cards re-render at
  // most once a minute for them.
  return JSON.stringify(account) + Math.floor(now / 60) + (reconnect.running(account.name) ? "r" : "");
}

function card(account, now) {
  const [label, tone] = health(account.health);
  const href = `#/account/${encodeURIComponent(account.name)}`;
  const broken = account.reason && account.health !== "healthy";
  // Who acts: the state's say when it has one, else the failure's.
  const who = stateWho(account.health) || (account.reason && account.reason.who_acts !== "user" ? whoActs(account.reason.who_acts) : null);
  const forecastText = account.health === "healthy" || account.health === "expiring_soon" ? forecast(account.forecast, now) : null;
  return h(
    "li",
    {
      class: `account card tone-${tone}`,
      dataset: { name: account.name, health: account.health, attention: String(account.needs_attention) },
    },
    h("div", { class: "card-head" },
      h("h3", { class: "card-title" }, h("a", { href, class: "name" }, account.name)),
      h("span", { class: `badge tone-${tone}`, dataset: { health: account.health } }, label),
    ),
    h("dl", { class: "facts" },
      h("dt", {}, "User"), h("dd", { class: "user", title: account.user || "" }, account.user || "—"),
      h("dt", {}, "Tenant"), h("dd", { class: "tenant", title: account.tenant || "" }, account.tenant || "—"),
      h("dt", {}, "Provider"), h("dd", { class: "provider" }, account.provider_label || account.provider),
    ),
    h("p", { class: "last-refresh" },
      "Last successful refresh: ",
      h("time", { datetime: account.last_refresh_ok_at ? new Date(account.last_refresh_ok_at * 1000).toISOString() : "" },
        relative(account.last_refresh_ok_at, now)),
    ),
    forecastText ? h("p", { class: "forecast" }, forecastText) : null,
    account.unsaved_credentials
      ? h("p", { class: "unsaved", role: "status", dataset: { unsaved: "true" } }, UNSAVED)
      : null,
    broken
      ? h("div", { class: "reason", role: "group", "aria-label": "Why it stopped working" },
          account.unreachable
            ? h("p", { class: "unreachable", dataset: { attempts: String(account.unreachable.attempts) } },
                unreachableLine(account.unreachable, now))
            : null,
          h("p", { class: "reason-text" }, account.reason.user_message),
          h("p", { class: "reason-meta" },
            h("span", { class: "code" }, codeLabel(account.reason)),
            `${codeLabel(account.reason) ? " · " : ""}${account.reason.title}`,
            who ? ` · who acts: ${who}` : ""),
        )
      : null,
    h("div", { class: "card-actions" },
      account.can_reconnect && (account.suggest_reconnect || reconnect.running(account.name))
        // When an admin or the app's developer must act first, signing in is
        // offered, but not as the main action.
        ? reconnect.control(account.name, { primary: !["needs_admin", "app_misconfigured"].includes(account.health) })
        : null,
      h("a", { href, class: "details-link", "aria-label": `Details for ${account.name}` }, "Details"),
    ),
  );
}

function matches(account) {
  if (!filterText) return true;
  const hay = `${account.name} ${account.user || ""} ${account.tenant || ""} ${account.provider_label || ""}`.toLowerCase();
  return hay.includes(filterText);
}

// The backend's standing: needs attention first, then retrying, then healthy.
const RANK = { needs_attention: 0, retrying: 1, healthy: 2 };

function order(a, b) {
  return (RANK[a.standing] ?? 1) - (RANK[b.standing] ?? 1) || a.name.localeCompare(b.name);
}

/** Renders `list` ({ now, accounts, summary }) into the dashboard. */
export function render(list) {
  lastList = list;
  const { now, accounts } = list;
  const ul = $("accounts");
  $("empty").hidden = accounts.length > 0;
  const summary = $("summary");
  summary.textContent = list.summary ? summaryLine(list.summary) : "";
  summary.dataset.needsAttention = list.summary ? String(list.summary.needs_attention) : "0";
  keeperStatus(list.keeper);
  const seen = new Set();
  const wanted = accounts.filter(matches).sort(order);
  if (!ul.firstChild) {
    // First render: build every card off-document and insert once.
    const fragment = document.createDocumentFragment();
    for (const account of wanted) {
      seen.add(account.name);
      const el = card(account, now);
      cards.set(account.name, { sig: signature(account, now), el });
      fragment.append(el);
    }
    ul.append(fragment);
    return;
  }
  let previous = null;
  for (const account of wanted) {
    seen.add(account.name);
    const sig = signature(account, now);
    let entry = cards.get(account.name);
    if (!entry || entry.sig !== sig) {
      const el = card(account, now);
      if (entry) {
        const hadFocus = entry.el.contains(document.activeElement) ? document.activeElement.className : null;
        entry.el.replaceWith(el);
        if (hadFocus) el.querySelector(`.${hadFocus.split(" ")[0]}`)?.focus();
      }
      entry = { sig, el };
      cards.set(account.name, entry);
    }
    // Keep DOM order equal to `wanted` while moving as few nodes as possible.
    const expected = previous ? previous.nextSibling : ul.firstChild;
    if (expected !== entry.el) ul.insertBefore(entry.el, expected);
    previous = entry.el;
  }
  for (const [name, entry] of cards) {
    if (!seen.has(name)) {
      entry.el.remove();
      cards.delete(name);
    }
  }
}

/** The status line under the summary when another process keeps the
 * profile (it runs the scheduled refreshes; this window still shows
 * everything and refreshes on request). */
function keeperStatus(keeper) {
  const el = $("keeper");
  const elsewhere = Boolean(keeper && keeper.note);
  el.hidden = !elsewhere;
  el.dataset.by = keeper ? keeper.by : "";
  el.dataset.pid = keeper && keeper.pid != null ? String(keeper.pid) : "";
  el.replaceChildren(...(elsewhere ? keeperLine(keeper) : []));
}

/** Re-renders with the last data (e.g. after a reconnect progress change). */
export function rerender() {
  render(lastList);
}

/** Wires the filter box and arrow-key movement between cards. */
export function init() {
  const filter = $("filter");
  filter.addEventListener("input", () => {
    filterText = filter.value.trim().toLowerCase();
    rerender();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "/" && !["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName)) {
      e.preventDefault();
      filter.focus();
    }
  });
  $("accounts").addEventListener("keydown", (e) => {
    if (!["ArrowDown", "ArrowUp", "ArrowRight", "ArrowLeft"].includes(e.key)) return;
    const current = e.target.closest(".card");
    if (!current) return;
    const next = ["ArrowDown", "ArrowRight"].includes(e.key) ? current.nextElementSibling : current.previousElementSibling;
    if (next) {
      e.preventDefault();
      next.querySelector("a.name")?.focus();
    }
  });
  reconnect.onChange((name) => {
    const entry = cards.get(name);
    if (entry) entry.sig = "";
    rerender();
  });
}

/** Shows, on every view, that the keychain cannot be reached (gone, locked
 * or refused), so the health on the cards is only the last known. */
export function keychainBanner(keychain) {
  const el = $("keychain-banner");
  const down = keychain && keychain.state !== "available";
  el.hidden = !down;
  el.dataset.state = keychain ? keychain.state : "";
  el.replaceChildren(...(down
    ? [h("p", {},
        h("strong", {}, { locked: "The keychain is locked. ", denied: "The keychain refused access. " }[keychain.state]
          || "The keychain cannot be reached. "),
        keychain.message || "")]
    : []));
}
