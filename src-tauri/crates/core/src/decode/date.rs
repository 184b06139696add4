//! Small, hand-written readers for the time formats the decoder meets:
//! ISO-8601 instants in descriptions (`2024-03-01T10:00:00.1234567Z`),
//! .NET time spans (`90.00:00:00`), and `Retry-After` header values
//! (delta seconds or an HTTP date such as `Wed, 21 Oct 2015 07:28:00 GMT`).
//!
//! Everything is a pure function; callers pass "now". Unparseable input gives
//! `None`, never a panic.

use crate::tokens::UnixTime;

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn unix_from_parts(year: i64, month: u32, day: u32, h: u32, m: u32, s: u32) -> Option<UnixTime> {
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && h < 24
        && m < 60
        && s <= 60
        && (1..=9999).contains(&year);
    valid.then(|| {
        days_from_civil(year, month, day) * 86_400
            + i64::from(h) * 3_600
            + i64::from(m) * 60
            + i64::from(s)
    })
}

fn number<T: std::str::FromStr>(text: &str, len: usize) -> Option<T> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// Reads an ISO-8601 UTC instant: `YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z]`.
/// Quotes and a trailing full stop around it are ignored. The fraction is
/// dropped; a missing `Z` is read as UTC, which is what Entra writes.
pub fn parse_iso_instant(text: &str) -> Option<UnixTime> {
    let t = text
        .trim()
        .trim_matches(|c| c == '\'' || c == '"' || c == '.');
    let t = t
        .strip_suffix('Z')
        .or_else(|| t.strip_suffix('z'))
        .unwrap_or(t);
    let date = t.get(..10)?;
    let sep = t.get(10..11)?;
    let time = t.get(11..)?;
    if sep != "T" && sep != "t" && sep != " " {
        return None;
    }
    let (hms, fraction) = match time.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (time, None),
    };
    if fraction.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let mut d = date.split('-');
    let year: i64 = number(d.next()?, 4)?;
    let month: u32 = number(d.next()?, 2)?;
    let day: u32 = number(d.next()?, 2)?;
    let mut c = hms.split(':');
    let h: u32 = number(c.next()?, 2)?;
    let m: u32 = number(c.next()?, 2)?;
    let s: u32 = number(c.next()?, 2)?;
    if d.next().is_some() || c.next().is_some() {
        return None;
    }
    unix_from_parts(year, month, day, h, m, s)
}

/// Reads an HTTP date in the IMF-fixdate form (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_http_date(text: &str) -> Option<UnixTime> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let rest = text.trim().split_once(", ").map(|(_, r)| r)?;
    let parts: Vec<&str> = rest.split_ascii_whitespace().collect();
    let [day, month, year, time, zone] = parts.as_slice() else {
        return None;
    };
    if *zone != "GMT" && *zone != "UTC" {
        return None;
    }
    let day: u32 = number(day, 2).or_else(|| number(day, 1))?;
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as u32 + 1;
    let year: i64 = number(year, 4)?;
    let mut c = time.split(':');
    let h: u32 = number(c.next()?, 2)?;
    let m: u32 = number(c.next()?, 2)?;
    let s: u32 = number(c.next()?, 2)?;
    unix_from_parts(year, month, day, h, m, s)
}

/// Reads a .NET time span: `[-][D.]HH:MM:SS[.fraction]` (e.g. `90.00:00:00`,
/// `1.00:00:00`, `12:30:00`) as whole seconds. Negative spans are rejected.
pub fn parse_span(text: &str) -> Option<u64> {
    let t = text
        .trim()
        .trim_matches(|c| c == '\'' || c == '"')
        .trim_end_matches(['.', ',']);
    let (days, clock) = match t.split_once(':') {
        Some((head, _)) if head.contains('.') => {
            let (d, _) = head.split_once('.')?;
            (d.parse::<u64>().ok()?, t.get(d.len() + 1..)?)
        }
        _ => (0, t),
    };
    let clock = clock.split_once('.').map_or(clock, |(c, _)| c);
    let mut parts = clock.split(':');
    let h: u64 = number(parts.next()?, 2)?;
    let m: u64 = number(parts.next()?, 2)?;
    let s: u64 = number(parts.next()?, 2)?;
    if parts.next().is_some() || h >= 24 || m >= 60 || s >= 60 {
        return None;
    }
    days.checked_mul(86_400)?
        .checked_add(h * 3_600 + m * 60 + s)
}

