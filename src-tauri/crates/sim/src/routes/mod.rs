//! HTTP routes: the identity endpoints Entra serves (with the device code
//! flow's page at `/devicelogin`) and the `/_sim` control API.

pub mod authorize;
pub mod control;
pub mod device;
pub mod discovery;
pub mod outage;
pub mod token;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

/// The scheme a listener serves, attached as a request extension by the server.
#[derive(Debug, Clone, Copy)]
pub struct ListenerScheme(pub &'static str);

/// The simulator's own base URL as the client reached it (`http://127.0.0.1:PORT`).
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let scheme = parts
            .extensions
            .get::<ListenerScheme>()
            .map_or("http", |s| s.0);
        let host = parts
            .headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| is_plain_host(h))
            .or_else(|| parts.uri.authority().map(|a| a.as_str()))
            .unwrap_or("localhost");
        Ok(Self(format!("{scheme}://{host}")))
    }
}

/// Where an identity request went: the path's tenant segment and, for
/// Azure AD B2C, the user flow after it. `segment` is `None` when the
/// text cannot name a tenant.
#[derive(Debug, Clone)]
pub struct At {
    /// The tenant segment as sent (cleaned for logs and URLs).
    pub tenant: String,
    /// The B2C user flow, if the path has one.
    pub policy: Option<String>,
    /// The segment, read.
    pub segment: Option<crate::tenant::Segment>,
}

impl At {
    /// The path prefix the request came by: `/{tenant}` or `/{tenant}/{policy}`.
    pub fn prefix(&self) -> String {
        match &self.policy {
            Some(policy) => format!("/{}/{policy}", self.tenant),
            None => format!("/{}", self.tenant),
        }
    }

    /// The segment, or Entra's answer for a tenant that cannot exist (90002).
    pub fn segment(&self) -> Result<&crate::tenant::Segment, crate::failure::Failure> {
        self.segment.as_ref().ok_or_else(|| self.unknown())
    }

    /// 90002: the tenant the request names does not exist.
    pub fn unknown(&self) -> crate::failure::Failure {
        crate::admission::unknown_tenant(&self.tenant)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for At {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::Path;
        let params =
            Path::<std::collections::HashMap<String, String>>::from_request_parts(parts, state)
                .await
                .map(|Path(p)| p)
                .unwrap_or_default();
        let clean = |t: &str| -> String {
            t.chars()
                .filter(|c| c.is_ascii_alphanumeric() || "-._".contains(*c))
                .take(100)
                .collect()
        };
        let raw_tenant = params.get("tenant").cloned().unwrap_or_default();
        let raw_policy = params.get("policy").cloned();
        let segment = crate::tenant::Segment::parse(&raw_tenant, raw_policy.as_deref());
        Ok(Self {
            tenant: clean(&raw_tenant),
            policy: raw_policy.as_deref().map(clean),
            segment,
        })
    }
}

/// A Host header we are willing to echo back into URLs (no paths, spaces or markup).
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
}

/// The client's `client-request-id` header, when it is a plain token (at
/// most 64 letters, digits and dashes; anything else is not echoed).
pub fn client_request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("client-request-id")
        .and_then(|h| h.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        .map(str::to_owned)
}

/// The correlation id: the client's `client-request-id` when it is a plain token, else a new one.
pub fn correlation_id(headers: &HeaderMap) -> String {
    client_request_id(headers).unwrap_or_else(|| crate::new_uuid().to_string())
}

/// Parses an `application/x-www-form-urlencoded` body (never fails; later keys win).
pub fn form(body: &[u8]) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_with_markup_are_not_echoed() {
        assert!(is_plain_host("127.0.0.1:8080"));
        assert!(is_plain_host("[::1]:9"));
        assert!(!is_plain_host("evil.test/<script>"));
        assert!(!is_plain_host(""));
    }

    #[test]
    fn correlation_ids_are_echoed_only_when_plain() {
        let mut headers = HeaderMap::new();
        headers.insert("client-request-id", "abc-123".parse().expect("header"));
        assert_eq!(correlation_id(&headers), "abc-123");
        headers.insert("client-request-id", "a b".parse().expect("header"));
        assert_ne!(correlation_id(&headers), "a b");
    }
}
