//! Serving a queued outage instead of an answer: 503, 429 with `Retry-After`,
//! an HTML 500, a slow answer, or a dropped connection.

use std::time::Duration;

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::failure::Failure;
use crate::faults::{FaultKind, Outage};
use crate::state::SimState;

/// What to do about the next request.
#[derive(Debug)]
pub enum OutageStep {
    /// No outage: answer normally.
    None,
    /// Answered already (the outage response).
    Answered(Response, &'static str),
}

/// Takes one queued outage, if any, and serves it. `slow` sleeps and then lets the request through.
pub async fn serve_outage(
    state: &SimState,
    correlation_id: &str,
    base: &str,
) -> (OutageStep, Option<&'static str>) {
    let (kind, now) = {
        let mut world = state.world();
        if world.faults.is_empty() {
            return (OutageStep::None, None);
        }
        (world.faults.take_outage(), world.clock.now())
    };
    let Some(FaultKind::Outage {
        outage,
        retry_after,
        delay_ms,
    }) = kind
    else {
        return (OutageStep::None, None);
    };
    let response = match outage {
        Outage::Slow => {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            return (OutageStep::None, Some(outage.name()));
        }
        Outage::Unavailable => Failure::code(90033).response(now, correlation_id, base),
        Outage::Throttled => {
            let mut f = Failure::code(90055);
            f.retry_after = Some(retry_after);
            f.response(now, correlation_id, base)
        }
        Outage::Html500 => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!DOCTYPE html><html><head><title>Server Error</title></head><body><h1>500 - Internal server error.</h1><p>The simulator was asked to fail this request.</p></body></html>",
        )
            .into_response(),
        Outage::Drop => dropped_connection(),
    };
    (
        OutageStep::Answered(response, outage.name()),
        Some(outage.name()),
    )
}

/// A response whose body fails at once: the server closes the connection
/// without completing an answer, as a dropped connection looks to a client.
fn dropped_connection() -> Response {
    Response::new(Body::new(FailingBody))
}

/// A body that fails on its first poll.
#[derive(Debug)]
struct FailingBody;

/// The error a dropped connection's body reports inside the server.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped on purpose by the simulator")]
struct Dropped;

impl http_body::Body for FailingBody {
    type Data = axum::body::Bytes;
    type Error = Dropped;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(Some(Err(Dropped)))
    }
}
