//! The expiry forecast: when a connection dies if nobody touches it, why,
//! whether a keep-alive refresh can prevent it, and when that keep-alive
//! should run.
//!
//! A Microsoft refresh token dies in one of three known ways:
//! - **idle**: unused for the idle limit (90 days by default, policies can
//!   shorten it). Every refresh resets the clock, so a keep-alive prevents it;
//! - **single-page app lifetime**: tokens issued to an SPA live a fixed 24 h
//!   from the interactive sign-in, however often they are used;
//! - **sign-in frequency**: a Conditional Access policy forces a new sign-in
//!   after a fixed span, learned from earlier `70043` failures.
//!
//! Pure: facts and "now" go in, a [`Forecast`] comes out.

use serde::{Deserialize, Serialize};

use crate::tokens::UnixTime;

/// One day in seconds.
pub const DAY: i64 = 24 * 60 * 60;

/// Non-secret facts about an account's refresh token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshTokenFacts {
    /// When the chain of refresh tokens began (the interactive sign-in or import).
    pub first_issued_at: Option<UnixTime>,
    /// When a refresh token was last redeemed successfully.
    pub last_used_at: Option<UnixTime>,
    /// Whether the tokens were issued to a single-page-app registration.
    pub spa: bool,
}

/// The lifetimes that apply to an account. Seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifetimes {
    /// A refresh token unused this long is dead.
    pub idle_limit: i64,
    /// A single-page app's refresh tokens die this long after sign-in.
    pub spa_lifetime: i64,
    /// A Conditional Access sign-in frequency, when one is known.
    pub sign_in_frequency: Option<i64>,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            idle_limit: 90 * DAY,
            spa_lifetime: DAY,
            sign_in_frequency: None,
        }
    }
}

impl Lifetimes {
    /// These lifetimes with what an account's own failures revealed
    /// (see [`learn_lifetime`]). A learned span is an upper bound taken
    /// from a real failure, so it can only shorten a lifetime: a learned idle
    /// limit replaces this one when it is shorter, and a learned sign-in
    /// frequency applies unless a shorter one is already known. Nonsense
    /// (zero or negative) is ignored.
    pub fn with_learned(self, idle_limit: Option<i64>, sign_in_frequency: Option<i64>) -> Self {
        let idle = idle_limit.filter(|s| *s > 0);
        let frequency = sign_in_frequency.filter(|s| *s > 0);
        Self {
            idle_limit: idle.map_or(self.idle_limit, |s| s.min(self.idle_limit)),
            spa_lifetime: self.spa_lifetime,
            sign_in_frequency: match (self.sign_in_frequency, frequency) {
                (Some(known), Some(learned)) => Some(known.min(learned)),
                (known, learned) => learned.or(known),
            },
        }
    }
}

/// Tunables of the forecast. Seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForecastConfig {
    /// Run a keep-alive refresh once the token has been idle this long. It is
    /// capped at a third of the idle limit, so even a short idle policy gets
    /// two more chances before the deadline.
    pub keep_alive_after: i64,
    /// Show "expiring soon" when the connection dies within this window.
    pub expiring_window: i64,
}

impl Default for ForecastConfig {
    fn default() -> Self {
        Self {
            keep_alive_after: 7 * DAY,
            expiring_window: 3 * DAY,
        }
    }
}

/// Why a connection would die.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Unused for the idle limit.
    Idle,
    /// The fixed lifetime of a single-page app's tokens.
    SpaLifetime,
    /// A Conditional Access sign-in frequency.
    SignInFrequency,
}

impl Cause {
    /// Whether a keep-alive refresh pushes this deadline back.
    pub fn preventable(self) -> bool {
        matches!(self, Cause::Idle)
    }
}

/// The forecast for one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forecast {
    /// When the connection dies if left untouched (None: nothing known).
    pub dies_at: Option<UnixTime>,
    /// Why it dies then.
    pub cause: Option<Cause>,
    /// The first deadline that no refresh can push back, if any.
    pub hard_deadline: Option<UnixTime>,
    /// When the next keep-alive refresh should run.
    pub keep_alive_at: Option<UnixTime>,
    /// Set when the connection is close to a deadline: the health shows
    /// "expiring soon" with this time.
    pub expiring_deadline: Option<UnixTime>,
}

