//! Ways to break a user's grant the way Entra does, as the tester panel
//! offers them: each [`BreakKind`] names one, and [`BreakKind::step`] says
//! which control call does it. Their names (`idle`, `revoked`, `mfa`, …) are
//! a contract the tester panel already sends.

use serde::{Deserialize, Serialize};

use crate::faults::{FaultRequest, UNTIL_CLEARED};
use crate::model::UserStatePatch;

/// A way to break a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum BreakKind {
    /// The refresh token idles past the user's limit (700082).
    Idle,
    /// A password reset revokes every earlier token (50173).
    Revoked,
    /// A new policy requires MFA the grant never had (50076).
    Mfa,
    /// The account is disabled (50057).
    Disabled,
    /// The grant's single-page-app lifetime ends (700084).
    Spa,
    /// Conditional Access sign-in frequency runs out (70043).
    SignInFrequency,
    /// Conditional Access blocks the user (53003).
    CaBlocked,
    /// The user's consent is revoked (65001).
    Consent,
    /// Any AADSTS code the tester names.
    Code,
}

impl BreakKind {
    /// Every way, in the order menus list them.
    pub const ALL: [Self; 9] = [
        Self::Idle,
        Self::Revoked,
        Self::Mfa,
        Self::Disabled,
        Self::Spa,
        Self::SignInFrequency,
        Self::CaBlocked,
        Self::Consent,
        Self::Code,
    ];

    /// The contract name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Revoked => "revoked",
            Self::Mfa => "mfa",
            Self::Disabled => "disabled",
            Self::Spa => "spa",
            Self::SignInFrequency => "sign_in_frequency",
            Self::CaBlocked => "ca_blocked",
            Self::Consent => "consent",
            Self::Code => "code",
        }
    }

    /// What the simulator must be told. `code` is read by [`BreakKind::Code`]
    /// only, and must be a positive AADSTS code there.
    pub fn step(self, code: Option<u32>) -> Result<BreakStep, BreakError> {
        let patch = |f: fn(&mut UserStatePatch)| {
            let mut patch = UserStatePatch::default();
            f(&mut patch);
            BreakStep::Patch(patch)
        };
        Ok(match self {
            Self::Idle => patch(|p| p.idle_limit_seconds = Some(1)),
            Self::Revoked => BreakStep::Revoke,
            Self::Mfa => patch(|p| p.mfa_required = Some(true)),
            Self::Disabled => patch(|p| p.disabled = Some(true)),
            Self::Spa => BreakStep::Fault(700_084),
            Self::SignInFrequency => patch(|p| p.sign_in_frequency_seconds = Some(1)),
            Self::CaBlocked => patch(|p| p.ca_blocked = Some(true)),
            Self::Consent => patch(|p| p.consent_revoked = Some(true)),
            Self::Code => BreakStep::Fault(code.filter(|c| *c > 0).ok_or(BreakError::NoCode)?),
        })
    }

    /// How many seconds the clock must move before the break shows: the
    /// policies that count time (a 1-second idle limit or sign-in frequency)
    /// need two; the others none.
    pub fn settle_seconds(self) -> i64 {
        match self {
            Self::Idle | Self::SignInFrequency => 2,
            _ => 0,
        }
    }
}

/// The control call a break comes down to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakStep {
    /// Change the user's policies.
    Patch(UserStatePatch),
    /// Revoke the user's tokens.
    Revoke,
    /// Answer this AADSTS code to the user's token requests until faults are cleared.
    Fault(u32),
}

impl BreakStep {
    /// The fault request for a [`BreakStep::Fault`] on `upn`.
    pub fn fault_request(code: u32, upn: &str) -> FaultRequest {
        FaultRequest {
            upn: Some(upn.to_owned()),
            count: Some(UNTIL_CLEARED),
            ..FaultRequest::code(code)
        }
    }
}

/// Why a break cannot be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BreakError {
    /// [`BreakKind::Code`] without a positive code.
    #[error("breaking a grant with a code needs an AADSTS code above zero, e.g. 50173")]
    NoCode,
    /// A name that belongs to no break.
    #[error(
        "unknown way to break a grant `{0}`: use idle, revoked, mfa, disabled, spa, sign_in_frequency, ca_blocked, consent or code"
    )]
    Unknown(String),
}

impl std::str::FromStr for BreakKind {
    type Err = BreakError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| BreakError::Unknown(name.to_owned()))
    }
}

impl TryFrom<String> for BreakKind {
    type Error = BreakError;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        name.parse()
    }
}

impl From<BreakKind> for &'static str {
    fn from(kind: BreakKind) -> Self {
        kind.name()
    }
}

impl std::fmt::Display for BreakKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names the tester panel sends (`ui/views/tester.js` sends the ids
    /// `tester_state` lists; the window tests send some by hand).
    const CONTRACT: [&str; 9] = [
        "idle",
        "revoked",
        "mfa",
        "disabled",
        "spa",
        "sign_in_frequency",
        "ca_blocked",
        "consent",
        "code",
    ];

    #[test]
    fn names_are_the_contract_and_round_trip() {
        assert_eq!(BreakKind::ALL.map(BreakKind::name), CONTRACT);
        for name in CONTRACT {
            let kind: BreakKind = serde_json::from_value(name.into()).expect("a contract name");
            assert_eq!(serde_json::to_value(kind).ok(), Some(name.into()));
            assert_eq!(name.parse::<BreakKind>(), Ok(kind));
            assert_eq!(kind.to_string(), name);
        }
    }

    #[test]
    fn unknown_names_are_refused_with_the_choices() {
        let err =
            serde_json::from_value::<BreakKind>("password_reset".into()).expect_err("not a break");
        assert!(err.to_string().contains("`password_reset`"), "{err}");
        assert!(err.to_string().contains("sign_in_frequency"), "{err}");
        assert_eq!(
            "Idle".parse::<BreakKind>(),
            Err(BreakError::Unknown("Idle".into()))
        );
    }

    #[test]
    fn each_break_comes_down_to_one_call() {
        let Ok(BreakStep::Patch(idle)) = BreakKind::Idle.step(None) else {
            panic!("idle changes the user's policy");
        };
        assert_eq!(idle.idle_limit_seconds, Some(1));
        assert_eq!(BreakKind::Revoked.step(Some(7)), Ok(BreakStep::Revoke));
        assert_eq!(BreakKind::Spa.step(None), Ok(BreakStep::Fault(700_084)));
        assert_eq!(
            BreakKind::Code.step(Some(53003)),
            Ok(BreakStep::Fault(53003))
        );
        assert_eq!(BreakKind::Code.step(Some(0)), Err(BreakError::NoCode));
        assert_eq!(BreakKind::Code.step(None), Err(BreakError::NoCode));
        for kind in BreakKind::ALL {
            let settles = kind.settle_seconds() > 0;
            let timed = matches!(kind, BreakKind::Idle | BreakKind::SignInFrequency);
            assert_eq!(settles, timed, "{kind}");
        }
        let request = BreakStep::fault_request(700_084, "alice@contoso.test");
        assert_eq!(request.count, Some(UNTIL_CLEARED));
        assert_eq!(request.upn.as_deref(), Some("alice@contoso.test"));
    }
}
