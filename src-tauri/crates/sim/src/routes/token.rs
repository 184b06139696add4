//! `POST /{tenant}/oauth2/v2.0/token`: the authorization_code,
//! refresh_token and device_code grants, with queued outages and faults applied first and
//! every request logged (with whether its `claims` carried a challenge, and the
//! client capabilities it declared).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::outage::{OutageStep, serve_outage};
use super::{At, BaseUrl, client_request_id, correlation_id, form};
use crate::device;
use crate::failure::Failure;
use crate::grant::{self, Facts, TokenCall};
use crate::log::LogEntry;
use crate::mint::mint;
use crate::state::SimState;

/// The token endpoint.
pub async fn token(
    State(state): State<SimState>,
    BaseUrl(base): BaseUrl,
    at: At,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let correlation = correlation_id(&headers);
    let params = form(&body);
    let origin = headers.contains_key(axum::http::header::ORIGIN);
    let grant_type = params.get("grant_type").cloned().filter(|g| !g.is_empty());
    let client_id = params.get("client_id").cloned().filter(|c| !c.is_empty());
    let (claims_passed, client_capabilities) = read_claims(params.get("claims"));
    let mut entry = LogEntry {
        grant_type: grant_type.clone(),
        client_id,
        claims_passed,
        client_capabilities,
        client_request_id: client_request_id(&headers),
        ..LogEntry::request("token", "POST")
    };

    let (step, fault) = serve_outage(&state, &correlation, &base).await;
    entry.fault = fault.map(str::to_owned);
    if let OutageStep::Answered(response, name) = step {
        // A dropped connection never answered: logged with status 0.
        entry.status = if name == "drop" {
            0
        } else {
            response.status().as_u16()
        };
        if let Some(code) = response_code(&response) {
            entry.code = Some(code.0);
            entry.error = Some(code.1.to_owned());
        }
        record(&state, entry);
        return response;
    }

    let segment = match at.segment() {
        Ok(segment) => segment.clone(),
        Err(failure) => {
            return answer::<()>(
                &state,
                entry,
                Err(failure),
                state.now(),
                &correlation,
                &base,
            );
        }
    };
    let call = TokenCall {
        params,
        segment,
        base: base.clone(),
        origin,
    };
    let mut facts = Facts::default();
    let (decision, now) = {
        let mut world = state.world();
        let decision = match grant_type.as_deref() {
            Some("refresh_token") => grant::refresh(&mut world, state.keys(), &call, &mut facts),
            Some("authorization_code") => {
                crate::code_grant::authorization_code(&mut world, &call, &mut facts)
            }
            Some(device::GRANT_TYPE) => device::poll(&mut world, &call, &mut facts),
            other => Err(grant::unsupported(other)),
        };
        (decision, world.clock.now())
    };
    entry.user = facts.user;
    entry.mfa = facts.mfa;
    entry.user_code = facts.user_code;
    entry.interval = facts.interval;
    let minted =
        decision.and_then(|input| mint(state.keys(), &input).map_err(|_| Failure::code(90033)));
    answer(&state, entry, minted, now, &correlation, &base)
}

/// Answers as the identity endpoints do: the body as JSON that nobody may
/// cache, or the failure in Entra's shape; then logs `entry` with the
/// status and any error.
pub fn answer<T: serde::Serialize>(
    state: &SimState,
    mut entry: LogEntry,
    result: Result<T, Failure>,
    now: i64,
    correlation: &str,
    base: &str,
) -> Response {
    let response = match result {
        Ok(body) => (
            [
                (axum::http::header::CACHE_CONTROL, "no-store"),
                (axum::http::header::PRAGMA, "no-cache"),
            ],
            axum::Json(body),
        )
            .into_response(),
        Err(failure) => {
            entry.code = Some(failure.code);
            entry.error = Some(failure.error.clone());
            failure.response(now, correlation, base)
        }
    };
    entry.status = response.status().as_u16();
    record(state, entry);
    response
}

/// What the log says of a `claims` parameter: whether it carried a
/// challenge (anything beyond declared capabilities; text that is not a
/// challenge at all counts as one, as on the sign-in page), and the client
/// capabilities it declared.
fn read_claims(claims: Option<&String>) -> (bool, Vec<String>) {
    let Some(text) = claims.map(|c| c.trim()).filter(|c| !c.is_empty()) else {
        return (false, Vec::new());
    };
    match reconnect_core::claims::Challenge::parse(text) {
        Ok(challenge) => (!challenge.demands().is_empty(), challenge.capabilities()),
        Err(_) => (true, Vec::new()),
    }
}

/// The code and error of an outage response, for the log.
fn response_code(response: &Response) -> Option<(u32, &'static str)> {
    match response.status().as_u16() {
        503 => Some((90033, "temporarily_unavailable")),
        429 => Some((90055, "temporarily_unavailable")),
        _ => None,
    }
}

/// Stamps an entry with virtual time and appends it to the log.
pub fn record(state: &SimState, entry: LogEntry) {
    let mut world = state.world();
    let now = world.clock.now();
    world.log.push_at(entry, now);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_tells_a_challenge_from_declared_capabilities() {
        let read = |text: &str| read_claims(Some(&text.to_owned()));
        assert_eq!(read_claims(None), (false, vec![]));
        assert_eq!(read(" "), (false, vec![]));
        assert_eq!(
            read(r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#),
            (false, vec!["cp1".to_owned()])
        );
        assert_eq!(
            read(
                r#"{"access_token":{"acrs":{"essential":true,"value":"c1"},"xms_cc":{"values":["cp1","cp2"]}}}"#
            ),
            (true, vec!["cp1".to_owned(), "cp2".to_owned()])
        );
        assert_eq!(read("not a challenge"), (true, vec![]));
    }
}
