//! Reading an `error_description`: the AADSTS codes it names, the trailer
//! lines Entra appends (`Trace ID`, `Correlation ID`, `Timestamp`) in any of
//! the shapes tools leave them in (`\r\n`, `\n`, a literal `\r\n`, or plain
//! spaces), and the details Microsoft writes into the sentence itself:
//! issue dates, idle spans, lifetimes and the `TokensValidFrom` date.

use super::date::{parse_iso_instant, parse_span};
use crate::tokens::UnixTime;

/// The trailer labels, in the order Entra writes them.
const TRAILERS: [&str; 3] = ["Trace ID:", "Correlation ID:", "Timestamp:"];

/// An `error_description` taken apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Description {
    /// The message without its trailers, whitespace tidied.
    pub message: String,
    /// Every `AADSTSnnnn` code named, in order of appearance, without repeats.
    pub codes: Vec<u32>,
    /// The `Trace ID:` trailer value.
    pub trace_id: Option<String>,
    /// The `Correlation ID:` trailer value.
    pub correlation_id: Option<String>,
    /// The `Timestamp:` trailer value.
    pub timestamp: Option<String>,
    /// Details found in the sentence.
    pub details: Details,
}

/// Facts Microsoft puts into some descriptions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details {
    /// When the token or grant was issued, as written (`issued on …`).
    pub issued_at_text: Option<String>,
    /// The same instant, when it could be read.
    pub issued_at: Option<UnixTime>,
    /// How long the token sat unused (70008 / 700082), in seconds.
    pub idle_seconds: Option<u64>,
    /// The maximum lifetime a sign-in frequency policy allows (70043), in seconds.
    pub lifetime_seconds: Option<u64>,
    /// The fixed lifetime of a single-page-app refresh token (700084), in seconds.
    pub spa_lifetime_seconds: Option<u64>,
    /// The `TokensValidFrom` instant (50173), as written.
    pub tokens_valid_from_text: Option<String>,
    /// The same instant, when it could be read.
    pub tokens_valid_from: Option<UnixTime>,
}

