//! "Copy diagnostics": a paste-ready block for a support ticket or an Entra
//! sign-in-log search. It holds what identifies the failure (codes, trace and
//! correlation ids, timestamps, client and tenant) and nothing secret; the
//! user's name is shortened so the block can be pasted into a public place.

use std::fmt::Write as _;

use reconnect_store::{Account, TokenFacts};

use crate::commands::detail::VerdictView;
use crate::views::AccountView;

/// `AADSTS70008` or `70008` → `70008`.
pub fn code_number(text: &str) -> Option<u32> {
    text.trim().trim_start_matches("AADSTS").parse().ok()
}

/// `adele.vance@contoso.com` → `a…e@contoso.com`.
pub fn redact_user(user: &str) -> String {
    let (local, domain) = user.split_once('@').unwrap_or((user, ""));
    let chars: Vec<char> = local.chars().collect();
    let short = match chars.as_slice() {
        [] => String::new(),
        [one] => format!("{one}…"),
        [first, .., last] => format!("{first}…{last}"),
    };
    if domain.is_empty() {
        short
    } else {
        format!("{short}@{domain}")
    }
}

fn utc(at: Option<i64>) -> String {
    at.map(reconnect_core::decode::date::format_utc)
        .unwrap_or_else(|| "unknown".into())
}

/// The diagnostics block for one failed account.
pub fn block(
    account: &Account,
    view: &AccountView,
    v: &VerdictView,
    facts: Option<&TokenFacts>,
) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: &str| {
        let _ = writeln!(out, "{label:<18}{value}");
    };
    line("Reconnect report", "(no tokens; user name shortened)");
    line("Account:", &account.name);
    line("Provider:", &view.provider_label);
    line("Authority:", &account.authority);
    if let Some(t) = &account.tenant {
        line("Tenant:", t);
    }
    if let Some(tid) = &account.identity.tid {
        line("Tenant id:", tid);
    }
    line("Client id:", &account.client_id);
    if let Some(user) = &view.user {
        line("User:", &redact_user(user));
    }
    line("Health:", view.health.as_str());
    let code = v
        .primary_code
        .map(|c| format!("AADSTS{c} "))
        .unwrap_or_default();
    line("Failure:", &format!("{code}{}", v.title));
    if let Some(e) = &v.error {
        let sub = v
            .suberror
            .as_deref()
            .map(|s| format!(" / {s}"))
            .unwrap_or_default();
        line("Error:", &format!("{e}{sub}"));
    }
    if v.codes.len() > 1 {
        let all: Vec<String> = v.codes.iter().map(|c| format!("AADSTS{c}")).collect();
        line("All codes:", &all.join(", "));
    }
    line("Who acts:", v.who_acts.as_str());
    line("Reconnect fixes:", v.reconnect_fixes.as_str());
    for (label, value) in [
        ("Trace id:", &v.trace_id),
        ("Correlation id:", &v.correlation_id),
        ("Server time:", &v.timestamp),
    ] {
        if let Some(value) = value {
            line(label, value);
        }
    }
    if let Some(f) = facts {
        line("Signed in:", &utc(f.refresh_issued_at));
        line("Last refresh ok:", &utc(f.refresh_last_used_at));
    }
    line("Scopes:", &account.scopes.join(" "));
    line("App:", concat!("Reconnect ", env!("CARGO_PKG_VERSION")));
    if let Some(c) = &v.correlation_id {
        let _ = writeln!(
            out,
            "\nEntra admin center > Sign-in logs: filter by Correlation ID {c} (date: {}).",
            v.timestamp.as_deref().unwrap_or("see above")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_shortened_but_keep_the_domain() {
        assert_eq!(redact_user("adele.vance@contoso.com"), "a…e@contoso.com");
        assert_eq!(redact_user("x@y.test"), "x…@y.test");
        assert_eq!(redact_user("nodomain"), "n…n");
    }

    #[test]
    fn codes_are_read_with_or_without_prefix() {
        assert_eq!(code_number("AADSTS70008"), Some(70008));
        assert_eq!(code_number("50173"), Some(50173));
        assert_eq!(code_number("invalid_grant"), None);
    }
}
