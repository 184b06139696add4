//! Serving the loopback listener's connections: the per-connection limits
//! (hyper's header read timeout and head size, a lifetime cap, a concurrency
//! cap, a total request cap) and the request handling (exact path, matching
//! `state`, accepted once, redirect to the bare URL, the result page).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, header};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::{Callback, Limits, LoopbackError};
use crate::page::Page;

/// State shared by the connections of one listener.
pub(super) struct Shared {
    pub(super) path: String,
    pub(super) state: String,
    pub(super) limits: Limits,
    pub(super) callback: Mutex<Option<oneshot::Sender<Callback>>>,
    pub(super) accepted: AtomicBool,
    pub(super) requests: AtomicUsize,
    pub(super) fatal: Mutex<Option<oneshot::Sender<LoopbackError>>>,
    pub(super) page: watch::Receiver<Option<Page>>,
    pub(super) served: watch::Sender<bool>,
}

/// Accepts connections until shut down, serving each under the limits.
pub(super) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    slots: Arc<Semaphore>,
    shutdown: CancellationToken,
) {
    loop {
        let stream = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::debug!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let shared = shared.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let limits = shared.limits.clone();
            let svc_shared = shared.clone();
            let service = service_fn(move |req| {
                let shared = svc_shared.clone();
                async move { Ok::<_, Infallible>(handle(&shared, req).await) }
            });
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .max_buf_size(limits.max_header_bytes.max(8192))
                .keep_alive(false);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = conn => {}
                () = tokio::time::sleep(limits.connection_timeout) => {}
                () = shutdown.cancelled() => {}
            }
        });
    }
}

fn respond(page: &Page) -> Response<String> {
    let mut response = Response::new(page.html());
    *response.status_mut() = StatusCode::from_u16(page.status).unwrap_or(StatusCode::OK);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    h.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn handle(shared: &Shared, req: Request<Incoming>) -> Response<String> {
    let count = shared.requests.fetch_add(1, Ordering::SeqCst) + 1;
    if count > shared.limits.max_requests {
        if let Some(tx) = shared.fatal.lock().ok().and_then(|mut f| f.take()) {
            let _ = tx.send(LoopbackError::TooManyRequests(count - 1));
        }
        return respond(&Page::bad_request("Too many requests."));
    }
    if req.method() != hyper::Method::GET && req.method() != hyper::Method::HEAD {
        return respond(&Page {
            status: 405,
            ..Page::bad_request("Only GET is served here.")
        });
    }
    if req.uri().path() != shared.path {
        return respond(&Page::not_found());
    }
    let query: HashMap<String, String> = req
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    if query.is_empty() {
        return result_page(shared).await;
    }
    if query.get("state") != Some(&shared.state) {
        return respond(&Page::bad_request(
            "This answer does not belong to the sign-in Reconnect is waiting for.",
        ));
    }
    let Some(callback) = Callback::from_query(&query) else {
        return respond(&Page::bad_request(
            "The answer has neither a code nor an error.",
        ));
    };
    let sender = shared.callback.lock().ok().and_then(|mut c| c.take());
    let Some(sender) = sender else {
        return respond(&Page::bad_request(
            "This sign-in answer was already received.",
        ));
    };
    shared.accepted.store(true, Ordering::SeqCst);
    let _ = sender.send(callback);
    let mut response = Response::new(String::new());
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(location) = header::HeaderValue::from_str(&shared.path) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn result_page(shared: &Shared) -> Response<String> {
    if !shared.accepted.load(Ordering::SeqCst) {
        return respond(&Page::bad_request(
            "Reconnect is still waiting for the sign-in to finish in this browser.",
        ));
    }
    let mut page = shared.page.clone();
    let waited =
        tokio::time::timeout(shared.limits.result_wait, page.wait_for(Option::is_some)).await;
    let shown = match waited {
        Ok(Ok(p)) => p
            .clone()
            .unwrap_or_else(|| Page::failed("Sign-in ended", "")),
        _ => Page::failed(
            "Still working",
            "Reconnect did not finish in time; check the app for the result.",
        ),
    };
    let _ = shared.served.send(true);
    respond(&shown)
}
