//! The refresh retry policy: what to do after a failed refresh, driven by the
//! decoder's verdict rather than by the bare OAuth `error`.
//!
//! - transient failures (network, 5xx, 429, `temporarily_unavailable`, an
//!   HTML page) back off exponentially with jitter, honour `Retry-After`, and
//!   never mark the account broken;
//! - failures that an interactive reconnect fixes are retried exactly once
//!   (rare partial failures heal), then the account needs reconnecting;
//! - failures only an admin or the app's developer can fix are not retried.
//!
//! On top of that, the same failing request is never sent again within
//! [`RetryConfig::identical_request_floor`] seconds.
//!
//! Failures to reach the sign-in service (DNS, connect, TLS, timeout, an
//! answer from a proxy on the way) are counted as a [`NetworkRun`]; the
//! health machine names a run that lasts ([`RetryConfig::unreachable_after`],
//! [`RetryConfig::unreachable_attempts`]) as its own state.
//!
//! Everything is pure: "now" and the jitter fraction are passed in.

use serde::{Deserialize, Serialize};

use crate::decode::{Category, ReconnectFixes, Verdict, WhoActs};
use crate::tokens::UnixTime;

/// What kind of failure a refresh hit, as far as the retry policy cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum FailureClass {
    /// Nobody has to act; try again later. `retry_after` is the server's
    /// `Retry-After`, in seconds, when it sent one.
    Transient {
        /// Seconds the server asked us to wait.
        retry_after: Option<i64>,
    },
    /// The user must sign in again (possibly after one retry heals it).
    ReconnectNeeded,
    /// An administrator must act (Conditional Access block, disabled user,
    /// consent an admin must grant).
    NeedsAdmin,
    /// The app registration does not fit this client; its developer must act.
    AppMisconfigured,
}

impl FailureClass {
    /// Reduces the decoder's verdict to what the retry policy needs:
    /// transient failures wait and retry; the app's developer or an admin
    /// must act when a reconnect cannot fix it alone; everything else is
    /// fixed by signing in again (after the one retry).
    pub fn from_verdict(verdict: &Verdict) -> Self {
        if verdict.transient {
            let server = verdict
                .retry_after_seconds
                .map(|s| i64::try_from(s).unwrap_or(i64::MAX));
            let retry_after = if verdict.long_backoff {
                Some(server.unwrap_or(0).max(LONG_BACKOFF_SECONDS))
            } else {
                server
            };
            return Self::Transient { retry_after };
        }
        match (verdict.who_acts, verdict.reconnect_fixes) {
            (WhoActs::Developer, _) => Self::AppMisconfigured,
            (WhoActs::Admin, fixes) if fixes != ReconnectFixes::Yes => Self::NeedsAdmin,
            _ => Self::ReconnectNeeded,
        }
    }
}

/// The shortest wait after a failure that asks for a long backoff
/// ([`Verdict::long_backoff`]): an answer from the network path, an
/// unrecognised error, a locked account.
pub const LONG_BACKOFF_SECONDS: i64 = 15 * 60;

/// Tunables of the retry policy. Durations are in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RetryConfig {
    /// The first transient retry waits about this long.
    pub base_delay: i64,
    /// Backoff never waits longer than this (unless the server asks for more).
    pub max_delay: i64,
    /// Spread each delay by ± this fraction (0.0–1.0) to avoid herds.
    pub jitter: f64,
    /// A failing request is never repeated identically within this window.
    pub identical_request_floor: i64,
    /// The longest `Retry-After` we honour; longer values are capped so a
    /// broken header cannot park an account for months.
    pub max_retry_after: i64,
    /// Network trouble that has lasted this long (from its first failure to
    /// its latest) is named: the account "can't reach the sign-in service".
    pub unreachable_after: i64,
    /// ... and only once it has failed at least this many times in a row.
    pub unreachable_attempts: u32,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            base_delay: 60,
            max_delay: 60 * 60,
            jitter: 0.2,
            identical_request_floor: 60,
            max_retry_after: 24 * 60 * 60,
            unreachable_after: 60 * 60,
            unreachable_attempts: 3,
        }
    }
}

/// How many failures in a row an account has had, by family. Reset by any
/// success.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Streak {
    /// Consecutive transient failures.
    pub transient: u32,
    /// Consecutive failures that a reconnect would fix.
    pub reconnect: u32,
    /// The failures to reach the sign-in service in a row, if the latest
    /// failure was one. Any other failure ends the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkRun>,
}

