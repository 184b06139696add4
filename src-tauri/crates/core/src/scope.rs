//! Which resource a Microsoft identity platform scope asks for.
//!
//! A scope names its resource before the last `/`: a URI
//! (`https://graph.microsoft.com/User.Read`, `api://contoso/read`) or an
//! application id (`499b84ac-…/.default`). A bare permission (`User.Read`)
//! belongs to Microsoft Graph. The OpenID scopes (`openid`, `profile`,
//! `email`, `offline_access`) belong to no resource. One token request may
//! name one resource only; Entra refuses more with AADSTS28000.

/// The OpenID Connect scopes, which name no resource.
pub const OPENID_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Microsoft Graph's application id.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// The resource `scope` names, as written (`None` for an OpenID scope).
/// A bare permission yields [`GRAPH_APP_ID`].
pub fn resource(scope: &str) -> Option<&str> {
    if OPENID_SCOPES.iter().any(|o| o.eq_ignore_ascii_case(scope)) {
        return None;
    }
    let named = scope
        .rfind('/')
        .map(|i| &scope[..i])
        .filter(|r| r.find("://").is_some_and(|at| r.len() > at + 3) || is_app_id(r));
    Some(named.unwrap_or(GRAPH_APP_ID))
}

/// The distinct resources `scopes` ask for, Microsoft Graph's two names
/// (its URI and its application id) counted as one.
pub fn resources<'a>(scopes: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen: Vec<&str> = Vec::new();
    for r in scopes.into_iter().filter_map(resource) {
        let r = if is_graph(r) { GRAPH_APP_ID } else { r };
        if !seen.iter().any(|s| s.eq_ignore_ascii_case(r)) {
            seen.push(r);
        }
    }
    seen
}

/// Whether `resource` is Microsoft Graph.
pub fn is_graph(resource: &str) -> bool {
    resource == GRAPH_APP_ID
        || resource
            .trim_end_matches('/')
            .eq_ignore_ascii_case("https://graph.microsoft.com")
}

/// Whether `text` is a GUID, as application ids are.
pub fn is_app_id(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_name_their_resource() {
        assert_eq!(resource("openid"), None);
        assert_eq!(resource("User.Read"), Some(GRAPH_APP_ID));
        assert_eq!(
            resource("https://graph.microsoft.com/User.Read"),
            Some("https://graph.microsoft.com")
        );
        assert_eq!(
            resource("499b84ac-1321-427f-aa17-267ca6975798/.default"),
            Some("499b84ac-1321-427f-aa17-267ca6975798")
        );
        assert_eq!(resource("api://contoso/read"), Some("api://contoso"));
        assert_eq!(resource("not-an-id/.default"), Some(GRAPH_APP_ID));
    }

    #[test]
    fn graph_counts_once_and_others_apart() {
        let one = resources([
            "openid",
            "User.Read",
            "https://graph.microsoft.com/Mail.Read",
            "offline_access",
        ]);
        assert_eq!(one, [GRAPH_APP_ID]);
        let two = resources(["User.Read", "499b84ac-1321-427f-aa17-267ca6975798/.default"]);
        assert_eq!(two.len(), 2);
    }
}
