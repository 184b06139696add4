//! Where the engine's "now" comes from.
//!
//! Everything the engine decides is a function of Unix seconds read from a
//! [`Clock`], so tests can drive time: [`ManualClock`] is set by hand, and
//! [`OffsetClock`] follows the system clock shifted by a fixed amount (used to
//! line the engine up with the simulator's virtual clock).
//!
//! [`JumpDetector`] notices when the wall clock moved differently from the
//! monotonic clock — the machine slept, or somebody changed the time — so the
//! scheduler can run overdue work at once.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reconnect_core::tokens::UnixTime;

/// A source of wall-clock time in Unix seconds.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> UnixTime;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        system_now()
    }
}

fn system_now() -> UnixTime {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The system clock shifted by an adjustable number of seconds.
#[derive(Debug, Clone, Default)]
pub struct OffsetClock {
    offset: Arc<AtomicI64>,
}

impl OffsetClock {
    /// A clock `offset` seconds ahead of the system clock.
    pub fn new(offset: i64) -> Self {
        Self {
            offset: Arc::new(AtomicI64::new(offset)),
        }
    }

    /// Moves the clock forward (or back, with a negative value).
    pub fn advance(&self, seconds: i64) {
        self.offset.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> UnixTime {
        system_now().saturating_add(self.offset.load(Ordering::SeqCst))
    }
}

/// A clock that only moves when told to. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock standing at `now`.
    pub fn new(now: UnixTime) -> Self {
        Self {
            now: Arc::new(AtomicI64::new(now)),
        }
    }

    /// Sets the time.
    pub fn set(&self, now: UnixTime) {
        self.now.store(now, Ordering::SeqCst);
    }

    /// Moves the time forward.
    pub fn advance(&self, seconds: i64) {
        self.now.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        self.now.load(Ordering::SeqCst)
    }
}

/// Detects wall-clock jumps (sleep/wake, manual time changes) by comparing
/// the wall clock's progress with the monotonic clock's.
#[derive(Debug)]
pub struct JumpDetector {
    wall: UnixTime,
    mono: Instant,
    tolerance: Duration,
}

impl JumpDetector {
    /// Starts watching from `wall` (read from the engine's clock).
    pub fn new(wall: UnixTime, tolerance: Duration) -> Self {
        Self {
            wall,
            mono: Instant::now(),
            tolerance,
        }
    }

    /// Records a new reading; returns the size of the jump in seconds when
    /// the wall clock moved more than `tolerance` away from the monotonic one.
    /// (A suspended machine's monotonic clock stops while the wall clock runs on.)
    pub fn check(&mut self, wall: UnixTime) -> Option<i64> {
        let mono_now = Instant::now();
        let mono_elapsed =
            i64::try_from(mono_now.duration_since(self.mono).as_secs()).unwrap_or(i64::MAX);
        let wall_elapsed = wall.saturating_sub(self.wall);
        self.wall = wall;
        self.mono = mono_now;
        let drift = wall_elapsed.saturating_sub(mono_elapsed);
        let tolerance = i64::try_from(self.tolerance.as_secs()).unwrap_or(i64::MAX);
        (drift.abs() > tolerance).then_some(drift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_is_shared_between_clones() {
        let a = ManualClock::new(100);
        let b = a.clone();
        a.advance(50);
        assert_eq!(b.now(), 150);
        b.set(7);
        assert_eq!(a.now(), 7);
    }

    #[test]
    fn offset_clock_follows_the_system_clock() {
        let clock = OffsetClock::new(3600);
        let diff = clock.now() - SystemClock.now();
        assert!((3599..=3601).contains(&diff), "{diff}");
        clock.advance(-7200);
        let diff = clock.now() - SystemClock.now();
        assert!((-3601..=-3599).contains(&diff), "{diff}");
    }

    #[test]
    fn a_wall_clock_jump_is_detected_and_normal_time_is_not() {
        let clock = ManualClock::new(1_000);
        let mut detector = JumpDetector::new(clock.now(), Duration::from_secs(30));
        assert_eq!(detector.check(clock.now()), None);
        clock.advance(5);
        assert_eq!(
            detector.check(clock.now()),
            None,
            "small drift is tolerated"
        );
        clock.advance(8 * 3600);
        assert_eq!(detector.check(clock.now()), Some(8 * 3600));
        clock.advance(-600);
        assert_eq!(detector.check(clock.now()), Some(-600));
    }
}
