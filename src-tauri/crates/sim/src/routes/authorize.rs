//! `GET`/`POST /{tenant}/oauth2/v2.0/authorize`: the sign-in page. A GET
//! checks the request and shows the first step (or, with auto-approve,
//! redirects at once); each POST applies one step. The flow ends with a
//! redirect carrying `code` and `state`, or an error.

use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::token::record;
use super::{At, BaseUrl};
use crate::clock::entra_timestamp;
use crate::log::LogEntry;
use crate::page;
use crate::signin::{self, Flow, Outcome, RedirectError, Step};
use crate::state::{SimState, World};

/// Flows older than this are forgotten.
const FLOW_TTL: Duration = Duration::from_secs(3_600);

fn entry(method: &str, flow: Option<&Flow>) -> LogEntry {
    LogEntry {
        user: flow.and_then(|f| f.upn.clone()),
        client_id: flow.map(|f| f.request.client_id.clone()),
        claims_passed: flow.is_some_and(|f| f.request.has_claims_challenge()),
        client_capabilities: flow
            .and_then(|f| f.request.claims.as_deref())
            .and_then(|c| reconnect_core::claims::Challenge::parse(c).ok())
            .map(|c| c.capabilities())
            .unwrap_or_default(),
        mfa: flow.map(|f| f.mfa_done),
        ..LogEntry::request("authorize", method)
    }
}

fn no_store(status: StatusCode, html: String) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

/// Builds the redirect (or form_post page) back to the client.
fn finish(world: &World, flow: &Flow, outcome: &Outcome, base: &str) -> Response {
    let mut fields: Vec<(&str, String)> = Vec::new();
    match outcome {
        Outcome::Code(code) => fields.push(("code", code.clone())),
        Outcome::Error(e) => {
            fields.push(("error", e.error.to_owned()));
            if let Some(sub) = e.subcode {
                fields.push(("error_subcode", sub.to_owned()));
            }
            if let (Some(code), Some(text)) = (e.code, &e.description) {
                let now = world.clock.now();
                let trace = uuid::Uuid::new_v4();
                let corr = uuid::Uuid::new_v4();
                fields.push((
                    "error_description",
                    format!("AADSTS{code}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\nTimestamp: {}", entra_timestamp(now)),
                ));
                fields.push(("error_uri", crate::failure::error_uri(base, code)));
            }
        }
        Outcome::Show(..) | Outcome::Page(_) => {}
    }
    if let Some(state) = &flow.request.state {
        fields.push(("state", state.clone()));
    }
    if flow.request.response_mode == "form_post" {
        return no_store(
            StatusCode::OK,
            page::form_post(&flow.request.redirect_uri, &fields),
        );
    }
    let encoded: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let base = &flow.request.redirect_uri;
    let location = if flow.request.response_mode == "fragment" {
        format!("{}#{encoded}", base.split('#').next().unwrap_or(base))
    } else if base.contains('?') {
        format!("{base}&{encoded}")
    } else {
        format!("{base}?{encoded}")
    };
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response()
}

/// Turns an outcome into a response and a log entry.
fn respond(
    world: &mut World,
    flow_id: &str,
    mut flow: Flow,
    outcome: Outcome,
    method: &str,
    base: &str,
) -> (Response, LogEntry) {
    if let Outcome::Show(step, _) = &outcome {
        flow.step = *step;
    }
    let mut log = entry(method, Some(&flow));
    let response = match &outcome {
        Outcome::Show(_, message) => {
            let users: Vec<String> = world.users.values().map(|u| u.upn.clone()).collect();
            let html = page::render(flow_id, &flow, &users, message.as_deref());
            world.flows.insert(flow_id.to_owned(), flow);
            no_store(StatusCode::OK, html)
        }
        Outcome::Page(page) => {
            log.code = Some(page.code);
            world.flows.remove(flow_id);
            no_store(
                StatusCode::BAD_REQUEST,
                page::error_page(page.code, &page.text),
            )
        }
        Outcome::Code(_) | Outcome::Error(_) => {
            if let Outcome::Error(RedirectError { error, code, .. }) = &outcome {
                log.error = Some((*error).to_owned());
                log.code = *code;
            }
            world.flows.remove(flow_id);
            finish(world, &flow, &outcome, base)
        }
    };
    log.status = response.status().as_u16();
    (response, log)
}

/// First request from the client's browser.
pub async fn start(
    State(state): State<SimState>,
    BaseUrl(base): BaseUrl,
    at: At,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    begin(&state, &query, "GET", &at, &base)
}

/// Checks an authorize request and shows its first step (or redirects at once).
fn begin(
    state: &SimState,
    query: &std::collections::HashMap<String, String>,
    method: &str,
    at: &At,
    base: &str,
) -> Response {
    let (response, log) = {
        let mut world = state.world();
        world.flows.retain(|_, f| f.created.elapsed() < FLOW_TTL);
        let parsed = at
            .segment()
            .map_err(signin::PageError::from)
            .and_then(|segment| signin::parse_request(query, &world, segment));
        match parsed {
            Err(e) => {
                let mut log = entry(method, None);
                log.client_id = query.get("client_id").cloned();
                log.code = Some(e.code);
                log.status = 400;
                (
                    no_store(StatusCode::BAD_REQUEST, page::error_page(e.code, &e.text)),
                    log,
                )
            }
            Ok(parsed) => {
                let (request, early) = match parsed {
                    Ok(r) => (r, None),
                    Err((r, e)) => (r, Some(e)),
                };
                let mut flow = Flow {
                    request,
                    step: Step::User,
                    upn: None,
                    mfa_done: false,
                    created: Instant::now(),
                };
                let flow_id = uuid::Uuid::new_v4().to_string();
                let auto = world.auto_approve.clone().filter(|auto| {
                    flow.request
                        .login_hint
                        .as_deref()
                        .is_none_or(|hint| hint.eq_ignore_ascii_case(auto))
                });
                let outcome = match (early, auto) {
                    (Some(e), _) => Outcome::Error(e),
                    (None, Some(upn)) => signin::auto_approve(&mut world, &mut flow, &upn),
                    (None, None) => signin::first_step(&world, &mut flow),
                };
                respond(&mut world, &flow_id, flow, outcome, method, base)
            }
        }
    };
    record(state, log);
    response
}

/// A form post from one of the page's steps, or an authorize request sent
/// as a POST (no `flow` field, but a `client_id`).
pub async fn step(
    State(state): State<SimState>,
    BaseUrl(base): BaseUrl,
    at: At,
    body: axum::body::Bytes,
) -> Response {
    let form = super::form(&body);
    if !form.contains_key("flow") && form.contains_key("client_id") {
        return begin(&state, &form, "POST", &at, &base);
    }
    let flow_id = form.get("flow").cloned().unwrap_or_default();
    let (response, log) = {
        let mut world = state.world();
        match world.flows.get(&flow_id).cloned() {
            None => {
                let mut log = entry("POST", None);
                log.status = 400;
                let html = page::error_page(
                    50058,
                    "This sign-in page has expired or is unknown. Start signing in again from the app.",
                );
                (no_store(StatusCode::BAD_REQUEST, html), log)
            }
            Some(mut flow) => {
                let outcome = signin::advance(&mut world, &mut flow, &form);
                respond(&mut world, &flow_id, flow, outcome, "POST", &base)
            }
        }
    };
    record(&state, log);
    response
}
