//! OpenID discovery and the JWKS, for any tenant segment (`common`,
//! `organizations`, a GUID or a domain).

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};

use super::token::record;
use super::{At, BaseUrl};
use crate::log::LogEntry;
use crate::state::SimState;
use crate::tenant::Segment;

fn entry(endpoint: &str) -> LogEntry {
    LogEntry::request(endpoint, "GET")
}

/// The segment of a request, when it names a tenant the directory has.
fn known(state: &SimState, at: &At) -> Result<Segment, crate::failure::Failure> {
    let segment = at.segment()?.clone();
    let exists = segment
        .tenant()
        .is_none_or(|t| state.world().knows_tenant(t));
    if exists {
        Ok(segment)
    } else {
        Err(at.unknown())
    }
}

fn refuse(
    state: &SimState,
    base: &str,
    mut log: LogEntry,
    failure: &crate::failure::Failure,
) -> Response {
    let response = failure.response(state.now(), &crate::new_uuid().to_string(), base);
    log.status = response.status().as_u16();
    log.code = Some(failure.code);
    record(state, log);
    response
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration` (and B2C's
/// `/{tenant}/{policy}/v2.0/…`): the issuer is a `{tenantid}` template for
/// `common` and `organizations`, the tenant's own otherwise.
pub async fn openid_configuration(
    State(state): State<SimState>,
    BaseUrl(base): BaseUrl,
    at: At,
) -> Response {
    let segment = match known(&state, &at) {
        Ok(segment) => segment,
        Err(failure) => return refuse(&state, &base, entry("discovery"), &failure),
    };
    record(&state, entry("discovery"));
    let t = format!("{base}{}", at.prefix());
    let mut doc = serde_json::json!({
        "token_endpoint": format!("{t}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{t}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": segment.published_issuer(&base),
        "request_uri_parameter_supported": false,
        "authorization_endpoint": format!("{t}/oauth2/v2.0/authorize"),
        "end_session_endpoint": format!("{t}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "nonce", "name", "preferred_username", "oid", "tid", "ver"],
        "code_challenge_methods_supported": ["S256", "plain"],
    });
    if !segment.is_b2c()
        && let Some(fields) = doc.as_object_mut()
    {
        entra_fields(fields, &base, &t, &segment);
    }
    Json(doc).into_response()
}

/// What Entra's (not B2C's) document adds: the device flow, user info, the cloud.
fn entra_fields(
    fields: &mut serde_json::Map<String, serde_json::Value>,
    base: &str,
    t: &str,
    segment: &Segment,
) {
    let extra = serde_json::json!({
        "grant_types_supported": ["authorization_code", "refresh_token", crate::device::GRANT_TYPE],
        "device_authorization_endpoint": format!("{t}/oauth2/v2.0/devicecode"),
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "kerberos_endpoint": format!("{t}/kerberos"),
        "tenant_region_scope": segment.tenant().map(|_| "NA"),
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net"
    });
    if let serde_json::Value::Object(extra) = extra {
        fields.extend(extra);
    }
    if let Some(tid) = segment.tenant() {
        fields.insert("tenant_id".into(), tid.into());
    }
}

/// The query of the keys endpoint.
#[derive(Debug, serde::Deserialize)]
pub struct KeysQuery {
    /// An app whose id_tokens may be signed with a custom key.
    pub appid: Option<String>,
}

/// `GET /{tenant}/discovery/v2.0/keys[?appid={client_id}]`: with the id of
/// an app that has a custom signing key, the set includes that key, which
/// the plain set never does (Entra's behaviour for apps with
/// claims-mapping policies).
pub async fn keys(
    State(state): State<SimState>,
    BaseUrl(base): BaseUrl,
    at: At,
    Query(query): Query<KeysQuery>,
) -> Response {
    if let Err(failure) = known(&state, &at) {
        return refuse(&state, &base, entry("keys"), &failure);
    }
    record(&state, entry("keys"));
    let custom = query
        .appid
        .and_then(|id| state.app(&id))
        .is_some_and(|app| app.custom_signing_key);
    if custom {
        Json(state.app_jwks()).into_response()
    } else {
        Json(state.jwks()).into_response()
    }
}
