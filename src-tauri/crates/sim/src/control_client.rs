//! [`ControlClient`]: the typed client of a running simulator's `/_sim/`
//! control API, over HTTP on loopback. `reconnect sim …` and the desktop
//! app's tester panel both drive the simulator through it; it reads and
//! writes the very types the server's handlers use ([`crate::wire`], the
//! model, the faults), so client and server cannot disagree on a body.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use url::{Host, Url};

use crate::breaks::{BreakError, BreakKind, BreakStep};
use crate::device::TenantPolicy;
use crate::faults::{Fault, FaultRequest};
use crate::model::UserStatePatch;
use crate::registry::AppRegistration;
use crate::wire::{
    AppList, AutoApprove, ClockAdvance, ClockReading, ControlRefusal, DeviceApproval,
    DeviceCodeInfo, DeviceCodeList, FaultList, LogPage, NewUser, Revocation, UserInfo, UserList,
};

/// How long connecting to the simulator may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one control call may take, answer included.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a control call failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The simulator's address does not parse.
    #[error("`{url}` is not a URL")]
    BadUrl {
        /// What was given.
        url: String,
        /// The parser's reason.
        #[source]
        source: url::ParseError,
    },
    /// The address parses but cannot be a simulator's.
    #[error("`{url}` cannot be the simulator's address: {reason}")]
    NotSimulatorUrl {
        /// What was given.
        url: String,
        /// Why not.
        reason: &'static str,
    },
    /// The HTTP client or a request could not be put together.
    #[error("could not prepare a request to the simulator")]
    Setup(#[source] reqwest::Error),
    /// Nothing answered (refused, reset, timed out).
    #[error("the simulator is not reachable at {url}")]
    Unreachable {
        /// The simulator's base URL.
        url: String,
        /// The transport's reason.
        #[source]
        source: reqwest::Error,
    },
    /// The simulator answered with an error status.
    #[error("the simulator answered {status}: {message}")]
    Refused {
        /// The HTTP status.
        status: StatusCode,
        /// The simulator's own message (`{"error": "…"}`), or a note that it gave none.
        message: String,
    },
    /// The answer broke off or is not the JSON the call expects.
    #[error("the simulator's answer to {call} could not be read")]
    Malformed {
        /// Method and path of the call.
        call: String,
        /// What went wrong.
        #[source]
        source: AnswerError,
    },
    /// The break asked for cannot be done.
    #[error(transparent)]
    Break(#[from] BreakError),
}

/// What was wrong with an answer.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// The body could not be read to its end.
    #[error("the body broke off")]
    Read(#[source] reqwest::Error),
    /// The body is not the JSON expected.
    #[error("the body is not the JSON expected")]
    Json(#[source] serde_json::Error),
}

/// A client of one simulator's control API. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ControlClient {
    base: Url,
    http: reqwest::Client,
}

impl ControlClient {
    /// A client of the simulator at `base_url` (`http://127.0.0.1:PORT`, as
    /// `reconnect sim serve` prints it). Loopback addresses only.
    pub fn new(base_url: &str) -> Result<Self, ControlError> {
        let base = simulator_url(base_url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("reconnect-sim-control/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ControlError::Setup)?;
        Ok(Self { base, http })
    }

    /// The simulator's base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// `GET /_sim/users`: every user.
    pub async fn users(&self) -> Result<UserList, ControlError> {
        self.json(self.call(Method::GET, &["users"])).await
    }

    /// `POST /_sim/users`: creates a user.
    pub async fn add_user(&self, user: &NewUser) -> Result<UserInfo, ControlError> {
        self.json(self.call(Method::POST, &["users"]).json(user))
            .await
    }

    /// `POST /_sim/users/{upn}/state`: changes a user's policies.
    pub async fn set_user_state(
        &self,
        upn: &str,
        patch: &UserStatePatch,
    ) -> Result<UserInfo, ControlError> {
        let call = self.call(Method::POST, &["users", upn, "state"]);
        self.json(call.json(patch)).await
    }

    /// `POST /_sim/users/{upn}/revoke`: the user's earlier tokens fail (50173).
    pub async fn revoke(&self, upn: &str) -> Result<Revocation, ControlError> {
        self.json(self.call(Method::POST, &["users", upn, "revoke"]))
            .await
    }

    /// Breaks `upn`'s grant the `kind` way (`code` for [`BreakKind::Code`]).
    /// Time-based breaks still need the clock moved by
    /// [`BreakKind::settle_seconds`]; that is the caller's, who may keep
    /// other clocks in step.
    pub async fn break_user(
        &self,
        upn: &str,
        kind: BreakKind,
        code: Option<u32>,
    ) -> Result<(), ControlError> {
        match kind.step(code)? {
            BreakStep::Patch(patch) => self.set_user_state(upn, &patch).await.map(drop),
            BreakStep::Revoke => self.revoke(upn).await.map(drop),
            BreakStep::Fault(code) => {
                let request = BreakStep::fault_request(code, upn);
                self.add_fault(&request).await.map(drop)
            }
        }
    }

    /// Puts `upn`'s policies back to a new user's and clears every queued
    /// fault (outages too). A revocation stays: that takes a new sign-in.
    pub async fn restore_user(&self, upn: &str) -> Result<UserInfo, ControlError> {
        let user = self
            .set_user_state(upn, &UserStatePatch::defaults())
            .await?;
        self.clear_faults().await?;
        Ok(user)
    }

    /// `POST /_sim/faults`: queues a code fault or an outage.
    pub async fn add_fault(&self, request: &FaultRequest) -> Result<Fault, ControlError> {
        self.json(self.call(Method::POST, &["faults"]).json(request))
            .await
    }

    /// `GET /_sim/faults`: the queue.
    pub async fn faults(&self) -> Result<FaultList, ControlError> {
        self.json(self.call(Method::GET, &["faults"])).await
    }

    /// `DELETE /_sim/faults`: empties the queue.
    pub async fn clear_faults(&self) -> Result<(), ControlError> {
        self.send(self.call(Method::DELETE, &["faults"]))
            .await
            .map(drop)
    }

    /// `GET /_sim/clock`: the virtual clock.
    pub async fn clock(&self) -> Result<ClockReading, ControlError> {
        self.json(self.call(Method::GET, &["clock"])).await
    }

    /// `POST /_sim/clock`: moves the virtual clock forward by `seconds`.
    pub async fn advance_clock(&self, seconds: i64) -> Result<ClockReading, ControlError> {
        let body = ClockAdvance {
            advance_seconds: seconds,
        };
        self.json(self.call(Method::POST, &["clock"]).json(&body))
            .await
    }

    /// `GET /_sim/log`: the request log.
    pub async fn log(&self) -> Result<LogPage, ControlError> {
        self.json(self.call(Method::GET, &["log"])).await
    }

    /// `DELETE /_sim/log`: empties the request log.
    pub async fn clear_log(&self) -> Result<(), ControlError> {
        self.send(self.call(Method::DELETE, &["log"]))
            .await
            .map(drop)
    }

    /// `GET /_sim/apps/{client_id}`: an app's registration (its secret is never shown).
    pub async fn app(&self, client_id: &str) -> Result<AppRegistration, ControlError> {
        self.json(self.call(Method::GET, &["apps", client_id]))
            .await
    }

    /// `GET /_sim/apps`: every registration, and whether the simulator is strict.
    pub async fn apps(&self) -> Result<AppList, ControlError> {
        self.json(self.call(Method::GET, &["apps"])).await
    }

    /// `POST /_sim/apps`: registers an app or replaces its registration
    /// (the secret, if any, goes with it).
    pub async fn register_app(
        &self,
        app: &AppRegistration,
    ) -> Result<AppRegistration, ControlError> {
        let mut body = serde_json::to_value(app).unwrap_or_default();
        if let (Some(secret), Some(fields)) = (&app.client_secret, body.as_object_mut()) {
            fields.insert("client_secret".into(), secret.clone().into());
        }
        self.json(self.call(Method::POST, &["apps"]).json(&body))
            .await
    }

    /// `DELETE /_sim/apps/{client_id}`: deletes a registration.
    pub async fn remove_app(&self, client_id: &str) -> Result<(), ControlError> {
        self.send(self.call(Method::DELETE, &["apps", client_id]))
            .await
            .map(drop)
    }

    /// `POST /_sim/auto-approve`: `/authorize` finishes without a page for
    /// `upn` (or for nobody).
    pub async fn set_auto_approve(&self, upn: Option<&str>) -> Result<AutoApprove, ControlError> {
        let body = AutoApprove {
            upn: upn.map(str::to_owned),
        };
        self.json(self.call(Method::POST, &["auto-approve"]).json(&body))
            .await
    }

    /// `GET /_sim/devicecodes`: every device code (without the device codes themselves).
    pub async fn device_codes(&self) -> Result<DeviceCodeList, ControlError> {
        self.json(self.call(Method::GET, &["devicecodes"])).await
    }

    /// `POST /_sim/devicecodes/{user_code}/approve`: approves a pending code
    /// for `upn` (404 for an unknown code or user; 409 when the code is no
    /// longer pending or the tenant's policy blocks the flow).
    pub async fn approve_device_code(
        &self,
        user_code: &str,
        upn: &str,
    ) -> Result<DeviceCodeInfo, ControlError> {
        let body = DeviceApproval {
            upn: upn.to_owned(),
            mfa: None,
        };
        let call = self.call(Method::POST, &["devicecodes", user_code, "approve"]);
        self.json(call.json(&body)).await
    }

    /// `POST /_sim/devicecodes/{user_code}/decline`: declines a pending code.
    pub async fn decline_device_code(
        &self,
        user_code: &str,
    ) -> Result<DeviceCodeInfo, ControlError> {
        self.json(self.call(Method::POST, &["devicecodes", user_code, "decline"]))
            .await
    }

    /// `GET /_sim/tenants/{tenant}/policy`: the device-code policy (`tenant`
    /// is [`crate::TENANT_ID`], `common` or `organizations`).
    pub async fn tenant_policy(&self, tenant: &str) -> Result<TenantPolicy, ControlError> {
        self.json(self.call(Method::GET, &["tenants", tenant, "policy"]))
            .await
    }

    /// `POST /_sim/tenants/{tenant}/policy`: blocks or allows the device code flow.
    pub async fn set_tenant_policy(
        &self,
        tenant: &str,
        policy: &TenantPolicy,
    ) -> Result<TenantPolicy, ControlError> {
        let call = self.call(Method::POST, &["tenants", tenant, "policy"]);
        self.json(call.json(policy)).await
    }

    /// A request to `/_sim/` + `segments`, each percent-encoded as one path segment.
    fn call(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("_sim").extend(segments);
        }
        self.http.request(method, url)
    }

    /// Sends `request` and reads a JSON answer.
    async fn json<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, ControlError> {
        let (call, body) = self.send(request).await?;
        serde_json::from_slice(&body).map_err(|e| ControlError::Malformed {
            call,
            source: AnswerError::Json(e),
        })
    }

    /// Sends `request`; a success answers its call's name and body, an error
    /// status becomes [`ControlError::Refused`] with the simulator's message.
    async fn send(&self, request: RequestBuilder) -> Result<(String, Vec<u8>), ControlError> {
        let request = request.build().map_err(ControlError::Setup)?;
        let call = format!("{} {}", request.method(), request.url().path());
        let response =
            self.http
                .execute(request)
                .await
                .map_err(|source| ControlError::Unreachable {
                    url: self.base_url().to_owned(),
                    source,
                })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| ControlError::Malformed {
                call: call.clone(),
                source: AnswerError::Read(e),
            })?;
        if !status.is_success() {
            let message = serde_json::from_slice::<ControlRefusal>(&body)
                .map_or_else(|_| "it gave no reason".to_owned(), |r| r.error);
            return Err(ControlError::Refused { status, message });
        }
        Ok((call, body.to_vec()))
    }
}

/// Parses `text` as a simulator's base URL: http(s) on a loopback host.
fn simulator_url(text: &str) -> Result<Url, ControlError> {
    let url = Url::parse(text.trim()).map_err(|source| ControlError::BadUrl {
        url: text.to_owned(),
        source,
    })?;
    let refuse = |reason| {
        Err(ControlError::NotSimulatorUrl {
            url: text.to_owned(),
            reason,
        })
    };
    if !matches!(url.scheme(), "http" | "https") {
        return refuse("it is not an http:// or https:// URL");
    }
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if !loopback {
        return refuse("the simulator listens on loopback only (127.0.0.1, ::1 or localhost)");
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_http_addresses_are_simulators() {
        for good in [
            "http://127.0.0.1:9",
            "http://127.0.0.1:9/",
            "https://[::1]:9",
            "http://localhost:9",
        ] {
            let client = ControlClient::new(good).expect(good);
            assert!(!client.base_url().ends_with('/'), "{good}");
        }
        assert!(matches!(
            ControlClient::new("not a url"),
            Err(ControlError::BadUrl { .. })
        ));
        for bad in [
            "ftp://127.0.0.1:9",
            "http://10.0.0.1:9",
            "http://example.com",
        ] {
            assert!(
                matches!(
                    ControlClient::new(bad),
                    Err(ControlError::NotSimulatorUrl { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn path_segments_are_encoded_one_by_one() {
        let client = ControlClient::new("http://127.0.0.1:9/").expect("client");
        let request = client
            .call(Method::POST, &["users", "a/b?c@d", "state"])
            .build()
            .expect("request");
        assert_eq!(
            request.url().as_str(),
            "http://127.0.0.1:9/_sim/users/a%2Fb%3Fc@d/state"
        );
    }
}
