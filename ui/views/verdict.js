// Renders a decoder verdict (the JSON of `reconnect decode --json`): the
// plain-words summary, who acts, next steps, and the raw fields with copy
// buttons. Shared by the account detail and the decode tool.
import * as api from "../api.js";
import { h, copyButton } from "../dom.js";
import { report } from "./failure.js";
import { whoActs, fixes } from "./words.js";

/** The raw fields worth copying into a ticket or a sign-in-log search. */
export function rawFields(v) {
  return [
    ["Error", v.error],
    ["Codes", v.codes && v.codes.length ? v.codes.map((c) => `AADSTS${c}`).join(", ") : null],
    ["Suberror", v.suberror],
    ["Trace ID", v.trace_id],
    ["Correlation ID", v.correlation_id],
    ["Timestamp", v.timestamp],
    ["Claims challenge", v.claims_challenge],
  ].filter(([, value]) => value);
}

function docLink(v) {
  if (!v.doc_url || !v.primary_code) return null;
  const open = h("button", { type: "button", class: "link", "aria-label": `Open Microsoft's page for AADSTS${v.primary_code}` }, "Microsoft's page for this code");
  open.addEventListener("click", async () => {
    try {
      await api.openDoc(v.primary_code);
    } catch (err) {
      report(err);
    }
  });
  return h("p", { class: "doc" }, open, " ", h("span", { class: "mono muted" }, v.doc_url), " ", copyButton("Copy the documentation link", v.doc_url));
}

/** The verdict panel. `headingLevel` keeps the document outline right. */
export function panel(v, headingLevel = 3) {
  const code = v.primary_code ? `AADSTS${v.primary_code}` : v.error || "No code";
  const tone = v.transient ? "warn" : v.who_acts === "user" ? "bad" : v.who_acts === "nobody" ? "ok" : "bad";
  const raw = rawFields(v);
  return h("article", { class: `verdict tone-${tone}`, "aria-label": "Verdict" },
    h(`h${headingLevel}`, { class: "verdict-title" }, h("span", { class: "code" }, code), " ", v.title),
    h("dl", { class: "verdict-facts" },
      h("dt", {}, "Who must act"), h("dd", { class: "who-acts", dataset: { who: v.who_acts } }, whoActs(v.who_acts)),
      h("dt", {}, "Does reconnecting fix it?"), h("dd", { class: "fixes" }, fixes(v.reconnect_fixes)),
      h("dt", {}, "Heals by itself?"), h("dd", {}, v.transient ? `Yes${v.retry_after_seconds ? ` (retry after ${v.retry_after_seconds} s)` : ""}` : "No"),
      h("dt", {}, "Category"), h("dd", {}, v.category),
    ),
    h("p", { class: "user-message" }, v.user_message),
    h("details", { class: "admin", open: true },
      h("summary", {}, "For the admin"),
      h("p", { class: "admin-message" }, v.admin_message),
      v.next_steps && v.next_steps.length ? h("ol", { class: "next-steps" }, v.next_steps.map((s) => h("li", {}, s))) : null,
      docLink(v),
      !v.known && v.primary_code ? h("p", { class: "muted" }, "This code is not in Reconnect's table; the verdict is inferred from the error.") : null,
    ),
    raw.length
      ? h("table", { class: "raw" },
          h("caption", {}, "Raw fields"),
          h("tbody", {}, raw.map(([label, value]) =>
            h("tr", {}, h("th", { scope: "row" }, label), h("td", { class: "mono" }, value), h("td", {}, copyButton(`Copy ${label}`, value))))),
        )
      : null,
  );
}
