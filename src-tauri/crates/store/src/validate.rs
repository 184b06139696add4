//! Checks on account settings before they are stored: names, URLs (HTTPS,
//! or plain HTTP only to a loopback host), client ids, scopes and redirects.

use url::{Host, Url};

use crate::account::{NewAccount, Provider};
use crate::error::StoreError;

fn invalid(msg: impl Into<String>) -> StoreError {
    StoreError::InvalidAccount(msg.into())
}

/// One token request may ask for one resource's scopes only (Entra refuses
/// more with AADSTS28000), so one account may too.
fn one_resource(scopes: &[String]) -> Result<(), StoreError> {
    let resources = reconnect_core::scope::resources(scopes.iter().map(String::as_str));
    if let [first, second, ..] = resources.as_slice() {
        return Err(invalid(format!(
            "the scopes ask for two resources ({first} and {second}), and Microsoft Entra issues \
             a token for one resource at a time (it would refuse with AADSTS28000); add one \
             account per resource"
        )));
    }
    Ok(())
}

/// Checks every field of a new account.
pub fn account(new: &NewAccount) -> Result<(), StoreError> {
    name(&new.name)?;
    authority_url(&new.authority)?;
    if new.client_id.trim().is_empty() {
        return Err(invalid("the client id is empty"));
    }
    if new.client_id.chars().any(char::is_whitespace) {
        return Err(invalid("the client id contains spaces"));
    }
    if new.scopes.is_empty() {
        return Err(invalid("no scopes given"));
    }
    if new.provider == Provider::Microsoft {
        one_resource(&new.scopes)?;
    }
    match (new.provider, &new.tenant) {
        (Provider::Microsoft, Some(t))
            if t.trim().is_empty()
                || (t.contains('/') && reconnect_core::authority::b2c_policy(t).is_none()) =>
        {
            return Err(invalid(format!("tenant {t:?} is not a tenant name or id")));
        }
        (Provider::Microsoft, None) => return Err(invalid("a Microsoft account needs a tenant")),
        _ => {}
    }
    let r = &new.redirect;
    if !is_loopback_name(&r.host) {
        return Err(invalid(format!(
            "redirect host {:?} is not a loopback host (127.0.0.1, [::1] or localhost)",
            r.host
        )));
    }
    let bare = r.host.trim_start_matches('[').trim_end_matches(']');
    if new.provider == Provider::Microsoft && bare.contains(':') {
        return Err(invalid(format!(
            "redirect host {:?}: Microsoft Entra does not accept the IPv6 loopback in a redirect URI; \
             use 127.0.0.1 or localhost",
            r.host
        )));
    }
    if bare.contains(':') && !r.host.starts_with('[') {
        return Err(invalid(format!(
            "redirect host {:?} is an IPv6 address without brackets; write it as [{bare}]",
            r.host
        )));
    }
    if r.port_min > r.port_max {
        return Err(invalid("redirect port range is reversed"));
    }
    if !r.path.starts_with('/') {
        return Err(invalid("redirect path must start with /"));
    }
    Ok(())
}

/// A label: 1–64 characters, no control characters, no surrounding spaces.
pub fn name(name: &str) -> Result<(), StoreError> {
    if name.is_empty() {
        return Err(invalid("the account name is empty"));
    }
    if name.chars().count() > 64 {
        return Err(invalid("the account name is longer than 64 characters"));
    }
    if name.chars().any(char::is_control) || name.trim() != name {
        return Err(invalid(
            "the account name has control characters or surrounding spaces",
        ));
    }
    Ok(())
}

/// An authority or issuer: an absolute `https://` URL, or `http://` to a
/// loopback host (for the local simulator), without query or fragment.
pub fn authority_url(text: &str) -> Result<Url, StoreError> {
    let url = Url::parse(text).map_err(|e| invalid(format!("{text:?} is not a URL ({e})")))?;
    let host = url
        .host()
        .ok_or_else(|| invalid(format!("{text:?} has no host")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(invalid(format!(
                "{text:?} uses plain http; only https is accepted, except for a loopback host"
            )));
        }
        other => return Err(invalid(format!("{text:?} uses {other}: expected https"))),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(format!(
            "{text:?} must not have a query or fragment"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(format!("{text:?} must not contain credentials")));
    }
    Ok(url)
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

fn is_loopback_name(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<std::net::IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_only_for_loopback() {
        assert!(authority_url("https://login.microsoftonline.com").is_ok());
        assert!(authority_url("http://127.0.0.1:8400").is_ok());
        assert!(authority_url("http://[::1]:8400/tenant").is_ok());
        assert!(authority_url("http://localhost:1").is_ok());
        let err = authority_url("http://login.example.com")
            .unwrap_err()
            .to_string();
        assert!(err.contains("plain http"), "{err}");
        assert!(authority_url("ftp://x.example").is_err());
        assert!(authority_url("https://u:p@x.example").is_err());
        assert!(authority_url("https://x.example/?a=b").is_err());
        assert!(authority_url("not a url").is_err());
    }

    #[test]
    fn names_are_checked() {
        assert!(name("work").is_ok());
        assert!(name("").is_err());
        assert!(name(" work").is_err());
        assert!(name("a\nb").is_err());
        assert!(name(&"x".repeat(65)).is_err());
    }

    #[test]
    fn accounts_are_checked() {
        let ok = NewAccount::microsoft("w", "cid");
        assert!(account(&ok).is_ok());
        let mut mixed = ok.clone();
        mixed.scopes = crate::account::split_scopes(
            "User.Read 499b84ac-1321-427f-aa17-267ca6975798/.default offline_access",
        );
        let err = account(&mixed).unwrap_err().to_string();
        assert!(
            err.contains("two resources") && err.contains("28000"),
            "{err}"
        );
        let mut graph = ok.clone();
        graph.scopes =
            crate::account::split_scopes("User.Read https://graph.microsoft.com/Mail.Read openid");
        assert!(
            account(&graph).is_ok(),
            "Graph's two names are one resource"
        );
        let mut bad = ok.clone();
        bad.redirect.host = "192.168.1.1".into();
        assert!(account(&bad).is_err());
        for host in ["::1", "[::1]"] {
            let mut bad = ok.clone();
            bad.redirect.host = host.into();
            let err = account(&bad).unwrap_err().to_string();
            assert!(err.contains("127.0.0.1"), "{host}: {err}");
        }
        let mut generic = NewAccount::microsoft("g", "cid");
        generic.provider = Provider::Oidc;
        generic.tenant = None;
        generic.redirect.host = "[::1]".into();
        assert!(account(&generic).is_ok(), "other providers may use [::1]");
        generic.redirect.host = "::1".into();
        assert!(account(&generic).unwrap_err().to_string().contains("[::1]"));
        let mut bad = ok.clone();
        bad.client_id = " ".into();
        assert!(account(&bad).is_err());
        let mut bad = ok.clone();
        bad.redirect.port_min = 9000;
        bad.redirect.port_max = 8000;
        assert!(account(&bad).is_err());
        let mut b2c = ok.clone();
        b2c.tenant = Some("contoso.onmicrosoft.com/B2C_1_signin".into());
        assert!(account(&b2c).is_ok(), "a B2C tenant carries its policy");
        b2c.tenant = Some("contoso.onmicrosoft.com/other".into());
        assert!(account(&b2c).is_err());
        let mut bad = ok;
        bad.scopes.clear();
        assert!(account(&bad).is_err());
    }
}
