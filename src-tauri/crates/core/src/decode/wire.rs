//! How Entra's token endpoint puts an AADSTS code on the wire: the HTTP
//! status, the OAuth `error` and the `suberror` it pairs with each code.
//! The simulator answers with these, and the engine builds a tester's armed
//! failure from them, so both say what the real service says and what the
//! decoder reads.
//!
//! The pairings are data, compiled in from `data/token_endpoint.tsv`:
//! tab-separated, `#` comment lines, one header line, rows sorted by code,
//! columns `code status error suberror` (`-` for no suberror). A code the
//! file does not list gets Entra's usual answer: 400, `invalid_grant`, no
//! suberror. Tests in this module guard the file's shape.
//!
//! ```
//! use reconnect_core::decode::wire::shape_of;
//! let shape = shape_of(7000218);
//! assert_eq!((shape.status, shape.error), (401, "invalid_client"));
//! assert_eq!(shape_of(700082).error, "invalid_grant");
//! ```

use std::sync::OnceLock;

/// The raw pairings, as shipped.
pub const WIRE_TSV: &str = include_str!("../../data/token_endpoint.tsv");

/// How the token endpoint answers with one code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireShape {
    /// The HTTP status.
    pub status: u16,
    /// The OAuth `error` field.
    pub error: &'static str,
    /// The `suberror` field, when Entra sends one.
    pub suberror: Option<&'static str>,
}

/// The answer for codes the file does not list.
pub const USUAL: WireShape = WireShape {
    status: 400,
    error: "invalid_grant",
    suberror: None,
};

/// The statuses and `error` values the file may use.
const STATUSES: [u16; 4] = [400, 401, 429, 503];
const ERRORS: [&str; 6] = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "temporarily_unavailable",
];

/// How the token endpoint answers with `code`.
pub fn shape_of(code: u32) -> WireShape {
    let rows = rows();
    rows.binary_search_by_key(&code, |(c, _)| *c)
        .map_or(USUAL, |i| rows[i].1)
}

/// Every listed code with its shape, sorted by code. Should the shipped
/// file ever fail to parse (the tests make sure it does not), every code
/// gets the usual answer rather than a panic.
pub fn rows() -> &'static [(u32, WireShape)] {
    static ROWS: OnceLock<Vec<(u32, WireShape)>> = OnceLock::new();
    ROWS.get_or_init(|| parse(WIRE_TSV).unwrap_or_default())
}

/// Parses the file; the error names the first bad line.
fn parse(text: &'static str) -> Result<Vec<(u32, WireShape)>, String> {
    let mut rows: Vec<(u32, WireShape)> = Vec::new();
    let mut header = false;
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if !header {
            if line != "code\tstatus\terror\tsuberror" {
                return Err(format!("line {}: unexpected header {line:?}", n + 1));
            }
            header = true;
            continue;
        }
        let bad = |why: &str| format!("line {}: {why}: {line:?}", n + 1);
        let cols: Vec<&'static str> = line.split('\t').collect();
        let [code, status, error, suberror] = cols[..] else {
            return Err(bad("expected 4 columns"));
        };
        let code: u32 = code.parse().map_err(|_| bad("code"))?;
        let status: u16 = status.parse().map_err(|_| bad("status"))?;
        if !STATUSES.contains(&status) {
            return Err(bad("status"));
        }
        if !ERRORS.contains(&error) {
            return Err(bad("error"));
        }
        if rows.last().is_some_and(|(last, _)| *last >= code) {
            return Err(bad("rows must be sorted by code, without repeats"));
        }
        let suberror = (suberror != "-").then_some(suberror);
        rows.push((
            code,
            WireShape {
                status,
                error,
                suberror,
            },
        ));
    }
    if rows.is_empty() {
        return Err("no rows".to_owned());
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_parses_sorted_and_every_code_is_in_the_code_table() {
        let rows = parse(WIRE_TSV).expect("the shipped file parses");
        for (code, _) in &rows {
            assert!(
                super::super::table::lookup(*code).is_some(),
                "AADSTS{code} is paired on the wire but missing from aadsts.tsv"
            );
        }
    }

    #[test]
    fn statuses_agree_with_the_error_they_carry() {
        for (code, shape) in rows() {
            let fits = match shape.error {
                "invalid_client" => shape.status == 401,
                "temporarily_unavailable" => matches!(shape.status, 429 | 503),
                _ => shape.status == 400,
            };
            assert!(fits, "AADSTS{code}: {shape:?}");
        }
    }

    #[test]
    fn known_pairings_follow_entra_and_others_get_the_usual_answer() {
        assert_eq!(shape_of(7000218).status, 401);
        assert_eq!(shape_of(53003).suberror, Some("message_only"));
        assert_eq!(shape_of(50076).suberror, Some("basic_action"));
        assert_eq!(shape_of(70043).suberror, Some("token_expired"));
        assert_eq!(shape_of(65001).suberror, Some("consent_required"));
        assert_eq!(shape_of(90033).status, 503);
        // A client loop is refused as a grant error, not throttled (as Entra answers it).
        assert_eq!(shape_of(50196), USUAL);
        for client_error in [90007, 90027, 9002326, 9002327, 28000] {
            let shape = shape_of(client_error);
            assert_eq!(
                (shape.status, shape.error),
                (400, "invalid_request"),
                "{client_error}"
            );
        }
        assert_eq!(shape_of(700082), USUAL);
        assert_eq!(shape_of(1), USUAL);
    }

    #[test]
    fn a_broken_file_is_refused_with_its_line() {
        let unsorted = "code\tstatus\terror\tsuberror\n70043\t400\tinvalid_grant\t-\n50076\t400\tinvalid_grant\t-\n";
        assert!(parse(unsorted).unwrap_err().contains("line 3"));
        let odd = "code\tstatus\terror\tsuberror\n70043\t418\tinvalid_grant\t-\n";
        assert!(parse(odd).unwrap_err().contains("status"));
        assert!(parse("# nothing\n").is_err());
    }
}