/// Failures in a row that never reached the sign-in service: DNS, connect,
/// TLS or timeout failures, or answers from something on the network path
/// ([`Category::Network`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRun {
    /// When the first of them happened.
    pub since: UnixTime,
    /// When the latest happened.
    pub last: UnixTime,
    /// How many there were.
    pub attempts: u32,
}

impl NetworkRun {
    /// The run after one more failure at `now`: `category` continues it
    /// when it is network trouble; anything else ends it.
    pub fn after(run: Option<Self>, category: Category, now: UnixTime) -> Option<Self> {
        if category != Category::Network {
            return None;
        }
        Some(match run {
            Some(run) => Self {
                since: run.since,
                last: now.max(run.last),
                attempts: run.attempts.saturating_add(1),
            },
            None => Self {
                since: now,
                last: now,
                attempts: 1,
            },
        })
    }

    /// Whether the trouble has lasted long enough, over enough attempts, to
    /// be named rather than quietly retried.
    pub fn lasting(&self, config: &RetryConfig) -> bool {
        self.attempts >= config.unreachable_attempts
            && self.last.saturating_sub(self.since) >= config.unreachable_after
    }
}

/// What the policy decided after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Try again at `at`; `streak` is the updated failure streak.
    RetryAt {
        /// When to try again (Unix seconds).
        at: UnixTime,
        /// The streak including this failure.
        streak: Streak,
        /// Whether this is the single retry granted to a reconnect-class failure.
        last_chance: bool,
    },
    /// Stop: the account needs an interactive reconnect.
    ReconnectNeeded,
    /// Stop: an admin must act.
    NeedsAdmin,
    /// Stop: the app registration must be fixed.
    AppMisconfigured,
}

/// Decides what follows a failed refresh.
///
/// `streak` is the failure streak *before* this failure. `jitter_fraction`
/// is a random number in `[0, 1)` supplied by the caller (so tests can pin it).
pub fn decide(
    config: &RetryConfig,
    class: FailureClass,
    streak: Streak,
    now: UnixTime,
    jitter_fraction: f64,
) -> Decision {
    match class {
        FailureClass::Transient { retry_after } => {
            let streak = Streak {
                transient: streak.transient.saturating_add(1),
                ..streak
            };
            let delay = transient_delay(config, streak.transient, retry_after, jitter_fraction);
            Decision::RetryAt {
                at: now.saturating_add(delay),
                streak,
                last_chance: false,
            }
        }
        FailureClass::ReconnectNeeded if streak.reconnect == 0 => Decision::RetryAt {
            at: now.saturating_add(config.identical_request_floor.max(0)),
            streak: Streak {
                reconnect: 1,
                ..streak
            },
            last_chance: true,
        },
        FailureClass::ReconnectNeeded => Decision::ReconnectNeeded,
        FailureClass::NeedsAdmin => Decision::NeedsAdmin,
        FailureClass::AppMisconfigured => Decision::AppMisconfigured,
    }
}

/// The wait before transient retry number `attempt` (1-based): exponential
/// from `base_delay`, capped at `max_delay`, spread by jitter, never shorter
/// than the server's `Retry-After` nor than the identical-request floor.
pub fn transient_delay(
    config: &RetryConfig,
    attempt: u32,
    retry_after: Option<i64>,
    jitter_fraction: f64,
) -> i64 {
    let exponent = attempt.saturating_sub(1).min(30);
    let raw = config
        .base_delay
        .max(1)
        .saturating_mul(1_i64 << exponent)
        .min(config.max_delay.max(1));
    let fraction = if jitter_fraction.is_finite() {
        jitter_fraction.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let spread = config.jitter.clamp(0.0, 1.0) * (2.0 * fraction - 1.0);
    // `raw` is at most `max_delay`, far below 2^52, so the float round trip is exact enough.
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let jittered = (raw as f64 * (1.0 + spread)).round() as i64;
    let server = retry_after
        .unwrap_or(0)
        .clamp(0, config.max_retry_after.max(0));
    jittered
        .max(server)
        .max(config.identical_request_floor.max(0))
}

/// Remembers the last failing request so it is not sent again too soon.
///
/// `fingerprint` identifies the request (e.g. a hash of the refresh token,
/// client id and scope): the caller computes it, so no secret is kept here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedRequest {
    /// Identifies the request that failed.
    pub fingerprint: String,
    /// When it failed.
    pub failed_at: UnixTime,
}

