//! The `claims` request parameter: a Conditional Access / MFA claims challenge
//! from the last failure, merged with the client capabilities Reconnect
//! declares (`cp1`: "I can handle claims challenges"), so a step-up completes
//! in one sign-in instead of looping.
//!
//! The one definition lives in [`reconnect_core::claims`], shared with the
//! engine's refreshes; this module names it for the sign-in flows.

pub use reconnect_core::claims::{
    BadChallenge, CLIENT_CAPABILITIES, Challenge, claims_parameter, merge,
};