impl Details {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Takes a description apart. Never fails: at worst the message is the input.
pub fn parse(text: &str) -> Description {
    let normalized = normalize(text);
    let mut cut = normalized.len();
    let mut found: [Option<String>; 3] = [None, None, None];
    for (i, label) in TRAILERS.iter().enumerate() {
        if let Some(pos) = normalized.find(label) {
            cut = cut.min(pos);
            let after = &normalized[pos + label.len()..];
            let end = TRAILERS
                .iter()
                .filter_map(|l| after.find(l))
                .min()
                .unwrap_or(after.len());
            let value = after[..end].trim();
            let value = if i == 2 {
                value
            } else {
                value.split_whitespace().next().unwrap_or("")
            };
            if !value.is_empty() {
                found[i] = Some(value.to_owned());
            }
        }
    }
    let message = normalized[..cut].trim().to_owned();
    let [trace_id, correlation_id, timestamp] = found;
    Description {
        codes: codes_in(&message),
        details: details_in(&message),
        message,
        trace_id,
        correlation_id,
        timestamp,
    }
}

/// Turns real and literal (`\r\n` written as text) line breaks and runs of
/// whitespace into single spaces.
fn normalize(text: &str) -> String {
    let unescaped = text
        .replace("\\r\\n", " ")
        .replace("\\n", " ")
        .replace("\\r", " ");
    unescaped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every `AADSTS` code in `text`, in order, without repeats.
pub fn codes_in(text: &str) -> Vec<u32> {
    prefixed_codes(text, "AADSTS")
}

/// The first Azure AD B2C code (`AADB2Cnnnnn`) in `text`: B2C names its
/// errors this way instead of with AADSTS codes.
pub fn b2c_code(text: &str) -> Option<u32> {
    prefixed_codes(text, "AADB2C").first().copied()
}

/// Every number following `prefix` in `text`, in order, without repeats.
fn prefixed_codes(text: &str, prefix: &str) -> Vec<u32> {
    let mut codes = Vec::new();
    let mut rest = text;
    while let Some(pos) = find_ascii_ci(rest, prefix) {
        rest = &rest[pos + prefix.len()..];
        let digits: &str = &rest[..rest.bytes().take_while(u8::is_ascii_digit).count()];
        if let Ok(code) = digits.parse::<u32>()
            && !codes.contains(&code)
        {
            codes.push(code);
        }
    }
    codes
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The whitespace-delimited word right after `marker`, without quotes or
/// closing punctuation.
fn word_after<'t>(text: &'t str, marker: &str) -> Option<&'t str> {
    let pos = text.find(marker)?;
    let word = text[pos + marker.len()..].split_whitespace().next()?;
    let word = word
        .trim_matches(|c| c == '\'' || c == '"')
        .trim_end_matches(['.', ',', ';', '\'', '"']);
    (!word.is_empty()).then_some(word)
}

fn details_in(message: &str) -> Details {
    let issued = word_after(message, "issued on ").map(|w| {
        // The date may be followed by a time in another word ("11/13/2023 4:38:42 PM");
        // keep only what reads as one instant.
        w.to_owned()
    });
    let valid_from = message.find("TokensValidFrom").and_then(|pos| {
        let after = &message[pos..];
        after
            .split_whitespace()
            .map(|w| {
                w.trim_matches(|c| c == '\'' || c == '"')
                    .trim_end_matches(['.', ',', '\''])
            })
            .find(|w| parse_iso_instant(w).is_some())
            .map(str::to_owned)
    });
    let lifetime = word_after(message, "lifetime for this request is ")
        .and_then(|w| w.parse::<u64>().ok().or_else(|| parse_span(w)));
    let spa = word_after(message, "limited lifetime of ").and_then(parse_span);
    Details {
        issued_at: issued.as_deref().and_then(parse_iso_instant),
        issued_at_text: issued,
        idle_seconds: word_after(message, "inactive for ").and_then(parse_span),
        lifetime_seconds: lifetime,
        spa_lifetime_seconds: spa,
        tokens_valid_from: valid_from.as_deref().and_then(parse_iso_instant),
        tokens_valid_from_text: valid_from,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: &str = "AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2024-01-02T03:04:05.6789012Z and was inactive for 90.00:00:00.\r\nTrace ID: 11111111-2222-3333-4444-555555555555\r\nCorrelation ID: 66666666-7777-8888-9999-000000000000\r\nTimestamp: 2024-04-01 10:11:12Z";

    #[test]
    fn crlf_trailers_are_split_off() {
        let d = parse(IDLE);
        assert_eq!(d.codes, vec![700082]);
        assert!(
            d.message.ends_with("inactive for 90.00:00:00."),
            "{}",
            d.message
        );
        assert_eq!(
            d.trace_id.as_deref(),
            Some("11111111-2222-3333-4444-555555555555")
        );
        assert_eq!(
            d.correlation_id.as_deref(),
            Some("66666666-7777-8888-9999-000000000000")
        );
        assert_eq!(d.timestamp.as_deref(), Some("2024-04-01 10:11:12Z"));
        assert_eq!(d.details.idle_seconds, Some(90 * 86_400));
        assert_eq!(
            d.details.issued_at_text.as_deref(),
            Some("2024-01-02T03:04:05.6789012Z")
        );
        assert_eq!(
            d.details.issued_at,
            parse_iso_instant("2024-01-02T03:04:05Z")
        );
    }

    #[test]
    fn flattened_trailers_read_the_same() {
        let expected = parse(IDLE);
        for flattened in [
            IDLE.replace("\r\n", "\n"),
            IDLE.replace("\r\n", " "),
            IDLE.replace("\r\n", "\\r\\n"),
            IDLE.replace("\r\n", "  \n "),
        ] {
            assert_eq!(parse(&flattened), expected, "{flattened}");
        }
    }

    #[test]
    fn sign_in_frequency_lifetime_in_seconds() {
        let d = parse(
            "AADSTS70043: The refresh token has expired or is invalid due to sign-in frequency checks by conditional access. The token was issued on 2024-05-01T08:00:00.0000000Z and the maximum allowed lifetime for this request is 43200.",
        );
        assert_eq!(d.details.lifetime_seconds, Some(43_200));
        assert!(d.details.issued_at.is_some());
    }

    #[test]
    fn spa_fixed_lifetime() {
        let d = parse(
            "AADSTS700084: The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page. The token was issued on 2024-06-01T12:00:00.0000000Z.",
        );
        assert_eq!(d.details.spa_lifetime_seconds, Some(86_400));
        assert_eq!(
            d.details.issued_at_text.as_deref(),
            Some("2024-06-01T12:00:00.0000000Z")
        );
    }

    #[test]
    fn revoked_tokens_valid_from() {
        let d = parse(
            "AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '2023-01-18T20:41:37.4650000Z' and the TokensValidFrom date (before which tokens are not valid) for this user is '2023-02-02T17:07:58.0000000Z'. Trace ID: a Correlation ID: b Timestamp: 2023-02-03 01:02:03Z",
        );
        assert_eq!(d.details.tokens_valid_from, Some(1_675_357_678));
        assert_eq!(
            d.details.issued_at_text.as_deref(),
            Some("2023-01-18T20:41:37.4650000Z")
        );
        assert_eq!(d.trace_id.as_deref(), Some("a"));
        assert_eq!(d.correlation_id.as_deref(), Some("b"));
    }

    #[test]
    fn several_codes_and_lowercase_prefix() {
        let d = parse(
            "AADSTS70002: Error validating credentials. aadsts54005: code already redeemed. AADSTS70002 again",
        );
        assert_eq!(d.codes, vec![70002, 54005]);
        assert!(d.details.is_empty());
    }

    #[test]
    fn plain_text_survives() {
        let d = parse("  something went wrong  ");
        assert_eq!(d.message, "something went wrong");
        assert!(d.codes.is_empty());
        assert_eq!(parse("Trace ID:").trace_id, None);
        assert_eq!(parse("AADSTS").codes, Vec::<u32>::new());
        assert_eq!(
            b2c_code("AADB2C90080: The provided grant has expired."),
            Some(90080)
        );
        assert_eq!(b2c_code("AADSTS70000: no B2C here"), None);
        assert_eq!(parse("AADSTS99999999999999").codes, Vec::<u32>::new());
    }
}