/// Reads a `Retry-After` value at `now`: delta seconds, or an HTTP date
/// (a date in the past means "now", i.e. 0 seconds).
pub fn parse_retry_after(value: &str, now: UnixTime) -> Option<u64> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse().ok().or(Some(u64::MAX));
    }
    let at = parse_http_date(v)?;
    Some(u64::try_from(at.saturating_sub(now)).unwrap_or(0))
}

/// The civil date and time of a Unix instant, written `YYYY-MM-DD HH:MM UTC`.
pub fn format_utc(at: UnixTime) -> String {
    let days = at.div_euclid(86_400);
    let secs = at.rem_euclid(86_400);
    // Inverse of `days_from_civil` (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs / 3_600,
        secs % 3_600 / 60
    )
}

/// Writes a duration in words a person reads at a glance: "90 days",
/// "1 day", "12 hours", "45 minutes", "30 seconds".
pub fn describe_seconds(seconds: u64) -> String {
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match seconds {
        s if s >= 86_400 && s % 86_400 == 0 => plural(s / 86_400, "day"),
        s if s >= 86_400 => format!(
            "{} and {}",
            plural(s / 86_400, "day"),
            plural(s % 86_400 / 3_600, "hour")
        ),
        s if s >= 3_600 && s % 3_600 == 0 => plural(s / 3_600, "hour"),
        s if s >= 3_600 => format!(
            "{} and {}",
            plural(s / 3_600, "hour"),
            plural(s % 3_600 / 60, "minute")
        ),
        s if s >= 60 && s % 60 == 0 => plural(s / 60, "minute"),
        s => plural(s, "second"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_instants_as_entra_writes_them() {
        assert_eq!(parse_iso_instant("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_iso_instant("2024-02-29T12:00:00.4650000Z"),
            Some(1_709_208_000)
        );
        assert_eq!(
            parse_iso_instant("'2023-02-02T17:07:58.0000000Z'."),
            Some(1_675_357_678)
        );
        assert_eq!(
            parse_iso_instant("2016-01-09 02:02:12Z"),
            Some(1_452_304_932)
        );
        assert_eq!(parse_iso_instant("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_iso_instant("2024-01-01T00:00:00.Z"), None);
        assert_eq!(parse_iso_instant("yesterday"), None);
        assert_eq!(parse_iso_instant("2024-01-01Té0:00:00Z"), None);
    }

    #[test]
    fn http_dates_and_retry_after() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_retry_after("120", 0), Some(120));
        assert_eq!(parse_retry_after(" 0 ", 0), Some(0));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_700),
            Some(77)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_800),
            Some(0)
        );
        assert_eq!(parse_retry_after("-5", 0), None);
        assert_eq!(parse_retry_after("soon", 0), None);
        assert_eq!(
            parse_retry_after("99999999999999999999999", 0),
            Some(u64::MAX)
        );
    }

    #[test]
    fn dotnet_spans() {
        assert_eq!(parse_span("90.00:00:00"), Some(90 * 86_400));
        assert_eq!(parse_span("1.00:00:00."), Some(86_400));
        assert_eq!(parse_span("12:30:00"), Some(45_000));
        assert_eq!(parse_span("00:00:05.5000000"), Some(5));
        assert_eq!(parse_span("3.25:00:00"), None);
        assert_eq!(parse_span("-1.00:00:00"), None);
        assert_eq!(parse_span("ninety days"), None);
    }

    #[test]
    fn utc_formatting_inverts_parsing() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(1_709_208_000), "2024-02-29 12:00 UTC");
        assert_eq!(format_utc(1_675_357_678), "2023-02-02 17:07 UTC");
        assert_eq!(format_utc(-86_400), "1969-12-31 00:00 UTC");
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(describe_seconds(90 * 86_400), "90 days");
        assert_eq!(describe_seconds(86_400), "1 day");
        assert_eq!(describe_seconds(86_400 + 7_200), "1 day and 2 hours");
        assert_eq!(describe_seconds(3_600), "1 hour");
        assert_eq!(describe_seconds(5_400), "1 hour and 30 minutes");
        assert_eq!(describe_seconds(120), "2 minutes");
        assert_eq!(describe_seconds(1), "1 second");
    }
}
