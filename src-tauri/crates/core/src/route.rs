//! Which account answers for a URL: the `[[route]]` table of a profile's
//! `config.toml`, as used by `reconnect credential` (git's credential
//! helper protocol).
//!
//! A route names a host and, optionally, a path pattern:
//!
//! ```toml
//! [[route]]
//! host = "dev.azure.com"
//! path = "contoso/*"
//! account = "work"
//! ```
//!
//! - The host matches case-insensitively. A route host without a port
//!   matches any port; with a port, only that one. `*.example.com` matches
//!   every subdomain of `example.com` (not `example.com` itself).
//! - The path is a shell-style pattern (`*`, `?`, `[…]`) over the whole
//!   path, leading and trailing `/` ignored; `*` also crosses `/`, so
//!   `contoso/*` covers every repository of the `contoso` organisation.
//!   A route without a path covers the whole host.
//! - The most specific route wins: one whose path matched beats one
//!   without a path; among equals, the first in the file.
//! - git sends the path only when `credential.useHttpPath` is set. Without
//!   it, a host that has path routes cannot be decided, and the answer says
//!   so ([`Choice::PathNeeded`]) rather than guessing.

use serde::Deserialize;

/// One `[[route]]` entry of a profile's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Host name, optionally with `:port`, or `*.domain`.
    pub host: String,
    /// Shell-style path pattern; `None` covers the whole host.
    #[serde(default)]
    pub path: Option<String>,
    /// The account that answers for this host and path.
    pub account: String,
}

/// What a route table says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice<'a> {
    /// This route answers.
    Route(&'a Route),
    /// No route covers the host (and path).
    NoRoute,
    /// Routes for this host depend on the path, and the request has none.
    PathNeeded,
}

/// Why a route is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The host is empty or has characters no host has.
    #[error("route {index}: `{host}` is not a host name")]
    Host {
        /// 1-based position in the file.
        index: usize,
        /// The host as written.
        host: String,
    },
    /// The path pattern does not parse.
    #[error("route {index}: the path pattern `{pattern}` is not valid: {reason}")]
    Pattern {
        /// 1-based position in the file.
        index: usize,
        /// The pattern as written.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The account name is empty.
    #[error("route {index}: `account` is empty")]
    Account {
        /// 1-based position in the file.
        index: usize,
    },
}

/// Checks every route, so a typo is reported when the file is read rather
/// than as "no route" later.
pub fn check(routes: &[Route]) -> Result<(), RouteError> {
    for (i, route) in routes.iter().enumerate() {
        let index = i + 1;
        let host = route.host.strip_prefix("*.").unwrap_or(&route.host);
        let plain = |c: char| c.is_ascii_alphanumeric() || "-.:[]".contains(c);
        if host.is_empty() || !host.chars().all(plain) {
            return Err(RouteError::Host {
                index,
                host: route.host.clone(),
            });
        }
        if let Some(pattern) = &route.path {
            glob::Pattern::new(trim(pattern)).map_err(|e| RouteError::Pattern {
                index,
                pattern: pattern.clone(),
                reason: e.msg.to_owned(),
            })?;
        }
        if route.account.trim().is_empty() {
            return Err(RouteError::Account { index });
        }
    }
    Ok(())
}

/// Picks the route for `host` (as git sends it: `name` or `name:port`) and
/// `path` (without a leading `/`, `None` when not sent).
pub fn choose<'a>(routes: &'a [Route], host: &str, path: Option<&str>) -> Choice<'a> {
    let for_host: Vec<&Route> = routes
        .iter()
        .filter(|r| host_matches(&r.host, host))
        .collect();
    let Some(path) = path else {
        if for_host.iter().any(|r| r.path.is_some()) {
            return Choice::PathNeeded;
        }
        return for_host
            .first()
            .map_or(Choice::NoRoute, |r| Choice::Route(r));
    };
    let path = trim(path);
    let by_path = for_host.iter().find(|r| {
        r.path
            .as_deref()
            .is_some_and(|p| glob::Pattern::new(trim(p)).is_ok_and(|pattern| pattern.matches(path)))
    });
    by_path
        .or_else(|| for_host.iter().find(|r| r.path.is_none()))
        .map_or(Choice::NoRoute, |r| Choice::Route(r))
}

