// The decode tool: paste any error body, description or code, see the verdict.
import * as api from "../api.js";
import { h, $ } from "../dom.js";
import * as verdict from "./verdict.js";
import * as failure from "./failure.js";

const EXAMPLES = [
  ["Revoked (50173)", '{"error":"invalid_grant","error_description":"AADSTS50173: The provided grant has expired due to it being revoked.","error_codes":[50173]}'],
  ["Idle (700082)", "AADSTS700082: The refresh token has expired due to inactivity."],
  ["MFA (50076)", "AADSTS50076"],
  ["Blocked by policy (53003)", '{"error":"invalid_grant","error_description":"AADSTS53003: Access has been blocked by Conditional Access policies.","error_codes":[53003],"suberror":"message_only"}'],
];

let built = false;

async function run() {
  const text = $("decode-input").value;
  const out = $("decode-output");
  if (!text.trim()) {
    out.replaceChildren(h("p", { class: "muted" }, "Paste something first."));
    return;
  }
  try {
    const v = await api.decode(text);
    out.replaceChildren(verdict.panel(v, 3));
  } catch (err) {
    out.replaceChildren(h("p", { class: "error", role: "alert" }, failure.text(err)));
  }
}

/** Shows the decode tool (built once, keeps what was pasted). */
export function show() {
  if (built) return;
  built = true;
  const input = h("textarea", { id: "decode-input", rows: 7, spellcheck: "false",
    placeholder: "Paste a token-endpoint response body, an error_description, a redirect URL or just a code like AADSTS50173",
    "aria-describedby": "decode-help" });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      run();
    }
  });
  $("view-decode").replaceChildren(
    h("div", { class: "view-head" }, h("h2", { id: "decode-heading" }, "Decode an error")),
    h("div", { class: "panel" },
      h("label", { for: "decode-input", class: "label" }, "Error text"),
      input,
      h("p", { id: "decode-help", class: "muted" }, "Nothing leaves this computer. Ctrl+Enter decodes."),
      h("div", { class: "row" },
        h("button", { type: "button", id: "decode-run", class: "primary", onclick: run }, "Decode"),
        h("span", { class: "muted" }, "Examples:"),
        EXAMPLES.map(([label, text]) => h("button", { type: "button", class: "chip", onclick: () => { input.value = text; run(); } }, label)),
      ),
    ),
    h("div", { id: "decode-output", "aria-live": "polite" }),
  );
}