/// Forecasts an account's expiry at `now`.
pub fn forecast(
    facts: &RefreshTokenFacts,
    lifetimes: &Lifetimes,
    config: &ForecastConfig,
    now: UnixTime,
) -> Forecast {
    let last_activity = facts.last_used_at.or(facts.first_issued_at);
    let idle_deadline = last_activity.map(|t| t.saturating_add(lifetimes.idle_limit.max(0)));

    let mut hard: Option<(UnixTime, Cause)> = None;
    if let Some(issued) = facts.first_issued_at {
        if facts.spa {
            hard = earliest(
                hard,
                issued.saturating_add(lifetimes.spa_lifetime),
                Cause::SpaLifetime,
            );
        }
        if let Some(freq) = lifetimes.sign_in_frequency.filter(|f| *f > 0) {
            hard = earliest(hard, issued.saturating_add(freq), Cause::SignInFrequency);
        }
    }

    let mut first = hard;
    if let Some(idle) = idle_deadline {
        first = earliest(first, idle, Cause::Idle);
    }

    let keep_alive_at = last_activity.and_then(|t| {
        let after = config.keep_alive_after.min(lifetimes.idle_limit / 3).max(0);
        let at = t.saturating_add(after);
        // No point keeping alive a connection whose fixed lifetime ends first.
        match hard {
            Some((deadline, _)) if deadline <= at => None,
            _ => Some(at),
        }
    });

    // A fixed deadline is "soon" within the configured window; an idle one
    // only once it is closer than the keep-alive margin (a third of the idle
    // limit), i.e. when the keep-alive could not run in time.
    let hard_soon = hard
        .map(|(at, _)| at)
        .filter(|at| *at <= now.saturating_add(config.expiring_window.max(0)));
    let idle_window = config.expiring_window.min(lifetimes.idle_limit / 3).max(0);
    let idle_soon = idle_deadline.filter(|at| *at <= now.saturating_add(idle_window));
    let expiring_deadline = match (hard_soon, idle_soon) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };

    Forecast {
        dies_at: first.map(|(at, _)| at),
        cause: first.map(|(_, cause)| cause),
        hard_deadline: hard.map(|(at, _)| at),
        keep_alive_at,
        expiring_deadline,
    }
}

fn earliest(
    current: Option<(UnixTime, Cause)>,
    at: UnixTime,
    cause: Cause,
) -> Option<(UnixTime, Cause)> {
    match current {
        Some((t, c)) if t <= at => Some((t, c)),
        _ => Some((at, cause)),
    }
}

/// One past failure that reveals a lifetime (a `70043` for the sign-in
/// frequency, a `70008`/`700082` for the idle limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifetimeObservation {
    /// When the failing token chain began, if known.
    pub issued_at: Option<UnixTime>,
    /// When the failure happened.
    pub failed_at: UnixTime,
    /// The lifetime the server stated in its description, in seconds.
    pub stated_lifetime: Option<i64>,
}

