//! Failures by code over time (the chart) and spike alerts (the banner).

use std::collections::BTreeMap;

use reconnect_core::decode;
use reconnect_core::spike::{self, FailureSample, SpikeConfig, SpikeKey};
use reconnect_store::EventQuery;
use serde::Serialize;
use tauri::State;

use crate::backend::{AppState, Backend, Failure};
use crate::diagnostics::code_number;
use crate::views::SpikeView;

/// The chart's data.
#[derive(Debug, Clone, Serialize)]
pub struct ChartView {
    /// The backend's "now".
    pub now: i64,
    /// Bucket width in seconds.
    pub bucket_seconds: i64,
    /// Every bucket in range, oldest first (empty ones included).
    pub buckets: Vec<Bucket>,
    /// The codes that occur, most frequent first.
    pub codes: Vec<CodeTotal>,
    /// Active spikes.
    pub spikes: Vec<SpikeView>,
}

/// Failures in one time bucket, by code label.
#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    /// Start of the bucket.
    pub start: i64,
    /// Code label → count.
    pub counts: BTreeMap<String, u32>,
}

/// One code's total in range.
#[derive(Debug, Clone, Serialize)]
pub struct CodeTotal {
    /// `AADSTS50173`, or the error when there was no code.
    pub key: String,
    /// The code's name from the table.
    pub title: String,
    /// Failures in range.
    pub total: u32,
}

fn title(key: &str) -> String {
    code_number(key)
        .and_then(decode::lookup)
        .map(|info| info.name.to_owned())
        .unwrap_or_else(|| "no code (outage or network)".into())
}

/// Active spike alerts of the open profile.
pub fn spikes(backend: &Backend) -> Result<Vec<SpikeView>, Failure> {
    let config = SpikeConfig::default();
    let now = backend.now();
    let events = backend.data.store().events(&EventQuery {
        since: Some(now - config.window),
        failures_only: true,
        limit: Some(2_000),
        ..EventQuery::default()
    })?;
    let samples: Vec<FailureSample> = events
        .into_iter()
        .filter_map(|e| {
            let e = e.event;
            let code = e.code.as_deref().and_then(code_number);
            Some(FailureSample {
                account: e.account_name?,
                code,
                category: e.category.unwrap_or_default(),
                at: e.at,
            })
        })
        .collect();
    Ok(spike::detect(&samples, &config, now)
        .into_iter()
        .map(|a| SpikeView {
            label: match &a.key {
                SpikeKey::Code(c) => format!("AADSTS{c}"),
                SpikeKey::Category(c) => c.as_str().replace('-', " "),
            },
            accounts: a.accounts,
            first_at: a.first_at,
            last_at: a.last_at,
            likely_cause: a.likely_cause,
        })
        .collect())
}

/// Failures per code over the last `hours` hours.
#[tauri::command]
pub async fn failure_chart(
    state: State<'_, AppState>,
    hours: Option<i64>,
) -> Result<ChartView, Failure> {
    let backend = state.current().await?;
    let hours = hours.unwrap_or(24).clamp(1, 24 * 90);
    // About 24–48 bars whatever the range.
    let bucket_seconds = if hours <= 2 {
        300
    } else if hours <= 48 {
        3_600
    } else if hours <= 24 * 14 {
        6 * 3_600
    } else {
        86_400
    };
    let now = backend.now();
    let first = (now - hours * 3_600) / bucket_seconds * bucket_seconds;
    let mut buckets: Vec<Bucket> = (0..)
        .map(|i| first + i * bucket_seconds)
        .take_while(|start| *start <= now)
        .map(|start| Bucket {
            start,
            counts: BTreeMap::new(),
        })
        .collect();
    let mut totals: BTreeMap<String, u32> = BTreeMap::new();
    for row in backend
        .data
        .store()
        .failures_by_code(first, bucket_seconds)?
    {
        let key = row.code.unwrap_or_else(|| "other".into());
        let index = ((row.bucket_start - first) / bucket_seconds) as usize;
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
    Ok(ChartView {
        now,
        bucket_seconds,
        buckets,
        codes,
        spikes: spikes(&backend)?,
    })
}
