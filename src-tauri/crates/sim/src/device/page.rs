//! The human page at `{base}/devicelogin`: type the code, pick the account,
//! approve or decline. Plain forms, no JavaScript, the sign-in page's
//! styling; everything echoed is escaped. Ids and names (for headless
//! browsers): `form#device-form`, `input#user-code` (`name=user_code`),
//! `select#upn` (`name=upn`), `button#approve` / `button#decline`
//! (`name=action`); errors in `p#error`; the outcome in `p#result` with
//! `data-status` (`approved`, `declined`).

use super::DeviceStatus;
use crate::page::{document, escape};

/// What a POST of the form asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAction {
    /// Approve the code for the chosen user.
    Approve,
    /// Decline the code.
    Decline,
}

impl PageAction {
    /// The button's value, when it is one of ours.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "approve" => Some(Self::Approve),
            "decline" => Some(Self::Decline),
            _ => None,
        }
    }
}

/// The form: `code` pre-filled (escaped), one option per user, an error line when given.
pub fn form(code: &str, users: &[String], chosen: Option<&str>, error: Option<&str>) -> String {
    let options: String = users
        .iter()
        .map(|u| {
            let selected = if chosen.is_some_and(|c| c.eq_ignore_ascii_case(u)) {
                " selected"
            } else {
                ""
            };
            let u = escape(u);
            format!("<option value=\"{u}\"{selected}>{u}</option>")
        })
        .collect();
    let error = error.map_or_else(String::new, |m| {
        format!("<p id=\"error\" role=\"alert\">{}</p>", escape(m))
    });
    let body = format!(
        "<p>Type the code the app or device shows you, choose the account to sign in with, then approve.</p>{error}\
<form method=\"post\" action=\"devicelogin\" id=\"device-form\">\
<label for=\"user-code\">Code</label><input type=\"text\" id=\"user-code\" name=\"user_code\" autocomplete=\"off\" autofocus value=\"{code}\">\
<label for=\"upn\">Account</label><select id=\"upn\" name=\"upn\">{options}</select>\
<button type=\"submit\" id=\"approve\" name=\"action\" value=\"approve\">Approve</button> \
<button type=\"submit\" id=\"decline\" name=\"action\" value=\"decline\">Decline</button></form>",
        code = escape(code),
    );
    document("device", "Enter code", &body)
}

/// The outcome page after approving or declining `user_code`.
pub fn done(user_code: &str, status: DeviceStatus, upn: Option<&str>) -> String {
    let code = escape(user_code);
    let text = match (status, upn) {
        (DeviceStatus::Approved, Some(upn)) => format!(
            "Code {code} is approved for {}. You can close this page and return to the app or device.",
            escape(upn)
        ),
        (DeviceStatus::Approved, None) => format!("Code {code} is approved."),
        _ => format!("Code {code} was declined. The app or device will not be signed in."),
    };
    let body = format!(
        "<p id=\"result\" data-status=\"{}\">{text}</p>",
        status.name()
    );
    document("device-done", "Device sign-in", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_text_is_escaped() {
        let users = vec!["a\"<b>@contoso.test".to_owned()];
        let html = form("<script>x</script>", &users, None, Some("<i>no</i>"));
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(!html.contains("<i>no</i>"));
        assert!(!html.contains("a\"<b>"));
        let html = done("<b>", DeviceStatus::Approved, Some("<u>@x"));
        assert!(!html.contains("<b>") && !html.contains("<u>"), "{html}");
        assert!(html.contains("data-status=\"approved\""));
    }
}