fn trim(path: &str) -> &str {
    path.trim_matches('/')
}

/// Splits `name:port` (or `[v6]:port`) into the name and the port, if any.
fn split_port(host: &str) -> (&str, Option<&str>) {
    match host.rsplit_once(':') {
        Some((name, port))
            if !port.is_empty()
                && port.chars().all(|c| c.is_ascii_digit())
                && (!name.contains(':') || name.ends_with(']')) =>
        {
            (name, Some(port))
        }
        _ => (host, None),
    }
}

fn host_matches(pattern: &str, host: &str) -> bool {
    let (want, want_port) = split_port(pattern);
    let (name, port) = split_port(host);
    if want_port.is_some() && want_port != port {
        return false;
    }
    let name = name.to_ascii_lowercase();
    let want = want.to_ascii_lowercase();
    match want.strip_prefix("*.") {
        Some(domain) => name.len() > domain.len() + 1 && name.ends_with(&format!(".{domain}")),
        None => name == want,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(host: &str, path: Option<&str>, account: &str) -> Route {
        Route {
            host: host.into(),
            path: path.map(str::to_owned),
            account: account.into(),
        }
    }

    fn pick<'a>(routes: &'a [Route], host: &str, path: Option<&str>) -> Option<&'a str> {
        match choose(routes, host, path) {
            Choice::Route(r) => Some(r.account.as_str()),
            Choice::NoRoute | Choice::PathNeeded => None,
        }
    }

    #[test]
    fn the_most_specific_route_wins() {
        let routes = [
            route("dev.azure.com", None, "default"),
            route("dev.azure.com", Some("contoso/*"), "work"),
            route("dev.azure.com", Some("/fabrikam/*"), "client"),
        ];
        assert_eq!(
            pick(&routes, "dev.azure.com", Some("contoso/app/_git/app")),
            Some("work")
        );
        assert_eq!(
            pick(&routes, "dev.azure.com", Some("fabrikam/x/_git/y")),
            Some("client")
        );
        assert_eq!(
            pick(&routes, "dev.azure.com", Some("other/x")),
            Some("default")
        );
        assert_eq!(
            choose(&routes, "dev.azure.com", None),
            Choice::PathNeeded,
            "without the path the host cannot be decided"
        );
    }

    #[test]
    fn hosts_match_by_name_port_and_wildcard() {
        let routes = [
            route("Git.Example.com", None, "a"),
            route("127.0.0.1:8443", None, "b"),
            route("*.visualstudio.com", None, "c"),
        ];
        assert_eq!(pick(&routes, "git.example.com:444", None), Some("a"));
        assert_eq!(pick(&routes, "127.0.0.1:8443", None), Some("b"));
        assert_eq!(pick(&routes, "127.0.0.1:9000", None), None);
        assert_eq!(pick(&routes, "contoso.visualstudio.com", None), Some("c"));
        assert_eq!(pick(&routes, "visualstudio.com", None), None);
        assert_eq!(pick(&routes, "evilvisualstudio.com", None), None);
        assert_eq!(choose(&routes, "nowhere.test", Some("x")), Choice::NoRoute);
    }

    #[test]
    fn a_host_with_only_path_routes_needs_the_path() {
        let routes = [route("dev.azure.com", Some("contoso/*"), "work")];
        assert_eq!(pick(&routes, "dev.azure.com", Some("contoso")), None);
        assert_eq!(
            pick(&routes, "dev.azure.com", Some("contoso/a")),
            Some("work")
        );
        assert_eq!(choose(&routes, "dev.azure.com", None), Choice::PathNeeded);
    }

    #[test]
    fn bad_routes_are_named() {
        assert!(check(&[route("ok.test", Some("a/*"), "x")]).is_ok());
        assert!(matches!(
            check(&[route("ok.test", None, "x"), route("bad host", None, "x")]),
            Err(RouteError::Host { index: 2, .. })
        ));
        assert!(matches!(
            check(&[route("ok.test", Some("[a"), "x")]),
            Err(RouteError::Pattern { index: 1, .. })
        ));
        assert!(matches!(
            check(&[route("ok.test", None, " ")]),
            Err(RouteError::Account { index: 1 })
        ));
    }
}
