//! The sign-in page's HTML: plain forms, no JavaScript, stable ids and names
//! so a headless browser can drive it (documented in the crate README).

use crate::signin::{Flow, Step};

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

const STYLE: &str = "body{font-family:sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}\
button{margin:.25rem 0;padding:.4rem 1rem}input{display:block;width:100%;margin:.25rem 0 .75rem;padding:.4rem}\
#error{color:#a4262c}.pick{display:block;width:100%;text-align:left}";

/// A whole page: `step` goes into `<body data-step>`, `title` is escaped, `body` is markup.
pub(crate) fn document(step: &str, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} - Reconnect simulator</title>\
<style>{STYLE}</style></head>\n<body data-step=\"{step}\"><p><small>Reconnect simulator of Microsoft sign-in</small></p>\
<h1 id=\"step-title\">{title}</h1>\n{body}\n</body></html>\n",
        title = escape(title),
    )
}

fn hidden(flow_id: &str, step: Step) -> String {
    format!(
        "<input type=\"hidden\" name=\"flow\" value=\"{}\"><input type=\"hidden\" name=\"step\" value=\"{}\">",
        escape(flow_id),
        step.name()
    )
}

fn cancel(flow_id: &str, step: Step) -> String {
    format!(
        "<form method=\"post\" action=\"authorize\" id=\"cancel-form\">{}<button type=\"submit\" id=\"cancel\" name=\"action\" value=\"cancel\">Cancel</button></form>",
        hidden(flow_id, step)
    )
}

fn error_line(message: Option<&str>) -> String {
    message.map_or_else(String::new, |m| {
        format!("<p id=\"error\" role=\"alert\">{}</p>", escape(m))
    })
}

/// Renders the page for the flow's current step.
pub fn render(flow_id: &str, flow: &Flow, users: &[String], message: Option<&str>) -> String {
    let step = flow.step;
    let h = hidden(flow_id, step);
    let err = error_line(message);
    let who = escape(flow.upn.as_deref().unwrap_or(""));
    let (title, body) = match step {
        Step::User => {
            let picks: String = users
                .iter()
                .enumerate()
                .map(|(i, u)| {
                    let u = escape(u);
                    format!("<button type=\"submit\" class=\"pick\" id=\"pick-{i}\" name=\"pick\" value=\"{u}\" data-upn=\"{u}\">{u}</button>")
                })
                .collect();
            (
                "Sign in",
                format!(
                    "{err}<form method=\"post\" action=\"authorize\" id=\"user-form\">{h}\
<label for=\"username\">Email or username</label><input type=\"email\" id=\"username\" name=\"username\" autocomplete=\"username\" value=\"{hint}\">\
<button type=\"submit\" id=\"next\" name=\"action\" value=\"next\">Next</button></form>\
<form method=\"post\" action=\"authorize\" id=\"pick-form\">{h}<p>Or pick an account:</p>{picks}</form>{cancel}",
                    hint = escape(flow.request.login_hint.as_deref().unwrap_or("")),
                    cancel = cancel(flow_id, step)
                ),
            )
        }
        Step::Password => (
            "Enter password",
            format!(
                "<p id=\"account\">{who}</p>{err}<form method=\"post\" action=\"authorize\" id=\"password-form\">{h}\
<label for=\"password\">Password</label><input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" autofocus>\
<button type=\"submit\" id=\"sign-in\" name=\"action\" value=\"sign-in\">Sign in</button></form>{cancel}",
                cancel = cancel(flow_id, step)
            ),
        ),
        Step::Mfa => (
            "Approve sign-in request",
            format!(
                "<p id=\"account\">{who}</p>{err}<p>Your organization requires a second verification step{why}.</p>\
<form method=\"post\" action=\"authorize\" id=\"mfa-form\">{h}<button type=\"submit\" id=\"approve\" name=\"action\" value=\"approve\">Approve</button></form>{cancel}",
                why = if flow.request.has_claims_challenge() {
                    " (the app passed a claims challenge)"
                } else {
                    ""
                },
                cancel = cancel(flow_id, step)
            ),
        ),
        Step::Consent => {
            let scopes: String = flow
                .request
                .scope
                .split_whitespace()
                .map(|s| format!("<li>{}</li>", escape(s)))
                .collect();
            (
                "Permissions requested",
                format!(
                    "<p id=\"account\">{who}</p>{err}<p>The app <code id=\"client-id\">{client}</code> asks to:</p><ul id=\"scopes\">{scopes}</ul>\
<form method=\"post\" action=\"authorize\" id=\"consent-form\">{h}<button type=\"submit\" id=\"accept\" name=\"action\" value=\"accept\">Accept</button></form>{cancel}",
                    client = escape(&flow.request.client_id),
                    cancel = cancel(flow_id, step)
                ),
            )
        }
    };
    document(step.name(), title, &body)
}

/// A page for requests that cannot be redirected (bad client or redirect URI, expired page).
pub fn error_page(code: u32, text: &str) -> String {
    document(
        "error",
        "Sorry, but we're having trouble signing you in.",
        &format!(
            "<p id=\"error\" role=\"alert\">AADSTS{code}: {}</p>",
            escape(text)
        ),
    )
}

/// `response_mode=form_post`: a form the user submits to the redirect URI (no script).
pub fn form_post(redirect_uri: &str, fields: &[(&str, String)]) -> String {
    let inputs: String = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect();
    document(
        "form_post",
        "Continue",
        &format!(
            "<form method=\"post\" action=\"{}\" id=\"form-post\">{inputs}<button type=\"submit\" id=\"continue\">Continue</button></form>",
            escape(redirect_uri)
        ),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
        );
    }
}
