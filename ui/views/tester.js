// The tester panel: break a simulator account's grant in any way the real
// service does, trigger outages, advance the clock, and watch the app react.
// For real accounts: make the next refresh fail locally with a chosen code.
import * as api from "../api.js";
import { h, $, span, toast } from "../dom.js";
import { health } from "./words.js";

/** The break kind picked per account; the table is rebuilt on every change. */
const chosen = new Map();

async function act(promise, done) {
  try {
    await promise;
    if (done) toast(done, "ok");
  } catch (err) {
    toast(String(err), "bad");
  }
  show();
}

function clockPanel(state) {
  const advance = (seconds, label) =>
    h("button", { type: "button", class: "advance", dataset: { seconds }, onclick: () => act(api.testerAdvanceClock(seconds), `Clock advanced by ${label}.`) }, `+${label}`);
  const custom = h("input", { id: "advance-days", type: "number", min: "0", step: "1", value: "91", "aria-label": "Days to advance" });
  const outage = h("select", { id: "outage-kind", "aria-label": "Outage kind" },
    (state.outage_kinds || []).map((k) => h("option", { value: k.id, selected: state.outage === k.id }, k.label)));
  return h("section", { class: "panel", "aria-labelledby": "sim-heading" },
    h("h3", { id: "sim-heading" }, "Simulator"),
    h("p", {}, "Clock: ", h("strong", { id: "sim-offset" }, state.clock_offset_seconds ? `+${span(state.clock_offset_seconds)} ahead of real time` : "real time"),
      state.outage ? h("span", { class: "badge tone-bad outage-on" }, `Outage: ${state.outage}`) : null),
    h("div", { class: "row" }, advance(3600, "1 hour"), advance(86400, "1 day"), advance(30 * 86400, "30 days"),
      h("label", { class: "inline" }, "or ", custom, " days "),
      h("button", { type: "button", id: "advance-custom", onclick: () => act(api.testerAdvanceClock(Number(custom.value) * 86400), `Clock advanced by ${custom.value} days.`) }, "Advance")),
    h("div", { class: "row" },
      h("label", { class: "inline", for: "outage-kind" }, "Outage: "), outage,
      h("button", { type: "button", id: "outage-start", onclick: () => act(api.testerOutage(outage.value), "Outage started.") }, "Start outage"),
      h("button", { type: "button", id: "outage-end", disabled: !state.outage, onclick: () => act(api.testerOutage(null), "Outage ended.") }, "End outage")),
  );
}

function accountRow(a, kinds) {
  const [label, tone] = health(a.health);
  const cells = [h("th", { scope: "row" }, h("a", { href: `#/account/${encodeURIComponent(a.name)}` }, a.name)),
    h("td", {}, h("span", { class: `badge tone-${tone}`, dataset: { health: a.health } }, label),
      a.fail_next ? h("span", { class: "badge tone-warn armed" }, ` next refresh fails: AADSTS${a.fail_next}`) : null)];
  const code = h("input", { type: "number", class: "code-input", min: "1", placeholder: "code", "aria-label": `AADSTS code for ${a.name}` });
  if (a.simulated) {
    const kind = h("select", { class: "break-kind", "aria-label": `How to break ${a.name}` },
      kinds.map((k) => h("option", { value: k.id, selected: chosen.get(a.name) === k.id }, k.label)));
    const syncCode = () => {
      code.hidden = kind.value !== "code";
      chosen.set(a.name, kind.value);
    };
    kind.addEventListener("change", syncCode);
    syncCode();
    cells.push(h("td", {}, h("div", { class: "row" }, kind, code,
      h("button", { type: "button", class: "break", "aria-label": `Break ${a.name}`,
        onclick: () => act(api.testerBreak(a.name, kind.value, kind.value === "code" ? Number(code.value) : null), `${a.name}: grant broken (${kind.selectedOptions[0].textContent}).`) }, "Break"),
      h("button", { type: "button", class: "restore", "aria-label": `Restore ${a.name}`,
        onclick: () => act(api.testerRestore(a.name), `${a.name}: grant restored.`) }, "Restore"))));
  } else {
    code.value = a.fail_next || "";
    cells.push(h("td", {}, h("div", { class: "row" }, h("span", { class: "muted" }, "Next refresh fails with"), code,
      h("button", { type: "button", class: "fail-next", "aria-label": `Make the next refresh of ${a.name} fail`,
        onclick: () => act(api.testerFailNext(a.name, Number(code.value)), `${a.name}: the next refresh will fail with AADSTS${code.value}.`) }, "Arm"),
    )));
  }
  cells.push(h("td", {}, h("button", { type: "button", class: "refresh-now", "aria-label": `Refresh ${a.name} now`,
    onclick: () => act(api.refreshNow(a.name)) }, "Refresh now")));
  return h("tr", { dataset: { name: a.name } }, cells);
}

/** Shows the tester panel. */
export async function show() {
  const section = $("view-tester");
  let state;
  try {
    state = await api.testerState();
  } catch (err) {
    section.replaceChildren(h("h2", { id: "tester-heading" }, "Tester"), h("p", { class: "error", role: "alert" }, String(err)));
    return;
  }
  if (!state.simulated) {
    section.replaceChildren(
      h("div", { class: "view-head" },
        h("h2", { id: "tester-heading" }, "Tester"),
        h("p", { class: "summary" },
          "The tester breaks simulated accounts only, never a real connection. Switch to the demo profile in the header to use it.")));
    return;
  }
  section.replaceChildren(
    h("div", { class: "view-head" },
      h("h2", { id: "tester-heading" }, "Tester"),
      h("p", { class: "summary" }, "Break simulator accounts the way Microsoft's service does, then watch the dashboard react.")),
    clockPanel(state),
    h("section", { class: "panel", "aria-labelledby": "tester-accounts-heading" },
      h("h3", { id: "tester-accounts-heading" }, "Accounts"),
      state.accounts.length
        ? h("table", { class: "tester-table" },
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Account"), h("th", { scope: "col" }, "Health"), h("th", { scope: "col" }, "Fault"), h("th", { scope: "col" }, ""))),
            h("tbody", {}, state.accounts.map((a) => accountRow(a, state.break_kinds || []))))
        : h("p", { class: "muted" }, "No accounts."),
    ),
  );
}
