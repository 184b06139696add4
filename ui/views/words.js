// Plain words for health states, forecasts and verdict fields.
import { h, relative, span } from "../dom.js";

const HEALTH = {
  healthy: ["Healthy", "ok"],
  refreshing: ["Refreshing…", "busy"],
  retrying: ["Retrying", "warn"],
  unreachable: ["Can't reach the sign-in service", "bad"],
  expiring_soon: ["Expiring soon", "warn"],
  reconnect_needed: ["Reconnect needed", "bad"],
  needs_admin: ["Needs an admin", "bad"],
  app_misconfigured: ["App misconfigured", "bad"],
  never_connected: ["Not signed in", "idle"],
};

/** [label, tone] for a health state name. */
export function health(state) {
  return HEALTH[state] || [state, "idle"];
}

/** The card's line for tokens the keychain refused. */
export const UNSAVED =
  "Unsaved credentials: the keychain refused the new tokens. Unlock your keyring; Reconnect keeps trying to save them.";

/** Who keeps the profile, as nodes (program names in `code`): the
 * backend's note when another process keeps it, else our own line. */
export function keeperLine(keeper) {
  if (keeper.note) {
    return keeper.note.split("`").map((part, i) => (i % 2 ? h("code", {}, part) : part));
  }
  return [keeper.by === "this_app"
    ? "This app keeps this profile: it runs the scheduled refreshes while it runs, with or without its window."
    : "Opening the profile…"];
}

/** The dashboard's summary line from the backend's counts
 * ({ total, needs_attention, retrying, healthy }). */
export function summaryLine(s) {
  if (!s.total) return "";
  const parts = [];
  if (s.needs_attention) parts.push(`${s.needs_attention} need${s.needs_attention === 1 ? "s" : ""} attention`);
  if (s.healthy) parts.push(`${s.healthy} healthy`);
  if (s.retrying) parts.push(`${s.retrying} retrying`);
  return `${s.total} connection${s.total === 1 ? "" : "s"}: ${parts.join(" · ")}`;
}

const WHO = {
  user: "you (sign in again)",
  admin: "an administrator",
  developer: "the app's developer",
  nobody: "nobody (it heals by itself)",
};

/** Who must act, in words. */
export function whoActs(who) {
  return WHO[who] || who || "unknown";
}

/** Who acts on an account in `state` when the state decides it rather
 * than the last failure's verdict, else null. */
export function stateWho(state) {
  return state === "unreachable" ? "you or your IT" : null;
}

/** What an unreachable account's card and detail say beside the cause
 * ({ since, attempts } from the backend). */
export function unreachableLine(u, now) {
  return `Out of reach for ${span(Math.max(0, now - u.since))}, ${u.attempts} attempts in a row. ` +
    "Reconnect keeps trying, less often; you or your IT should check the network, VPN, proxy or firewall.";
}

/** "Yes" / "No" / "Maybe" for reconnect_fixes. */
export function fixes(value) {
  return { yes: "Yes", no: "No", maybe: "Maybe" }[value] || value;
}

/** The forecast line of a card, e.g. "Expires in 63 days if unused". */
export function forecast(f, now) {
  if (!f || f.dies_at === null || f.dies_at === undefined) return null;
  const left = f.dies_at - now;
  if (left <= 0) {
    return `Expired ${relative(f.dies_at, now)}`;
  }
  switch (f.cause) {
    case "idle":
      return `Expires in ${span(left)} if unused`;
    case "spa_lifetime":
      return `Ends in ${span(left)}: single-page app tokens cannot be extended`;
    case "sign_in_frequency":
      return `Sign-in required in ${span(left)} (sign-in frequency policy)`;
    default:
      return `Expires in ${span(left)}`;
  }
}

/** "AADSTS50173" or the OAuth error when there is no code. */
export function codeLabel(reason) {
  if (!reason) return "";
  if (reason.code) return `AADSTS${reason.code}`;
  return reason.error || "";
}