/// Learns a lifetime from past failures: the server's stated figure when it
/// gave one, otherwise the observed span from issue to failure (an upper
/// bound). The shortest wins, to stay on the safe side. Nonsense (zero or
/// negative spans) is ignored.
pub fn learn_lifetime(observations: &[LifetimeObservation]) -> Option<i64> {
    observations
        .iter()
        .filter_map(|o| {
            o.stated_lifetime
                .or_else(|| o.issued_at.map(|issued| o.failed_at - issued))
        })
        .filter(|span| *span > 0)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixTime = 1_700_000_000;

    fn facts(issued_days_ago: i64, used_days_ago: i64) -> RefreshTokenFacts {
        RefreshTokenFacts {
            first_issued_at: Some(NOW - issued_days_ago * DAY),
            last_used_at: Some(NOW - used_days_ago * DAY),
            spa: false,
        }
    }

    #[test]
    fn idle_connection_dies_ninety_days_after_last_use() {
        let f = forecast(
            &facts(200, 10),
            &Lifetimes::default(),
            &ForecastConfig::default(),
            NOW,
        );
        assert_eq!(f.dies_at, Some(NOW + 80 * DAY));
        assert_eq!(f.cause, Some(Cause::Idle));
        assert_eq!(f.hard_deadline, None);
        assert_eq!(f.expiring_deadline, None);
        // Keep-alive was due 3 days ago (7 days after last use): overdue, run now.
        assert_eq!(f.keep_alive_at, Some(NOW - 3 * DAY));
    }

    #[test]
    fn keep_alive_runs_well_before_a_short_idle_limit() {
        let lifetimes = Lifetimes {
            idle_limit: 3 * 3600,
            ..Lifetimes::default()
        };
        let f = forecast(
            &RefreshTokenFacts {
                first_issued_at: Some(NOW),
                last_used_at: Some(NOW),
                spa: false,
            },
            &lifetimes,
            &ForecastConfig::default(),
            NOW,
        );
        assert_eq!(f.keep_alive_at, Some(NOW + 3600));
        assert_eq!(f.dies_at, Some(NOW + 3 * 3600));
        // Not "expiring soon" while the keep-alive still has time...
        assert_eq!(f.expiring_deadline, None);
        // ...but once the keep-alive was missed and the last hour begins, it is.
        let later = NOW + 2 * 3600 + 1;
        let f = forecast(
            &RefreshTokenFacts {
                first_issued_at: Some(NOW),
                last_used_at: Some(NOW),
                spa: false,
            },
            &lifetimes,
            &ForecastConfig::default(),
            later,
        );
        assert_eq!(f.expiring_deadline, Some(NOW + 3 * 3600));
    }

    #[test]
    fn an_idle_connection_within_three_days_of_its_limit_is_expiring_soon() {
        let f = forecast(
            &facts(100, 88),
            &Lifetimes::default(),
            &ForecastConfig::default(),
            NOW,
        );
        assert_eq!(f.expiring_deadline, Some(NOW + 2 * DAY));
    }

    #[test]
    fn spa_tokens_die_a_day_after_sign_in_whatever_the_use() {
        let facts = RefreshTokenFacts {
            first_issued_at: Some(NOW - 20 * 3600),
            last_used_at: Some(NOW - 60),
            spa: true,
        };
        let f = forecast(
            &facts,
            &Lifetimes::default(),
            &ForecastConfig::default(),
            NOW,
        );
        assert_eq!(f.dies_at, Some(NOW + 4 * 3600));
        assert_eq!(f.cause, Some(Cause::SpaLifetime));
        assert_eq!(f.hard_deadline, f.dies_at);
        assert_eq!(f.expiring_deadline, f.dies_at);
        assert_eq!(
            f.keep_alive_at, None,
            "keeping an SPA token alive cannot help"
        );
        assert!(!Cause::SpaLifetime.preventable());
    }

    #[test]
    fn learned_sign_in_frequency_sets_a_hard_deadline() {
        let lifetimes = Lifetimes {
            sign_in_frequency: Some(14 * DAY),
            ..Lifetimes::default()
        };
        let f = forecast(&facts(12, 0), &lifetimes, &ForecastConfig::default(), NOW);
        assert_eq!(f.dies_at, Some(NOW + 2 * DAY));
        assert_eq!(f.cause, Some(Cause::SignInFrequency));
        assert_eq!(f.expiring_deadline, Some(NOW + 2 * DAY));
        // Far from it, the account is not "expiring soon".
        let f = forecast(&facts(1, 0), &lifetimes, &ForecastConfig::default(), NOW);
        assert_eq!(f.cause, Some(Cause::SignInFrequency));
        assert_eq!(f.expiring_deadline, None);
        assert_eq!(f.keep_alive_at, Some(NOW + 7 * DAY));
    }

    #[test]
    fn learned_lifetimes_only_ever_shorten_the_defaults() {
        let defaults = Lifetimes::default();
        let learned = defaults.with_learned(Some(3 * DAY), Some(12 * 3600));
        assert_eq!(learned.idle_limit, 3 * DAY);
        assert_eq!(learned.sign_in_frequency, Some(12 * 3600));
        assert_eq!(learned.spa_lifetime, defaults.spa_lifetime);
        // An idle failure after 120 days says the limit is at most 120 days:
        // the 90-day default stays.
        assert_eq!(defaults.with_learned(Some(120 * DAY), None), defaults);
        // Nothing (or nonsense) learned changes nothing.
        assert_eq!(defaults.with_learned(None, None), defaults);
        assert_eq!(defaults.with_learned(Some(0), Some(-5)), defaults);
        // A configured sign-in frequency gives way to a shorter learned one only.
        let configured = Lifetimes {
            sign_in_frequency: Some(DAY),
            ..defaults
        };
        assert_eq!(
            configured
                .with_learned(None, Some(2 * DAY))
                .sign_in_frequency,
            Some(DAY)
        );
        assert_eq!(
            configured.with_learned(None, Some(3600)).sign_in_frequency,
            Some(3600)
        );
    }

    #[test]
    fn a_learned_idle_limit_moves_the_forecast() {
        let learned = Lifetimes::default().with_learned(Some(10 * DAY), None);
        let f = forecast(&facts(30, 2), &learned, &ForecastConfig::default(), NOW);
        assert_eq!(f.dies_at, Some(NOW + 8 * DAY));
        assert_eq!(f.cause, Some(Cause::Idle));
        let plain = forecast(
            &facts(30, 2),
            &Lifetimes::default(),
            &ForecastConfig::default(),
            NOW,
        );
        assert_eq!(plain.dies_at, Some(NOW + 88 * DAY));
    }

    #[test]
    fn nothing_known_forecasts_nothing() {
        let f = forecast(
            &RefreshTokenFacts::default(),
            &Lifetimes::default(),
            &ForecastConfig::default(),
            NOW,
        );
        assert_eq!(f.dies_at, None);
        assert_eq!(f.keep_alive_at, None);
        assert_eq!(f.expiring_deadline, None);
    }

    #[test]
    fn first_issue_stands_in_for_last_use() {
        let facts = RefreshTokenFacts {
            first_issued_at: Some(NOW - DAY),
            last_used_at: None,
            spa: false,
        };
        let f = forecast(
            &facts,
            &Lifetimes::default(),
            &ForecastConfig::default(),
            NOW,
        );
        assert_eq!(f.dies_at, Some(NOW + 89 * DAY));
    }

    #[test]
    fn sign_in_frequency_is_learned_from_past_failures() {
        let observed = [
            LifetimeObservation {
                issued_at: Some(NOW - 10 * DAY),
                failed_at: NOW,
                stated_lifetime: None,
            },
            LifetimeObservation {
                issued_at: Some(NOW - 30 * DAY),
                failed_at: NOW - 20 * DAY,
                stated_lifetime: Some(8 * DAY),
            },
            // Garbage does not win.
            LifetimeObservation {
                issued_at: Some(NOW),
                failed_at: NOW - 5,
                stated_lifetime: None,
            },
        ];
        assert_eq!(learn_lifetime(&observed), Some(8 * DAY));
        assert_eq!(learn_lifetime(&observed[..1]), Some(10 * DAY));
        assert_eq!(learn_lifetime(&[]), None);
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let facts = RefreshTokenFacts {
            first_issued_at: Some(i64::MAX - 5),
            last_used_at: Some(i64::MAX - 1),
            spa: true,
        };
        let lifetimes = Lifetimes {
            sign_in_frequency: Some(i64::MAX),
            ..Lifetimes::default()
        };
        let f = forecast(&facts, &lifetimes, &ForecastConfig::default(), i64::MAX);
        assert_eq!(f.dies_at, Some(i64::MAX));
    }
}
