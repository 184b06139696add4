//! The AADSTS code table: one row per code Microsoft's identity platform can
//! return, compiled in from `data/aadsts.tsv` and parsed once.
//!
//! The file is data, not code: tab-separated, one header line, `#` comment
//! lines and blank lines allowed, rows sorted by code. Columns:
//! `code name category who_acts reconnect_fixes transient user_message admin_message`.
//! Codes and meanings follow Microsoft's published reference; every message is
//! Reconnect's own wording. Tests in this module guard the file's shape.
//!
//! ```
//! use reconnect_core::decode::table::lookup;
//! let info = lookup(700082).expect("known code");
//! assert_eq!(info.who_acts.as_str(), "user");
//! ```

use std::sync::OnceLock;

use super::class::{Category, ReconnectFixes, WhoActs};

/// The raw table, as shipped.
pub const TABLE_TSV: &str = include_str!("../../data/aadsts.tsv");

/// The columns, in order, as the header line names them.
pub const COLUMNS: [&str; 8] = [
    "code",
    "name",
    "category",
    "who_acts",
    "reconnect_fixes",
    "transient",
    "user_message",
    "admin_message",
];

/// What Reconnect knows about one AADSTS code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    /// The number after `AADSTS`.
    pub code: u32,
    /// A short title, e.g. "Refresh token expired after inactivity".
    pub name: &'static str,
    /// The kind of failure.
    pub category: Category,
    /// Who has to act.
    pub who_acts: WhoActs,
    /// Whether an interactive reconnect fixes it.
    pub reconnect_fixes: ReconnectFixes,
    /// Whether waiting and retrying heals it.
    pub transient: bool,
    /// Plain words for the person whose connection broke.
    pub user_message: &'static str,
    /// What happened, and what an admin or developer should check.
    pub admin_message: &'static str,
}

impl CodeInfo {
    /// A server-style one-line description, `AADSTS{code}: {name}. {admin_message}`,
    /// as the simulator puts into `error_description`.
    pub fn description(&self) -> String {
        format!("AADSTS{}: {}. {}", self.code, self.name, self.admin_message)
    }
}

/// Why a line of the table could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// The first non-comment line is not the expected header.
    #[error("the header line does not list the expected columns")]
    BadHeader,
    /// A row has the wrong number of tab-separated fields.
    #[error("line {line}: expected {expected} tab-separated fields, found {found}")]
    FieldCount {
        /// 1-based line number.
        line: usize,
        /// Columns expected.
        expected: usize,
        /// Fields found.
        found: usize,
    },
    /// A field is empty or holds a value outside its vocabulary.
    #[error("line {line}: column `{column}` has an invalid value")]
    BadField {
        /// 1-based line number.
        line: usize,
        /// The column's name.
        column: &'static str,
    },
    /// Rows are not strictly increasing by code (unsorted or duplicated).
    #[error("line {line}: code {code} is out of order or repeated")]
    Order {
        /// 1-based line number.
        line: usize,
        /// The offending code.
        code: u32,
    },
}

