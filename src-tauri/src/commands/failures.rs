//! Failures by code over time (the chart) and spike alerts (the banner),
//! both from the engine.

use reconnect_engine::chart::{Bucket, CodeTotal};
use serde::Serialize;
use tauri::State;

use crate::backend::{AppState, Failure};
use crate::views::{SpikeView, spike_view};

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

/// Failures per code over the last `hours` hours (default 24).
#[tauri::command]
pub async fn failure_chart(
    state: State<'_, AppState>,
    hours: Option<i64>,
) -> Result<ChartView, Failure> {
    let backend = state.current().await?;
    let chart = backend.engine.failure_chart(hours.unwrap_or(24)).await?;
    let spikes = backend.engine.spikes().await?;
    Ok(ChartView {
        now: backend.now(),
        bucket_seconds: chart.bucket_seconds,
        buckets: chart.buckets,
        codes: chart.codes,
        spikes: spikes.into_iter().map(spike_view).collect(),
    })
}
