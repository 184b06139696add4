// Failures by code over time: a stacked bar chart in plain SVG (no
// libraries), a table of the same numbers for screen readers, and the spike
// banner shared with the rest of the app.
import * as api from "../api.js";
import { h, svg, $, utc, relative } from "../dom.js";
import * as failure from "./failure.js";

const W = 720;
const H = 240;
const PAD = { left: 36, right: 8, top: 10, bottom: 28 };

const sentence = (text) => (text ? text[0].toUpperCase() + text.slice(1) : "");

function chart(data) {
  const codes = data.codes.map((c) => c.key);
  const series = new Map(codes.map((k, i) => [k, i % 8]));
  const totals = data.buckets.map((b) => codes.reduce((n, k) => n + (b.counts[k] || 0), 0));
  const max = Math.max(4, Math.ceil(Math.max(...totals, 0) / 4) * 4);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const bw = plotW / Math.max(1, data.buckets.length);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img",
    "aria-label": `Failures per ${data.bucket_seconds / 3600 >= 1 ? `${data.bucket_seconds / 3600} hour` : `${data.bucket_seconds / 60} minute`} bucket, stacked by code; ${totals.reduce((a, b) => a + b, 0)} in total` });
  // Horizontal grid with 4 steps.
  for (let i = 0; i <= 4; i++) {
    const value = Math.round((max * i) / 4);
    const y = PAD.top + plotH - (plotH * i) / 4;
    root.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: "grid" }));
    const t = svg("text", { x: PAD.left - 6, y: y + 4, class: "axis", "text-anchor": "end" });
    t.textContent = String(value);
    root.append(t);
  }
  data.buckets.forEach((b, i) => {
    let y = PAD.top + plotH;
    for (const key of codes) {
      const n = b.counts[key] || 0;
      if (!n) continue;
      const hgt = (plotH * n) / max;
      y -= hgt;
      const rect = svg("rect", { x: PAD.left + i * bw + 1, y, width: Math.max(1, bw - 2), height: hgt, class: `series-${series.get(key)}` });
      const title = svg("title");
      title.textContent = `${utc(b.start)}: ${n} × ${key}`;
      rect.append(title);
      root.append(rect);
    }
    if (i % Math.ceil(data.buckets.length / 6) === 0) {
      const t = svg("text", { x: PAD.left + i * bw, y: H - 8, class: "axis" });
      t.textContent = relative(b.start, data.now);
      root.append(t);
    }
  });
  const legend = h("ul", { class: "legend", "aria-label": "Codes" },
    data.codes.map((c) => h("li", {}, h("span", { class: `swatch series-${series.get(c.key)}`, "aria-hidden": "true" }), `${c.key} · ${c.title} (${c.total})`)));
  return [root, legend];
}

function table(data) {
  return h("details", { class: "chart-table" },
    h("summary", {}, "Show the numbers as a table"),
    h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "From"), data.codes.map((c) => h("th", { scope: "col" }, c.key)))),
      h("tbody", {}, data.buckets.filter((b) => Object.keys(b.counts).length).map((b) =>
        h("tr", {}, h("th", { scope: "row" }, utc(b.start)), data.codes.map((c) => h("td", {}, b.counts[c.key] || 0))))),
    ),
  );
}

/** Fills the spike banner (shown on every view) from `spikes`. */
export function banner(spikes) {
  const el = $("spike-banner");
  if (!spikes || !spikes.length) {
    el.hidden = true;
    el.replaceChildren();
    return;
  }
  el.hidden = false;
  el.replaceChildren(...spikes.map((s) =>
    h("p", { class: "spike" },
      h("strong", {}, `Spike: ${s.label} across ${s.accounts.length} accounts`),
      ` since ${relative(s.first_at, s.now ?? s.last_at)}. Likely cause: ${s.likely_cause}. `,
      h("a", { href: "#/failures" }, "See failures"))));
}

/** Shows the failures view. */
export async function show(hours = 24) {
  const section = $("view-failures");
  let data;
  try {
    data = await api.failureChart(hours);
  } catch (err) {
    section.replaceChildren(h("h2", { id: "failures-heading" }, "Failures by code"), h("p", { class: "error", role: "alert" }, failure.text(err)));
    return;
  }
  banner(data.spikes);
  const picker = h("select", { id: "failures-range", "aria-label": "Time range" },
    [[1, "Last hour"], [24, "Last 24 hours"], [24 * 7, "Last 7 days"], [24 * 30, "Last 30 days"]].map(([v, label]) =>
      h("option", { value: v, selected: v === hours }, label)));
  picker.addEventListener("change", () => show(Number(picker.value)));
  const total = data.codes.reduce((n, c) => n + c.total, 0);
  section.replaceChildren(
    h("div", { class: "view-head" },
      h("h2", { id: "failures-heading" }, "Failures by code"),
      h("p", { class: "summary" }, total ? `${total} failed refresh${total === 1 ? "" : "es"} in range` : "No failures in this range."),
      h("div", { class: "toolbar" }, picker),
    ),
    data.spikes && data.spikes.length
      ? h("div", { class: "panel spikes" }, data.spikes.map((s) =>
          h("p", {}, h("strong", {}, s.label), ` — ${s.accounts.length} accounts (${s.accounts.slice(0, 8).join(", ")}${s.accounts.length > 8 ? ", …" : ""}). ${sentence(s.likely_cause)}.`)))
      : null,
    h("div", { class: "panel" }, total ? chart(data) : h("p", { class: "muted" }, "Nothing failed. Break an account in the Tester view to see the chart move."), total ? table(data) : null),
  );
}