impl FailedRequest {
    /// The earliest time the request with `fingerprint` may be sent again,
    /// or `None` when it may be sent now.
    pub fn blocks_until(
        &self,
        config: &RetryConfig,
        fingerprint: &str,
        now: UnixTime,
    ) -> Option<UnixTime> {
        let until = self
            .failed_at
            .saturating_add(config.identical_request_floor);
        (self.fingerprint == fingerprint && now < until).then_some(until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixTime = 1_700_000_000;

    fn cfg() -> RetryConfig {
        RetryConfig::default()
    }

    #[test]
    fn transient_backoff_doubles_and_caps() {
        let c = RetryConfig {
            jitter: 0.0,
            ..cfg()
        };
        let delays: Vec<i64> = (1..=8).map(|n| transient_delay(&c, n, None, 0.5)).collect();
        assert_eq!(delays, vec![60, 120, 240, 480, 960, 1920, 3600, 3600]);
        // Enormous attempt numbers do not overflow.
        assert_eq!(transient_delay(&c, u32::MAX, None, 0.5), 3600);
    }

    #[test]
    fn jitter_spreads_within_bounds_but_never_below_the_floor() {
        let c = cfg();
        let low = transient_delay(&c, 4, None, 0.0);
        let mid = transient_delay(&c, 4, None, 0.5);
        let high = transient_delay(&c, 4, None, 0.999_999);
        assert_eq!(mid, 480);
        assert_eq!(low, 384);
        assert_eq!(high, 576);
        // First attempt with the lowest jitter would be 48 s: floor keeps 60 s.
        assert_eq!(transient_delay(&c, 1, None, 0.0), 60);
        // Nonsense jitter input does not panic or escape the bounds.
        let nan = transient_delay(&c, 4, None, f64::NAN);
        assert_eq!(nan, 480);
        assert_eq!(transient_delay(&c, 4, None, 7.0), 576);
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let c = RetryConfig {
            jitter: 0.0,
            ..cfg()
        };
        assert_eq!(transient_delay(&c, 1, Some(900), 0.5), 900);
        // A shorter Retry-After does not shorten our own backoff.
        assert_eq!(transient_delay(&c, 3, Some(5), 0.5), 240);
        // A negative or absurd Retry-After is clamped.
        assert_eq!(transient_delay(&c, 1, Some(-50), 0.5), 60);
        assert_eq!(
            transient_delay(&c, 1, Some(i64::MAX), 0.5),
            c.max_retry_after
        );
    }

    #[test]
    fn transient_failures_never_stop_retrying() {
        let mut streak = Streak::default();
        for _ in 0..200 {
            match decide(
                &cfg(),
                FailureClass::Transient { retry_after: None },
                streak,
                NOW,
                0.3,
            ) {
                Decision::RetryAt {
                    at,
                    streak: s,
                    last_chance,
                } => {
                    assert!(at >= NOW + 60);
                    assert!(!last_chance);
                    streak = s;
                }
                other => panic!("transient failure stopped retries: {other:?}"),
            }
        }
        assert_eq!(streak.transient, 200);
    }

    #[test]
    fn reconnect_class_is_retried_exactly_once() {
        let first = decide(
            &cfg(),
            FailureClass::ReconnectNeeded,
            Streak::default(),
            NOW,
            0.5,
        );
        let Decision::RetryAt {
            at,
            streak,
            last_chance,
        } = first
        else {
            panic!("first reconnect-class failure should be retried: {first:?}");
        };
        assert!(last_chance);
        assert_eq!(
            at,
            NOW + 60,
            "the retry respects the identical-request floor"
        );
        let second = decide(&cfg(), FailureClass::ReconnectNeeded, streak, at, 0.5);
        assert_eq!(second, Decision::ReconnectNeeded);
    }

    #[test]
    fn transient_failures_between_do_not_grant_another_retry() {
        let streak = Streak {
            transient: 3,
            reconnect: 1,
            network: None,
        };
        assert_eq!(
            decide(&cfg(), FailureClass::ReconnectNeeded, streak, NOW, 0.5),
            Decision::ReconnectNeeded
        );
    }

    #[test]
    fn admin_and_developer_failures_are_never_retried() {
        assert_eq!(
            decide(
                &cfg(),
                FailureClass::NeedsAdmin,
                Streak::default(),
                NOW,
                0.5
            ),
            Decision::NeedsAdmin
        );
        assert_eq!(
            decide(
                &cfg(),
                FailureClass::AppMisconfigured,
                Streak::default(),
                NOW,
                0.5
            ),
            Decision::AppMisconfigured
        );
    }

    #[test]
    fn a_network_run_counts_network_trouble_and_ends_on_anything_else() {
        let one = NetworkRun::after(None, Category::Network, NOW);
        assert_eq!(
            one,
            Some(NetworkRun {
                since: NOW,
                last: NOW,
                attempts: 1
            })
        );
        let two = NetworkRun::after(one, Category::Network, NOW + 4000);
        let two = two.expect("still a run");
        assert_eq!((two.since, two.last, two.attempts), (NOW, NOW + 4000, 2));
        assert!(!two.lasting(&cfg()), "an hour, but two attempts");
        let three = NetworkRun::after(Some(two), Category::Network, NOW + 4100).unwrap();
        assert!(three.lasting(&cfg()));
        assert_eq!(NetworkRun::after(Some(three), Category::Service, NOW), None);
        let quick = NetworkRun {
            since: NOW,
            last: NOW + 3599,
            attempts: 10,
        };
        assert!(!quick.lasting(&cfg()), "many attempts, but under an hour");
    }

    #[test]
    fn identical_request_is_blocked_for_sixty_seconds() {
        let failed = FailedRequest {
            fingerprint: "fp-1".into(),
            failed_at: NOW,
        };
        assert_eq!(failed.blocks_until(&cfg(), "fp-1", NOW + 1), Some(NOW + 60));
        assert_eq!(
            failed.blocks_until(&cfg(), "fp-1", NOW + 59),
            Some(NOW + 60)
        );
        assert_eq!(failed.blocks_until(&cfg(), "fp-1", NOW + 60), None);
        // A different request (e.g. a rotated refresh token) is not blocked.
        assert_eq!(failed.blocks_until(&cfg(), "fp-2", NOW + 1), None);
    }

    fn class_of(body: &str, status: u16, retry_after: Option<&str>) -> FailureClass {
        let v = crate::decode::decode_token_response(
            &crate::decode::TokenResponse {
                status,
                retry_after,
                content_type: Some("application/json"),
                body: body.as_bytes(),
            },
            NOW,
        );
        FailureClass::from_verdict(&v)
    }

    fn entra(code: u32, suberror: Option<&str>) -> String {
        let sub = suberror
            .map(|s| format!(r#","suberror":"{s}""#))
            .unwrap_or_default();
        format!(
            r#"{{"error":"invalid_grant","error_description":"AADSTS{code}: failure.","error_codes":[{code}]{sub}}}"#
        )
    }

    #[test]
    fn verdicts_map_onto_the_policy_classes() {
        for code in [70008, 700082, 700084, 70043, 50173, 70000] {
            assert_eq!(
                class_of(&entra(code, None), 400, None),
                FailureClass::ReconnectNeeded,
                "AADSTS{code}"
            );
        }
        assert_eq!(
            class_of(&entra(50076, Some("basic_action")), 400, None),
            FailureClass::ReconnectNeeded
        );
        assert_eq!(
            class_of(&entra(53003, Some("message_only")), 400, None),
            FailureClass::NeedsAdmin
        );
        assert_eq!(
            class_of(&entra(50057, None), 400, None),
            FailureClass::NeedsAdmin
        );
        for code in [7000218, 9002326, 50011] {
            assert_eq!(
                class_of(&entra(code, None), 400, None),
                FailureClass::AppMisconfigured,
                "AADSTS{code}"
            );
        }
        assert_eq!(
            class_of("<html>busy</html>", 500, None),
            FailureClass::Transient { retry_after: None }
        );
        assert_eq!(
            class_of("{}", 429, Some("120")),
            FailureClass::Transient {
                retry_after: Some(120)
            }
        );
    }

    #[test]
    fn failure_class_serializes_with_a_tag() {
        let json = serde_json::to_string(&FailureClass::Transient {
            retry_after: Some(30),
        })
        .unwrap();
        assert_eq!(json, r#"{"class":"transient","retry_after":30}"#);
    }
}
