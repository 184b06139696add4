//! The same-account guard: a reconnect must bring back the user the
//! connection belongs to. Microsoft users are compared by object id + tenant
//! id; OpenID users by issuer + subject. On a mismatch nothing is overwritten.

use reconnect_oauth::IdTokenClaims;

/// Who a connection belongs to, as far as it is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownUser {
    /// Sign-in name (UPN / preferred_username).
    pub upn: Option<String>,
    /// Microsoft object id.
    pub oid: Option<String>,
    /// Microsoft tenant id.
    pub tid: Option<String>,
    /// id_token issuer.
    pub issuer: Option<String>,
    /// id_token subject.
    pub subject: Option<String>,
}

impl KnownUser {
    /// What a validated id_token says about the user.
    pub fn from_claims(claims: &IdTokenClaims) -> Self {
        Self {
            upn: claims
                .preferred_username
                .clone()
                .or_else(|| claims.email.clone()),
            oid: claims.oid.clone(),
            tid: claims.tid.clone(),
            issuer: Some(claims.iss.clone()),
            subject: Some(claims.sub.clone()),
        }
    }

    /// A readable name for messages.
    pub fn describe(&self) -> String {
        match (&self.upn, &self.oid, &self.subject) {
            (Some(upn), _, _) => upn.clone(),
            (None, Some(oid), _) => format!("the user with object id {oid}"),
            (None, None, Some(sub)) => format!("the user with subject {sub}"),
            _ => "an unknown user".into(),
        }
    }
}

fn same(a: &Option<String>, b: &Option<String>) -> Option<bool> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.eq_ignore_ascii_case(b)),
        _ => None,
    }
}

/// Whether `signed_in` may replace the tokens of a connection owned by
/// `owner`. `microsoft` selects oid + tid over iss + sub. With nothing known
/// about the owner (a first sign-in) anyone is accepted.
pub fn same_user(owner: &KnownUser, signed_in: &KnownUser, microsoft: bool) -> bool {
    if microsoft
        && let (Some(oid), Some(tid)) = (
            same(&owner.oid, &signed_in.oid),
            same(&owner.tid, &signed_in.tid),
        )
    {
        return oid && tid;
    }
    if let (Some(iss), Some(sub)) = (
        owner
            .issuer
            .as_ref()
            .zip(signed_in.issuer.as_ref())
            .map(|(a, b)| a.trim_end_matches('/') == b.trim_end_matches('/')),
        owner
            .subject
            .as_ref()
            .zip(signed_in.subject.as_ref())
            .map(|(a, b)| a == b),
    ) {
        return iss && sub;
    }
    // Only a name is known (e.g. an imported refresh token): compare names.
    same(&owner.upn, &signed_in.upn).unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(upn: &str, oid: &str, tid: &str) -> KnownUser {
        KnownUser {
            upn: Some(upn.into()),
            oid: Some(oid.into()),
            tid: Some(tid.into()),
            ..KnownUser::default()
        }
    }

    #[test]
    fn microsoft_users_are_compared_by_object_and_tenant() {
        let alice = ms("alice@contoso.test", "o-1", "t-1");
        assert!(same_user(
            &alice,
            &ms("ALICE@contoso.test", "o-1", "t-1"),
            true
        ));
        assert!(!same_user(
            &alice,
            &ms("bob@contoso.test", "o-2", "t-1"),
            true
        ));
        // Same object id in another tenant is another account (a guest).
        assert!(!same_user(
            &alice,
            &ms("alice@contoso.test", "o-1", "t-2"),
            true
        ));
        // A renamed user keeps the connection.
        assert!(same_user(
            &alice,
            &ms("alice.new@contoso.test", "o-1", "t-1"),
            true
        ));
    }

    #[test]
    fn oidc_users_are_compared_by_issuer_and_subject() {
        let owner = KnownUser {
            issuer: Some("https://idp/".into()),
            subject: Some("s1".into()),
            ..KnownUser::default()
        };
        let same_one = KnownUser {
            issuer: Some("https://idp".into()),
            subject: Some("s1".into()),
            ..KnownUser::default()
        };
        let other = KnownUser {
            subject: Some("s2".into()),
            ..same_one.clone()
        };
        assert!(same_user(&owner, &same_one, false));
        assert!(!same_user(&owner, &other, false));
    }

    #[test]
    fn first_sign_in_accepts_anyone_and_names_are_a_last_resort() {
        assert!(same_user(&KnownUser::default(), &ms("x@y", "o", "t"), true));
        let named = KnownUser {
            upn: Some("alice@contoso.test".into()),
            ..KnownUser::default()
        };
        assert!(!same_user(&named, &ms("bob@contoso.test", "o", "t"), true));
    }
}
