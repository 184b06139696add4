//! The virtual clock: real time plus an offset a test can push forward, so
//! "91 days later" takes a millisecond.

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::macros::format_description;

/// Real time shifted by an offset the simulator controls.
#[derive(Debug, Clone, Copy, Default)]
pub struct VirtualClock {
    offset_seconds: i64,
}

impl VirtualClock {
    /// Virtual "now" in Unix seconds.
    pub fn now(&self) -> i64 {
        real_now().saturating_add(self.offset_seconds)
    }

    /// How far the clock has been pushed ahead of real time.
    pub fn offset_seconds(&self) -> i64 {
        self.offset_seconds
    }

    /// Moves the clock forward (negative values are refused by the caller).
    pub fn advance(&mut self, seconds: i64) {
        self.offset_seconds = self.offset_seconds.saturating_add(seconds);
    }
}

fn real_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn datetime(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `yyyy-MM-dd HH:mm:ssZ`, the shape of Entra's `timestamp` field.
pub fn entra_timestamp(unix: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    datetime(unix).format(fmt).unwrap_or_default()
}

/// `yyyy-MM-ddTHH:mm:ss.0000000Z`, the shape Entra uses for dates inside descriptions.
pub fn entra_instant(unix: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].0000000Z");
    datetime(unix).format(fmt).unwrap_or_default()
}

/// RFC 3339 (`2026-01-02T03:04:05Z`), used in the request log.
pub fn rfc3339(unix: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    datetime(unix).format(fmt).unwrap_or_default()
}

/// A .NET-style time span `d.hh:mm:ss` (e.g. `90.00:00:00`), as Entra prints idle limits.
pub fn dotnet_span(seconds: i64) -> String {
    let s = seconds.max(0);
    format!(
        "{}.{:02}:{:02}:{:02}",
        s / 86_400,
        (s % 86_400) / 3_600,
        (s % 3_600) / 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_forward() {
        let mut clock = VirtualClock::default();
        let before = clock.now();
        clock.advance(91 * 86_400);
        assert!(clock.now() - before >= 91 * 86_400);
        assert_eq!(clock.offset_seconds(), 91 * 86_400);
    }

    #[test]
    fn formats_match_entra_shapes() {
        assert_eq!(entra_timestamp(1_700_000_000), "2023-11-14 22:13:20Z");
        assert_eq!(entra_instant(1_700_000_000), "2023-11-14T22:13:20.0000000Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(dotnet_span(90 * 86_400), "90.00:00:00");
        assert_eq!(dotnet_span(86_400 + 3_661), "1.01:01:01");
    }
}
