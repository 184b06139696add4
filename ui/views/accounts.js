// Adding an account (Microsoft Entra ID or any OpenID Connect provider) in a
// modal dialog with sensible defaults and a short how-to.
import * as api from "../api.js";
import { h, $, toast } from "../dom.js";
import * as failure from "./failure.js";

let defaults = {};

/** Defaults from app_info (the demo profile points them at its simulator). */
export function setDefaults(d) {
  defaults = d || {};
}

function field(id, label, input, help) {
  input.id = id;
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    input,
    help ? h("p", { class: "help muted", id: `${id}-help` }, help) : null);
}

function howTo() {
  return h("details", { class: "howto" },
    h("summary", {}, "How to register a desktop app in Microsoft Entra ID"),
    h("ol", {},
      h("li", {}, "In the Entra admin center, open App registrations and choose New registration."),
      h("li", {}, "Pick who may sign in (your organization only, or any organization)."),
      h("li", {}, "Under Redirect URI choose \u201cPublic client/native (mobile & desktop)\u201d and enter http://localhost."),
      h("li", {}, "Register, then copy the Application (client) ID into this form."),
      h("li", {}, "Under Authentication, leave \u201cAllow public client flows\u201d as it is; no client secret is needed."),
      h("li", {}, "Add the API permissions your scopes need (for example Microsoft Graph User.Read).")));
}

function form(dialog) {
  const kind = h("fieldset", { class: "kind" },
    h("legend", {}, "Provider"),
    h("label", {}, h("input", { type: "radio", name: "kind", value: "microsoft", checked: true }), " Microsoft Entra ID"),
    h("label", {}, h("input", { type: "radio", name: "kind", value: "oidc" }), " Other OpenID Connect provider"));
  const name = h("input", { required: true, autocomplete: "off", pattern: "[A-Za-z0-9._@-]{1,64}", placeholder: "work-mail", "aria-describedby": "acct-name-help" });
  const tenant = h("input", { value: defaults.tenant || "organizations", autocomplete: "off", "aria-describedby": "acct-tenant-help" });
  const issuer = h("input", { type: "url", value: defaults.issuer || "", placeholder: "https://id.example.com", autocomplete: "off" });
  const clientId = h("input", { required: true, value: defaults.client_id || "", autocomplete: "off", placeholder: "00000000-0000-0000-0000-000000000000" });
  const scopes = h("input", { value: defaults.scopes || "offline_access User.Read", autocomplete: "off", "aria-describedby": "acct-scopes-help" });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const ms = h("div", { class: "ms-only" },
    field("acct-tenant", "Tenant", tenant, "A tenant ID or domain, or \u201corganizations\u201d / \u201ccommon\u201d."),
    howTo());
  const oidc = h("div", { class: "oidc-only", hidden: true }, field("acct-issuer", "Issuer URL", issuer));
  const f = h("form", { method: "dialog", class: "add-form" },
    h("h2", { id: "add-heading" }, "Add an account"),
    kind,
    field("acct-name", "Name", name, "A short label; also what `reconnect token NAME` uses."),
    ms, oidc,
    field("acct-client", "Client ID", clientId),
    field("acct-scopes", "Scopes", scopes, "Space-separated. offline_access keeps the connection alive; openid and profile are added for you."),
    error,
    h("div", { class: "dialog-actions" },
      h("button", { type: "button", class: "cancel-add", onclick: () => dialog.close() }, "Cancel"),
      h("button", { type: "submit", class: "primary", id: "add-submit" }, "Add account")));
  kind.addEventListener("change", () => {
    const isMs = f.elements.kind.value === "microsoft";
    ms.hidden = !isMs;
    oidc.hidden = isMs;
    issuer.required = !isMs;
    if (!isMs && scopes.value === (defaults.scopes || "offline_access User.Read")) scopes.value = "openid profile offline_access";
  });
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    const request = {
      kind: f.elements.kind.value,
      name: name.value.trim(),
      tenant: f.elements.kind.value === "microsoft" ? tenant.value.trim() || null : null,
      issuer: f.elements.kind.value === "oidc" ? issuer.value.trim() || null : null,
      client_id: clientId.value.trim(),
      scopes: scopes.value.split(/\s+/).filter(Boolean),
    };
    try {
      await api.addAccount(request);
      dialog.close();
      toast(`${request.name} added. Press Reconnect on its card to sign in.`, "ok");
      location.hash = `#/account/${encodeURIComponent(request.name)}`;
    } catch (err) {
      error.textContent = failure.text(err);
      error.hidden = false;
      // Point at what to change.
      if (err.code === "duplicate_name") name.focus();
      if (failure.keychainState(err)) failure.report(err);
    }
  });
  return f;
}

/** Opens the add-account dialog. */
export function open() {
  const dialog = $("add-dialog");
  dialog.replaceChildren(form(dialog));
  dialog.showModal();
  dialog.querySelector("#acct-name").focus();
}
