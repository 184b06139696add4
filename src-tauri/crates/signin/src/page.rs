//! The small HTML pages the loopback listener shows in the browser: the
//! sign-in result, and the answers to requests that are not the callback.
//! Plain HTML, no script, every dynamic text escaped.

/// A page to show in the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// HTTP status.
    pub status: u16,
    /// The heading.
    pub title: String,
    /// The text under it.
    pub message: String,
}

impl Page {
    /// The success page.
    pub fn signed_in(user: &str) -> Self {
        Self {
            status: 200,
            title: "Signed in".into(),
            message: format!(
                "Signed in as {user}. You can close this tab and return to Reconnect."
            ),
        }
    }

    /// A failure page (the sign-in ended without connecting).
    pub fn failed(title: &str, message: &str) -> Self {
        Self {
            status: 200,
            title: title.into(),
            message: format!("{message} You can close this tab and return to Reconnect."),
        }
    }

    /// 404 for anything but the callback path.
    pub fn not_found() -> Self {
        Self {
            status: 404,
            title: "Not found".into(),
            message: "This address is only used to finish a Reconnect sign-in.".into(),
        }
    }

    /// 400 with a reason.
    pub fn bad_request(message: &str) -> Self {
        Self {
            status: 400,
            title: "Not a sign-in answer Reconnect expects".into(),
            message: message.into(),
        }
    }

    /// The HTML text.
    pub fn html(&self) -> String {
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Reconnect: {t}</title>\
             <meta name=\"viewport\" content=\"width=device-width\"></head>\
             <body style=\"font-family:sans-serif;max-width:36em;margin:4em auto\">\
             <h1 id=\"title\">{t}</h1><p id=\"message\">{m}</p></body></html>\n",
            t = escape(&self.title),
            m = escape(&self.message)
        )
    }
}

/// Escapes text for HTML element content and attributes.
pub fn escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_text_is_escaped() {
        let html = Page::failed("<b>x</b>", "a \"quote\" & 'more'").html();
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert!(html.contains("a &quot;quote&quot; &amp; &#x27;more&#x27;"));
        assert!(!html.contains("<b>"));
    }
}
