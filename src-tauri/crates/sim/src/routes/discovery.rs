//! OpenID discovery and the JWKS, for any tenant segment (`common`,
//! `organizations`, a GUID or a domain).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::BaseUrl;
use super::token::record;
use crate::log::LogEntry;
use crate::state::{SimState, TENANT_ID, issuer};

fn entry(endpoint: &str) -> LogEntry {
    LogEntry::request(endpoint, "GET")
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
pub async fn openid_configuration(
    State(state): State<SimState>,
    BaseUrl(base): BaseUrl,
    Path(tenant): Path<String>,
) -> Response {
    record(&state, entry("discovery"));
    let tenant: String = tenant
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-._".contains(*c))
        .collect();
    let t = format!("{base}/{tenant}");
    Json(serde_json::json!({
        "token_endpoint": format!("{t}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{t}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "grant_types_supported": ["authorization_code", "refresh_token", crate::device::GRANT_TYPE],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer(&base),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "authorization_endpoint": format!("{t}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{t}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{t}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "nonce", "name", "preferred_username", "oid", "tid", "ver"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "kerberos_endpoint": format!("{t}/kerberos"),
        "tenant_region_scope": "NA",
        "tenant_id": TENANT_ID,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net"
    }))
    .into_response()
}

/// `GET /{tenant}/discovery/v2.0/keys`.
pub async fn keys(State(state): State<SimState>) -> Response {
    record(&state, entry("keys"));
    Json(state.jwks()).into_response()
}
