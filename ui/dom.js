// Small DOM helpers shared by the views: element creation, time words, copy.

/** Creates an element: h("button", { class: "x", onclick }, "text", child). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Creates an SVG element with attributes. */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

export const $ = (id) => document.getElementById(id);

const UNITS = [
  ["year", 365 * 86400],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

/** "63 days", "1 hour", "45 seconds" (rounded down to the largest unit). */
export function span(seconds) {
  const s = Math.max(0, Math.round(Math.abs(seconds)));
  for (const [unit, size] of UNITS) {
    if (s >= size || unit === "second") {
      const n = Math.floor(s / size);
      return `${n} ${unit}${n === 1 ? "" : "s"}`;
    }
  }
  return "0 seconds";
}

/** "5 minutes ago" / "in 3 days", relative to the backend's `now`. */
export function relative(at, now) {
  if (at === null || at === undefined) return "never";
  const d = at - now;
  if (Math.abs(d) < 45) return "just now";
  return d < 0 ? `${span(-d)} ago` : `in ${span(d)}`;
}

/** A Unix time as a readable UTC date-time. */
export function utc(at) {
  if (at === null || at === undefined) return "—";
  return new Date(at * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** mm:ss for a countdown. */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** Copies text to the clipboard; returns whether it worked. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h("textarea", { class: "offscreen", "aria-hidden": "true" });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

/** A button that copies `text()` and says so briefly. */
export function copyButton(label, text, extraClass = "", visible = "Copy") {
  const button = h("button", { type: "button", class: `copy ${extraClass}`.trim(), "aria-label": label }, visible);
  button.addEventListener("click", async () => {
    const ok = await copyText(typeof text === "function" ? text() : text);
    button.textContent = ok ? "Copied" : "Copy failed";
    button.dataset.copied = ok ? "true" : "false";
    setTimeout(() => {
      button.textContent = visible;
      delete button.dataset.copied;
    }, 1500);
  });
  return button;
}

/** Shows a short message in the live region at the bottom of the window. */
export function toast(message, tone = "info") {
  const region = $("toasts");
  if (!region) return;
  const item = h("div", { class: `toast ${tone}`, role: tone === "bad" ? "alert" : "status" }, message);
  region.append(item);
  setTimeout(() => item.remove(), 5000);
}