/// Parses a table in the shipped format. Rows borrow from `text`, which is the compiled-in file or a literal.
pub fn parse(text: &'static str) -> Result<Vec<CodeInfo>, TableError> {
    let mut rows: Vec<CodeInfo> = Vec::new();
    let mut header_seen = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = raw.split('\t').collect();
        if !header_seen {
            if fields != COLUMNS {
                return Err(TableError::BadHeader);
            }
            header_seen = true;
            continue;
        }
        if fields.len() != COLUMNS.len() {
            return Err(TableError::FieldCount {
                line,
                expected: COLUMNS.len(),
                found: fields.len(),
            });
        }
        let bad = |column: &'static str| TableError::BadField { line, column };
        let text_field = |i: usize| {
            let value = fields[i].trim();
            if value.is_empty() {
                Err(bad(COLUMNS[i]))
            } else {
                Ok(value)
            }
        };
        let code: u32 = fields[0].trim().parse().map_err(|_| bad("code"))?;
        let row = CodeInfo {
            code,
            name: text_field(1)?,
            category: Category::parse(fields[2].trim())
                .filter(|c| c.in_table())
                .ok_or_else(|| bad("category"))?,
            who_acts: WhoActs::parse(fields[3].trim()).ok_or_else(|| bad("who_acts"))?,
            reconnect_fixes: ReconnectFixes::parse(fields[4].trim())
                .ok_or_else(|| bad("reconnect_fixes"))?,
            transient: match fields[5].trim() {
                "yes" => true,
                "no" => false,
                _ => return Err(bad("transient")),
            },
            user_message: text_field(6)?,
            admin_message: text_field(7)?,
        };
        if rows.last().is_some_and(|prev| prev.code >= code) {
            return Err(TableError::Order { line, code });
        }
        rows.push(row);
    }
    if header_seen {
        Ok(rows)
    } else {
        Err(TableError::BadHeader)
    }
}

/// Every row of the shipped table, sorted by code.
///
/// The table is parsed on first use. Should the shipped file ever fail to
/// parse (the tests below make sure it does not), this returns an empty
/// table and every code decodes as unknown rather than panicking.
pub fn rows() -> &'static [CodeInfo] {
    static ROWS: OnceLock<Vec<CodeInfo>> = OnceLock::new();
    ROWS.get_or_init(|| parse(TABLE_TSV).unwrap_or_default())
}

