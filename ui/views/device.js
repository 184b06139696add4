// "Sign in on another device": the panel that shows the page to open (as
// text and as a QR code), the code to enter there, how long it stays valid,
// and the offer itself. The backend sends the code in the `device` field of
// a `reconnect-progress` event (`user_code`, `verification_uri`,
// `expires_in`, `expires_at`, `qr_svg`); it never sends the device code the
// app polls with. The reconnect control (reconnect.js) places these pieces.
import { h, copyButton, span } from "../dom.js";

/** The button's words, shown wherever the way is offered. */
export const OFFER = "Sign in on another device";

/** The line under the offer when the browser could not be opened here. */
export const BROWSER_FAILED_HINT =
  "No browser opens here? Sign in on your phone or another computer with a code instead.";

/** The "Sign in on another device" button; `prominent` when the browser failed. */
export function offerButton(name, onClick, { prominent = false } = {}) {
  const button = h(
    "button",
    { type: "button", class: prominent ? "primary device-button" : "device-button", "aria-label": `${OFFER} for ${name}` },
    OFFER,
  );
  button.addEventListener("click", () => onClick(name));
  return button;
}

/** The backend's `<svg>` text as an element (parsed, never run as HTML). */
function qrImage(svgText, url) {
  if (!svgText) return null;
  const parsed = new DOMParser().parseFromString(svgText, "image/svg+xml").documentElement;
  if (!parsed || parsed.nodeName !== "svg") return null;
  const image = document.importNode(parsed, true);
  image.setAttribute("role", "img");
  image.setAttribute("aria-label", `QR code that opens ${url}`);
  image.setAttribute("focusable", "false");
  return h("div", { class: "device-qr" }, image);
}

/** What to do on the other device: the page, the QR code and the code. */
export function codePanel(name, device) {
  const url = device.verification_uri;
  return h("div", { class: "device-code", role: "group", "aria-label": `Sign-in code for ${name}` },
    qrImage(device.qr_svg, url),
    h("ol", { class: "device-steps" },
      h("li", {},
        "On your phone or another computer, open ",
        h("code", { class: "device-url" }, url),
        " ",
        copyButton(`Copy the sign-in page address for ${name}`, url, "copy-url", "Copy address"),
        device.qr_svg ? " or scan the QR code." : ".",
      ),
      h("li", {},
        "Enter this code there:",
        h("div", { class: "user-code-line" },
          h("output", { class: "user-code", "aria-label": "Sign-in code" }, device.user_code),
          copyButton(`Copy the sign-in code for ${name}`, device.user_code, "copy-code", "Copy code"),
        ),
      ),
      h("li", {}, "Sign in as this account's user. Reconnect notices by itself; keep this window open."),
    ),
    h("p", { class: "hint device-expiry" },
      `The code is valid for ${span(device.expires_in)}; the time left runs above.`),
  );
}
