//! Failures by code over time, for the app's chart: recorded failures of
//! every account counted per code in buckets sized to the range (12 to 48
//! bars from an hour to 90 days), empty buckets included, with each code's total
//! and its name from the decoder's table.

use std::collections::BTreeMap;
use std::sync::Arc;

use reconnect_core::tokens::UnixTime;
use serde::Serialize;

use crate::engine::Engine;
use crate::error::EngineError;

/// The key of failures that carried no code (outages, network failures).
pub const NO_CODE: &str = "other";

/// Failures in one bucket, by code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bucket {
    /// Start of the bucket (Unix seconds).
    pub start: UnixTime,
    /// Code (`AADSTS50173`, or [`NO_CODE`]) → failures.
    pub counts: BTreeMap<String, u32>,
}

/// One code's failures over the whole range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeTotal {
    /// `AADSTS50173`, or [`NO_CODE`].
    pub key: String,
    /// The code's name in the decoder's table.
    pub title: String,
    /// Failures in range.
    pub total: u32,
}

/// The chart's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureChart {
    /// Bucket width in seconds.
    pub bucket_seconds: i64,
    /// Every bucket in range, oldest first.
    pub buckets: Vec<Bucket>,
    /// The codes that occur, most frequent first.
    pub codes: Vec<CodeTotal>,
}

/// Bucket widths, narrowest first.
const WIDTHS: [i64; 9] = [
    300,
    900,
    1_800,
    3_600,
    3 * 3_600,
    6 * 3_600,
    12 * 3_600,
    86_400,
    2 * 86_400,
];

/// The narrowest width that gives at most 48 bars (an hour gives 12).
fn bucket_seconds(hours: i64) -> i64 {
    WIDTHS
        .into_iter()
        .find(|w| hours * 3_600 / w <= 48)
        .unwrap_or(WIDTHS[WIDTHS.len() - 1])
}

fn title(key: &str) -> String {
    key.strip_prefix("AADSTS")
        .and_then(|n| n.parse::<u32>().ok())
        .and_then(reconnect_core::decode::lookup)
        .map_or_else(
            || "no code (outage or network)".into(),
            |i| i.name.to_owned(),
        )
}

impl Engine {
    /// Failures of the last `hours` hours (1 to 90 days' worth).
    pub async fn failure_chart(&self, hours: i64) -> Result<FailureChart, EngineError> {
        let hours = hours.clamp(1, 24 * 90);
        let width = bucket_seconds(hours);
        let now = self.now();
        let first = (now - hours * 3_600) / width * width;
        let store = Arc::clone(&self.inner.store);
        let rows =
            tokio::task::spawn_blocking(move || store.failures_by_code(first, width)).await??;
        let mut buckets: Vec<Bucket> = (0..)
            .map(|i| first + i * width)
            .take_while(|start| *start <= now)
            .map(|start| Bucket {
                start,
                counts: BTreeMap::new(),
            })
            .collect();
        let mut totals: BTreeMap<String, u32> = BTreeMap::new();
        for row in rows {
            let key = row.code.unwrap_or_else(|| NO_CODE.into());
            let index = usize::try_from((row.bucket_start - first) / width).unwrap_or(usize::MAX);
            if let Some(bucket) = buckets.get_mut(index) {
                *bucket.counts.entry(key.clone()).or_default() += row.count;
                *totals.entry(key).or_default() += row.count;
            }
        }
        let mut codes: Vec<CodeTotal> = totals
            .into_iter()
            .map(|(key, total)| CodeTotal {
                title: title(&key),
                key,
                total,
            })
            .collect();
        codes.sort_by(|a, b| b.total.cmp(&a.total).then(a.key.cmp(&b.key)));
        Ok(FailureChart {
            bucket_seconds: width,
            buckets,
            codes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_stay_between_about_24_and_48() {
        for hours in [1, 2, 3, 24, 48, 49, 24 * 7, 24 * 15, 24 * 30, 24 * 90] {
            let bars = hours * 3_600 / bucket_seconds(hours);
            assert!((12..=48).contains(&bars), "{hours} h → {bars} bars");
        }
    }

    #[test]
    fn codes_are_named_from_the_table() {
        assert!(title("AADSTS50173").to_lowercase().contains("revoked"));
        assert_eq!(title(NO_CODE), "no code (outage or network)");
    }
}