/// The table row for `code`, if Reconnect knows it.
pub fn lookup(code: u32) -> Option<&'static CodeInfo> {
    let rows = rows();
    rows.binary_search_by_key(&code, |r| r.code)
        .ok()
        .map(|i| &rows[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_table_parses() {
        let parsed = parse(TABLE_TSV);
        assert!(parsed.is_ok(), "aadsts.tsv does not parse: {parsed:?}");
        assert_eq!(rows().len(), parsed.map(|r| r.len()).unwrap_or(0));
    }

    #[test]
    fn table_is_sorted_and_unique() {
        let rows = rows();
        assert!(!rows.is_empty());
        for pair in rows.windows(2) {
            assert!(
                pair[0].code < pair[1].code,
                "{} then {}",
                pair[0].code,
                pair[1].code
            );
        }
    }

    #[test]
    fn every_field_is_set() {
        for row in rows() {
            assert!(row.code > 0);
            for (column, text) in [
                ("name", row.name),
                ("user_message", row.user_message),
                ("admin_message", row.admin_message),
            ] {
                assert!(
                    !text.trim().is_empty(),
                    "{} has an empty {column}",
                    row.code
                );
                assert!(!text.contains('\t'), "{} {column} holds a tab", row.code);
            }
            assert!(
                row.category.in_table(),
                "{} uses a non-table category",
                row.code
            );
        }
    }

    #[test]
    fn every_table_category_is_used() {
        for category in Category::ALL.into_iter().filter(|c| c.in_table()) {
            assert!(
                rows().iter().any(|r| r.category == category),
                "no row uses category {}",
                category.as_str()
            );
        }
        for who in WhoActs::ALL {
            assert!(
                rows().iter().any(|r| r.who_acts == who),
                "nobody row for {}",
                who.as_str()
            );
        }
    }

    #[test]
    fn transient_rows_ask_nobody_and_need_no_reconnect() {
        for row in rows().iter().filter(|r| r.transient) {
            assert_eq!(
                row.who_acts,
                WhoActs::Nobody,
                "transient {} names an actor",
                row.code
            );
            assert_ne!(row.reconnect_fixes, ReconnectFixes::Yes, "{}", row.code);
        }
    }

    #[test]
    fn covers_the_published_reference_and_more() {
        // Microsoft's reference lists about 350 codes; the table adds codes
        // seen in real responses that the page lacks.
        assert!(rows().len() >= 350, "only {} rows", rows().len());
        for extra in [9002326, 500121, 500341] {
            assert!(lookup(extra).is_some(), "{extra} missing");
        }
    }

    #[test]
    fn messages_are_sentences_and_names_are_titles() {
        for row in rows() {
            assert!(
                !row.name.ends_with('.'),
                "{} name ends with a full stop",
                row.code
            );
            for text in [row.user_message, row.admin_message] {
                assert!(text.ends_with(['.', '?', ')']), "{}: {text}", row.code);
            }
        }
    }

    #[test]
    fn the_cases_that_must_come_out_right() {
        use ReconnectFixes::{Maybe, No, Yes};
        use WhoActs::{Admin, Developer, User};
        let expect = [
            (70008, User, Yes),
            (700082, User, Yes),
            (700084, User, Yes),
            (70043, User, Yes),
            (50173, User, Yes),
            (50076, User, Yes),
            (50079, User, Yes),
            (50158, User, Yes),
            (53003, Admin, No),
            (50057, Admin, No),
            (65001, User, Yes),
            (70000, User, Maybe),
            (7000218, Developer, No),
            (9002326, Developer, No),
            (50011, Developer, No),
        ];
        for (code, who, fixes) in expect {
            let row = lookup(code).map(|r| (r.who_acts, r.reconnect_fixes, r.transient));
            assert_eq!(row, Some((who, fixes, false)), "{code}");
        }
        assert_eq!(lookup(65001).map(|r| r.category), Some(Category::Consent));
        assert!(lookup(700084).is_some_and(|r| r.admin_message.contains("single-page app")));
    }

    #[test]
    fn lookup_finds_known_codes_and_misses_unknown_ones() {
        let idle = lookup(700082).map(|r| (r.category, r.reconnect_fixes));
        assert_eq!(idle, Some((Category::Expired, ReconnectFixes::Yes)));
        assert_eq!(lookup(53003).map(|r| r.who_acts), Some(WhoActs::Admin));
        assert!(lookup(1).is_none());
        assert!(lookup(u32::MAX).is_none());
    }

    #[test]
    fn description_reads_like_a_server_message() {
        let text = lookup(70008).map(CodeInfo::description).unwrap_or_default();
        assert!(text.starts_with("AADSTS70008: "), "{text}");
    }

    #[test]
    fn parse_rejects_malformed_tables() {
        let header = "code\tname\tcategory\twho_acts\treconnect_fixes\ttransient\tuser_message\tadmin_message\n";
        let row = |code: &str, cat: &str| format!("{code}\tN\t{cat}\tuser\tyes\tno\tU\tA\n");
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        assert_eq!(parse("no header\n"), Err(TableError::BadHeader));
        assert_eq!(parse(""), Err(TableError::BadHeader));
        let unsorted = leak(format!(
            "{header}{}{}",
            row("2", "expired"),
            row("1", "expired")
        ));
        assert!(matches!(
            parse(unsorted),
            Err(TableError::Order { code: 1, .. })
        ));
        let dup = leak(format!(
            "{header}{}{}",
            row("2", "expired"),
            row("2", "expired")
        ));
        assert!(matches!(parse(dup), Err(TableError::Order { code: 2, .. })));
        let bad_cat = leak(format!("{header}{}", row("2", "network")));
        assert!(matches!(
            parse(bad_cat),
            Err(TableError::BadField {
                column: "category",
                ..
            })
        ));
        let short = leak(format!("{header}7\tN\texpired\n"));
        assert!(matches!(
            parse(short),
            Err(TableError::FieldCount { found: 3, .. })
        ));
        let empty = leak(format!("{header}7\t \texpired\tuser\tyes\tno\tU\tA\n"));
        assert!(matches!(
            parse(empty),
            Err(TableError::BadField { column: "name", .. })
        ));
        let ok = leak(format!("# comment\n\n{header}{}", row("9", "revoked")));
        assert_eq!(parse(ok).map(|r| r.len()), Ok(1));
    }
}
