//! The device authorization grant's endpoints: `POST
//! /{tenant}/oauth2/v2.0/devicecode` issues codes (logged as `devicecode`),
//! and `{base}/devicelogin` is the page where a person approves or declines
//! one. Polls go to the token endpoint (`token.rs`).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::token::answer;
use super::{At, BaseUrl, correlation_id, form};
use crate::SimError;
use crate::device::page::{self, PageAction};
use crate::device::{self, DeviceRequest, DeviceStatus};
use crate::grant::{missing, param};
use crate::log::LogEntry;
use crate::state::SimState;

/// `POST /{tenant}/oauth2/v2.0/devicecode`: form fields `client_id`,
/// `scope` and optionally `claims`.
pub async fn devicecode(
    State(state): State<SimState>,
    BaseUrl(base): BaseUrl,
    at: At,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let correlation = correlation_id(&headers);
    let params = form(&body);
    let client_id = param(&params, "client_id").map(str::to_owned);
    let scope = param(&params, "scope").map(str::to_owned);
    let claims = params.get("claims").is_some_and(|c| !c.trim().is_empty());
    let mut entry = LogEntry {
        client_id: client_id.clone(),
        claims_passed: claims,
        client_request_id: super::client_request_id(&headers),
        ..LogEntry::request("devicecode", "POST")
    };
    let (issued, now) = {
        let mut world = state.world();
        let issued = match (client_id, scope) {
            (None, _) => Err(missing("client_id")),
            (_, None) => Err(missing("scope")),
            (Some(client_id), Some(scope)) => at
                .segment()
                .and_then(|segment| crate::admission::app_at(&world, segment, &client_id))
                .and_then(|_| crate::admission::one_resource(&scope))
                .map(|()| {
                    let request = DeviceRequest {
                        client_id,
                        scope,
                        tenant: at.tenant.clone(),
                        claims,
                    };
                    device::issue(&mut world, request, &base)
                }),
        };
        (issued, world.clock.now())
    };
    if let Ok(issued) = &issued {
        entry.user_code = Some(issued.user_code.clone());
        entry.interval = Some(issued.interval);
    }
    answer(&state, entry, issued, now, &correlation, &base)
}

fn html(status: StatusCode, body: String) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], Html(body)).into_response()
}

fn user_names(state: &SimState) -> Vec<String> {
    state.users().into_iter().map(|u| u.upn).collect()
}

/// `GET /devicelogin[?code=…]`: the form, the code pre-filled when given.
pub async fn login_page(
    State(state): State<SimState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let code = query.get("code").map_or("", String::as_str);
    html(
        StatusCode::OK,
        page::form(code, &user_names(&state), None, None),
    )
}

/// `POST /devicelogin`: `user_code`, `upn`, `action=approve|decline`.
pub async fn login_submit(State(state): State<SimState>, body: axum::body::Bytes) -> Response {
    let params = form(&body);
    let user_code = params.get("user_code").map_or("", String::as_str);
    let upn = params.get("upn").map_or("", String::as_str);
    let action = params.get("action").and_then(|a| PageAction::parse(a));
    let outcome = match action {
        Some(PageAction::Approve) => state.approve_device_code(user_code, upn, None),
        Some(PageAction::Decline) => state.decline_device_code(user_code),
        None => Err(SimError::Invalid("choose Approve or Decline".into())),
    };
    match outcome {
        Ok(info) => {
            let who = (info.status == DeviceStatus::Approved)
                .then_some(info.upn.as_deref())
                .flatten();
            html(
                StatusCode::OK,
                page::done(&info.user_code, info.status, who),
            )
        }
        Err(err) => {
            let status = match err {
                SimError::NotFound(_) => StatusCode::NOT_FOUND,
                SimError::Conflict(_) => StatusCode::CONFLICT,
                _ => StatusCode::BAD_REQUEST,
            };
            let users = user_names(&state);
            let text = err.to_string();
            html(
                status,
                page::form(user_code, &users, Some(upn), Some(&text)),
            )
        }
    }
}
