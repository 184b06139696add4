//! The authorize redirect's error form: `error`, `error_description`,
//! `error_subcode` (e.g. `cancel`) and `error_uri`, as parameters of the
//! redirect URI's query (or fragment).

use super::classify::OAuthError;

/// The error parameters of an authorize redirect, as received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthorizeError<'a> {
    /// `error`, e.g. `access_denied`, `interaction_required`.
    pub error: &'a str,
    /// `error_description`.
    pub error_description: Option<&'a str>,
    /// `error_subcode`, e.g. `cancel`.
    pub error_subcode: Option<&'a str>,
    /// `error_uri`.
    pub error_uri: Option<&'a str>,
}

impl AuthorizeError<'_> {
    /// The same fields as an [`OAuthError`].
    pub fn to_oauth(&self) -> OAuthError {
        let own = |s: Option<&str>| {
            s.map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        OAuthError {
            error: own(Some(self.error)),
            error_description: own(self.error_description),
            error_subcode: own(self.error_subcode),
            error_uri: own(self.error_uri),
            ..OAuthError::default()
        }
    }
}

/// Splits `application/x-www-form-urlencoded` text into decoded pairs.
/// A leading URL (`http://…?`) or `?`/`#` is skipped. Bad escapes are kept
/// as written.
pub fn parse_form(text: &str) -> Vec<(String, String)> {
    let query = match text.find(['?', '#']) {
        Some(pos) => &text[pos + 1..],
        None => text,
    };
    query
        .split(['&', '#'])
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Decodes `+` and `%XX` escapes; invalid UTF-8 is replaced, never rejected.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (
                    bytes.get(i + 1).copied().and_then(hex),
                    bytes.get(i + 2).copied().and_then(hex),
                ) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads the error form out of redirect parameters; `None` when there is no
/// `error` parameter (then it is not an error redirect).
pub fn from_pairs(pairs: &[(String, String)]) -> Option<OAuthError> {
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let error = get("error").filter(|e| !e.trim().is_empty())?;
    let form = AuthorizeError {
        error,
        error_description: get("error_description"),
        error_subcode: get("error_subcode"),
        error_uri: get("error_uri"),
    };
    let mut err = form.to_oauth();
    err.trace_id = get("trace_id").map(str::to_owned);
    err.correlation_id = get("correlation_id").map(str::to_owned);
    err.suberror = get("suberror").map(str::to_owned);
    err.claims = get("claims").map(str::to_owned);
    Some(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_cancelled_redirect() {
        let pairs = parse_form(
            "http://localhost:53682/?error=access_denied&error_description=AADSTS65004%3a+User+declined+to+consent.&error_subcode=cancel&state=abc",
        );
        let err = from_pairs(&pairs).unwrap_or_default();
        assert_eq!(err.error.as_deref(), Some("access_denied"));
        assert_eq!(err.error_subcode.as_deref(), Some("cancel"));
        assert_eq!(
            err.error_description.as_deref(),
            Some("AADSTS65004: User declined to consent.")
        );
    }

    #[test]
    fn percent_decoding_is_forgiving() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%C3%A9%FF"), "é\u{fffd}");
        assert!(from_pairs(&parse_form("code=abc&state=x")).is_none());
    }
}
