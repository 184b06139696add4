//! The JSON control API under `/_sim/`: users, revocation, minted grants,
//! faults, the virtual clock, the request log, app registrations,
//! auto-approve, device codes and the tenant's device-code policy. Documented with curl examples in the crate README.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::BaseUrl;
use crate::SimError;
use crate::device::TenantPolicy;
use crate::faults::FaultRequest;
use crate::model::UserStatePatch;
use crate::registry::AppRegistration;
use crate::state::{GrantRequest, SimState};
use crate::wire::{
    AppList, AutoApprove, ClockAdvance, ClockReading, ControlRefusal, DeviceApproval,
    DeviceCodeList, FaultList, LogPage, NewUser, Revocation, UserInfo, UserList,
};

/// A control-API error: `{"error": "..."}` with a fitting status.
fn error(err: &SimError) -> Response {
    let status = match err {
        SimError::NotFound(_) => StatusCode::NOT_FOUND,
        SimError::Conflict(_) => StatusCode::CONFLICT,
        SimError::Invalid(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let refusal = ControlRefusal {
        error: err.to_string(),
    };
    (status, Json(refusal)).into_response()
}

/// Unwraps a JSON body or answers 400 with the reason.
fn body<T>(payload: Result<Json<T>, JsonRejection>) -> Result<T, SimError> {
    payload
        .map(|Json(v)| v)
        .map_err(|e| SimError::Invalid(format!("bad JSON body: {}", e.body_text())))
}

/// `POST /_sim/users`.
pub async fn create_user(
    State(state): State<SimState>,
    payload: Result<Json<NewUser>, JsonRejection>,
) -> Response {
    let new = match body(payload) {
        Ok(v) => v,
        Err(e) => return error(&e),
    };
    match state.add_user(&new.upn, new.password) {
        Ok(user) => (StatusCode::CREATED, Json(UserInfo::from(&user))).into_response(),
        Err(e) => error(&e),
    }
}

/// `GET /_sim/users`.
pub async fn list_users(State(state): State<SimState>) -> Response {
    let users = state.users().iter().map(UserInfo::from).collect();
    Json(UserList { users }).into_response()
}

/// `POST /_sim/users/{upn}/state`.
pub async fn user_state(
    State(state): State<SimState>,
    Path(upn): Path<String>,
    payload: Result<Json<UserStatePatch>, JsonRejection>,
) -> Response {
    let patch = match body(payload) {
        Ok(v) => v,
        Err(e) => return error(&e),
    };
    match state.set_user_state(&upn, &patch) {
        Ok(user) => Json(UserInfo::from(&user)).into_response(),
        Err(e) => error(&e),
    }
}

/// `POST /_sim/users/{upn}/revoke`.
pub async fn revoke(State(state): State<SimState>, Path(upn): Path<String>) -> Response {
    match state.revoke(&upn) {
        Ok(at) => Json(Revocation::new(&upn, at)).into_response(),
        Err(e) => error(&e),
    }
}

/// `POST /_sim/grants`.
pub async fn grants(
    State(state): State<SimState>,
    BaseUrl(base): BaseUrl,
    payload: Result<Json<GrantRequest>, JsonRejection>,
) -> Response {
    let request = match body(payload) {
        Ok(v) => v,
        Err(e) => return error(&e),
    };
    match state.mint_grant(&request, &base) {
        Ok(tokens) => Json(tokens).into_response(),
        Err(e) => error(&e),
    }
}

/// `POST /_sim/faults`.
pub async fn add_fault(
    State(state): State<SimState>,
    payload: Result<Json<FaultRequest>, JsonRejection>,
) -> Response {
    let request = match body(payload) {
        Ok(v) => v,
        Err(e) => return error(&e),
    };
    match state.add_fault(request) {
        Ok(fault) => (StatusCode::CREATED, Json(fault)).into_response(),
        Err(e) => error(&e),
    }
}

/// `GET /_sim/faults`.
pub async fn list_faults(State(state): State<SimState>) -> Response {
    Json(FaultList {
        faults: state.faults(),
    })
    .into_response()
}

/// `DELETE /_sim/faults`.
pub async fn clear_faults(State(state): State<SimState>) -> Response {
    state.clear_faults();
    StatusCode::NO_CONTENT.into_response()
}

fn clock_json(state: &SimState) -> Response {
    Json(ClockReading::new(state.now(), state.clock_offset())).into_response()
}

/// `POST /_sim/clock`.
pub async fn advance_clock(
    State(state): State<SimState>,
    payload: Result<Json<ClockAdvance>, JsonRejection>,
) -> Response {
    let advance = match body(payload) {
        Ok(v) => v,
        Err(e) => return error(&e),
    };
    match state.advance_clock(advance.advance_seconds) {
        Ok(_) => clock_json(&state),
        Err(e) => error(&e),
    }
}

/// `GET /_sim/clock`.
pub async fn read_clock(State(state): State<SimState>) -> Response {
    clock_json(&state)
}

/// `GET /_sim/log`.
pub async fn read_log(State(state): State<SimState>) -> Response {
    let dropped = state.world().log.dropped();
    Json(LogPage {
        requests: state.log(),
        dropped,
    })
    .into_response()
}

/// `DELETE /_sim/log`.
pub async fn clear_log(State(state): State<SimState>) -> Response {
    state.clear_log();
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_sim/apps`: registers an app (201) or replaces its registration (200).
pub async fn register_app(
    State(state): State<SimState>,
    payload: Result<Json<AppRegistration>, JsonRejection>,
) -> Response {
    let app = match body(payload) {
        Ok(v) => v,
        Err(e) => return error(&e),
    };
    match state.register_app(app.clone()) {
        Ok(true) => (StatusCode::CREATED, Json(app)).into_response(),
        Ok(false) => Json(app).into_response(),
        Err(e) => error(&e),
    }
}

/// `GET /_sim/apps`.
pub async fn list_apps(State(state): State<SimState>) -> Response {
    Json(AppList {
        apps: state.apps(),
        strict: state.is_strict(),
    })
    .into_response()
}

/// `GET /_sim/apps/{client_id}`.
pub async fn get_app(State(state): State<SimState>, Path(client_id): Path<String>) -> Response {
    match state.app(&client_id) {
        Some(app) => Json(app).into_response(),
        None => error(&SimError::NotFound(format!(
            "no app {client_id} is registered"
        ))),
    }
}

/// `DELETE /_sim/apps/{client_id}`.
pub async fn remove_app(State(state): State<SimState>, Path(client_id): Path<String>) -> Response {
    match state.remove_app(&client_id) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error(&e),
    }
}

/// `POST /_sim/auto-approve`: `{"upn": "..."}` or `{"upn": null}`.
pub async fn auto_approve(
    State(state): State<SimState>,
    payload: Result<Json<AutoApprove>, JsonRejection>,
) -> Response {
    let request = match body(payload) {
        Ok(v) => v,
        Err(e) => return error(&e),
    };
    if let Some(upn) = &request.upn
        && state.user(upn).is_none()
    {
        return error(&SimError::NotFound(format!("no user {upn}")));
    }
    state.set_auto_approve(request.upn.as_deref());
    Json(request).into_response()
}

/// `GET /_sim/devicecodes`.
pub async fn list_device_codes(State(state): State<SimState>) -> Response {
    Json(DeviceCodeList {
        device_codes: state.device_codes(),
    })
    .into_response()
}

/// `POST /_sim/devicecodes/{user_code}/approve`: `{"upn": "...", "mfa": bool?}`.
pub async fn approve_device_code(
    State(state): State<SimState>,
    Path(user_code): Path<String>,
    payload: Result<Json<DeviceApproval>, JsonRejection>,
) -> Response {
    let approval = match body(payload) {
        Ok(v) => v,
        Err(e) => return error(&e),
    };
    match state.approve_device_code(&user_code, &approval.upn, approval.mfa) {
        Ok(info) => Json(info).into_response(),
        Err(e) => error(&e),
    }
}

/// `POST /_sim/devicecodes/{user_code}/decline`.
pub async fn decline_device_code(
    State(state): State<SimState>,
    Path(user_code): Path<String>,
) -> Response {
    match state.decline_device_code(&user_code) {
        Ok(info) => Json(info).into_response(),
        Err(e) => error(&e),
    }
}

/// `GET /_sim/tenants/{tenant}/policy`.
pub async fn tenant_policy(State(state): State<SimState>, Path(tenant): Path<String>) -> Response {
    match state.tenant_policy(&tenant) {
        Ok(policy) => Json(policy).into_response(),
        Err(e) => error(&e),
    }
}

/// `POST /_sim/tenants/{tenant}/policy`: `{"block_device_code": bool}`.
pub async fn set_tenant_policy(
    State(state): State<SimState>,
    Path(tenant): Path<String>,
    payload: Result<Json<TenantPolicy>, JsonRejection>,
) -> Response {
    let policy = match body(payload) {
        Ok(v) => v,
        Err(e) => return error(&e),
    };
    match state.set_tenant_policy(&tenant, policy) {
        Ok(policy) => Json(policy).into_response(),
        Err(e) => error(&e),
    }
}
