// Adding an account in a modal dialog with sensible defaults and a short
// how-to: Microsoft (work or school in one of Microsoft's clouds or at a
// custom authority, Azure AD B2C, or External ID) or any OpenID Connect
// provider. The backend builds the authority; the form only says what was
// chosen.
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

function radio(name, value, label, checked = false) {
  return h("label", {}, h("input", { type: "radio", name, value, checked }), ` ${label}`);
}

// The Microsoft part: which service (work or school, B2C, External ID) and
// what each needs. The clouds come from the backend (the core's list).
function microsoftPart(choices, scopes) {
  const service = h("fieldset", { class: "kind service" },
    h("legend", {}, "Account type"),
    radio("authority", "entra", "Work or school (Entra ID)", true),
    radio("authority", "b2c", "Azure AD B2C"),
    radio("authority", "ciam", "External ID (CIAM)"));
  const cloud = h("select", { "aria-describedby": "acct-cloud-help" },
    ...choices.clouds.map((c) => h("option", { value: c.cloud }, c.label)),
    h("option", { value: "custom" }, "Custom authority URL"));
  const custom = h("input", { type: "url", autocomplete: "off", placeholder: "https://login.example.com" });
  const tenant = h("input", { value: defaults.tenant || "organizations", autocomplete: "off", "aria-describedby": "acct-tenant-help" });
  const tenantName = h("input", { autocomplete: "off", placeholder: "contoso", "aria-describedby": "acct-tenant-name-help" });
  const policy = h("input", { autocomplete: "off", placeholder: "B2C_1_signupsignin", "aria-describedby": "acct-policy-help" });
  const customField = field("acct-authority", "Authority URL", custom, "The address your identity service signs in at, without the tenant.");
  customField.hidden = true;
  // In the demo every work-or-school account signs in at the built-in
  // simulator, so there is no cloud to pick.
  const where = choices.simulated
    ? h("p", { class: "note", id: "acct-cloud-note" }, "This demo signs work or school accounts in at its built-in simulator, so there is no cloud to choose.")
    : h("div", {}, field("acct-cloud", "Cloud", cloud, "Where your organization’s Entra ID lives. Most are in the global cloud."), customField);
  const entra = h("div", { class: "entra-only" },
    where,
    field("acct-tenant", "Tenant", tenant, "A tenant ID or domain, or “organizations” / “common”."),
    howTo());
  const policyField = field("acct-policy", "User flow or policy", policy, "Its name as the B2C portal shows it, starting with B2C_1_ (or B2C_1A_ for a custom policy).");
  const external = h("div", { class: "external-only", hidden: true },
    field("acct-tenant-name", "Tenant name", tenantName, "The part before .onmicrosoft.com."),
    policyField,
    choices.simulated
      ? h("p", { class: "note" }, "B2C and External ID accounts sign in at Microsoft’s own service, even in this demo.")
      : null);
  const part = h("div", { class: "ms-only" }, service, entra, external);
  const update = () => {
    const which = part.querySelector("input[name='authority']:checked").value;
    entra.hidden = which !== "entra";
    external.hidden = which === "entra";
    policyField.hidden = which !== "b2c";
    tenantName.required = which !== "entra";
    policy.required = which === "b2c";
    customField.hidden = cloud.value !== "custom";
    custom.required = !choices.simulated && which === "entra" && cloud.value === "custom";
    // B2C grants no Microsoft Graph scopes.
    if (which === "b2c" && scopes.value === (defaults.scopes || "offline_access User.Read")) scopes.value = "offline_access";
  };
  service.addEventListener("change", update);
  cloud.addEventListener("change", update);
  // What the form sends for the Microsoft choice.
  const provider = () => {
    const which = part.querySelector("input[name='authority']:checked").value;
    if (which === "b2c") return { kind: "b2c", tenant_name: tenantName.value.trim(), policy: policy.value.trim() };
    if (which === "ciam") return { kind: "ciam", tenant_name: tenantName.value.trim() };
    const at = !choices.simulated && cloud.value === "custom" ? { custom: custom.value.trim() } : { cloud: choices.simulated ? "global" : cloud.value };
    return { kind: "entra", at, tenant: tenant.value.trim() || null };
  };
  return { part, provider, focus: { tenant_name: tenantName, policy } };
}

function form(dialog, choices) {
  const kind = h("fieldset", { class: "kind" },
    h("legend", {}, "Provider"),
    radio("kind", "microsoft", "Microsoft", true),
    radio("kind", "oidc", "Other OpenID Connect provider"));
  const name = h("input", { required: true, autocomplete: "off", pattern: "[A-Za-z0-9._@-]{1,64}", placeholder: "work-mail", "aria-describedby": "acct-name-help" });
  const issuer = h("input", { type: "url", value: defaults.issuer || "", placeholder: "https://id.example.com", autocomplete: "off" });
  const clientId = h("input", { required: true, value: defaults.client_id || "", autocomplete: "off", placeholder: "00000000-0000-0000-0000-000000000000" });
  const scopes = h("input", { value: defaults.scopes || "offline_access User.Read", autocomplete: "off", "aria-describedby": "acct-scopes-help" });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const ms = microsoftPart(choices, scopes);
  const oidc = h("div", { class: "oidc-only", hidden: true }, field("acct-issuer", "Issuer URL", issuer));
  const f = h("form", { method: "dialog", class: "add-form" },
    h("h2", { id: "add-heading" }, "Add an account"),
    kind,
    field("acct-name", "Name", name, "A short label; also what `reconnect token NAME` uses."),
    ms.part, oidc,
    field("acct-client", "Client ID", clientId),
    field("acct-scopes", "Scopes", scopes, "Space-separated. offline_access keeps the connection alive; openid and profile are added for you."),
    error,
    h("div", { class: "dialog-actions" },
      h("button", { type: "button", class: "cancel-add", onclick: () => dialog.close() }, "Cancel"),
      h("button", { type: "submit", class: "primary", id: "add-submit" }, "Add account")));
  kind.addEventListener("change", () => {
    const isMs = f.elements.kind.value === "microsoft";
    ms.part.hidden = !isMs;
    oidc.hidden = isMs;
    issuer.required = !isMs;
    for (const el of ms.part.querySelectorAll("input, select")) el.disabled = !isMs;
    if (!isMs && scopes.value === (defaults.scopes || "offline_access User.Read")) scopes.value = "openid profile offline_access";
  });
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    const isMs = f.elements.kind.value === "microsoft";
    const request = {
      name: name.value.trim(),
      provider: isMs ? ms.provider() : { kind: "oidc", issuer: issuer.value.trim() },
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

/** Opens the add-account dialog (after asking which clouds to offer). */
export async function open() {
  let choices = { clouds: [], simulated: false };
  try {
    choices = await api.addAccountChoices();
  } catch (err) {
    toast(failure.text(err), "bad");
  }
  const dialog = $("add-dialog");
  dialog.replaceChildren(form(dialog, choices));
  dialog.showModal();
  dialog.querySelector("#acct-name").focus();
}
