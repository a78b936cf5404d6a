//! Time, behind a trait.
//!
//! Every decision in Strata takes `now` from a [`Clock`]. [`Instant`] is our
//! own nanosecond timestamp (not `std::time::Instant`), so the decision half
//! of the crate builds for `wasm32-unknown-unknown`, and the simulator can
//! drive the very same code on virtual time with a [`ManualClock`].
//!
//! `SystemClock` (feature `engine`) is the only place that reads the real
//! monotonic clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A point in time: nanoseconds since the clock's epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The clock's epoch.
    pub const ZERO: Instant = Instant(0);
    /// A time later than any other; used for "never expires".
    pub const MAX: Instant = Instant(u64::MAX);

    /// An instant `nanos` nanoseconds after the epoch.
    #[must_use]
    pub const fn from_nanos(nanos: u64) -> Self {
        Instant(nanos)
    }

    /// Nanoseconds since the epoch.
    #[must_use]
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// `self + d`, saturating at [`Instant::MAX`].
    #[must_use]
    pub fn saturating_add(self, d: Duration) -> Self {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(nanos))
    }

    /// Time elapsed from `earlier` to `self` (zero if `earlier` is later).
    #[must_use]
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

/// A source of time.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Instant;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Instant {
        (**self).now()
    }
}

/// A clock advanced by hand: tests and the simulator.
///
/// Cloning shares the time (it is an `Arc` inside).
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at [`Instant::ZERO`].
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves time forward by `d`.
    pub fn advance(&self, d: Duration) {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::SeqCst);
    }

    /// Sets the time to `t`. Time may not go backwards: an earlier `t` is ignored.
    pub fn set(&self, t: Instant) {
        self.nanos.fetch_max(t.as_nanos(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        Instant(self.nanos.load(Ordering::SeqCst))
    }
}

/// The real monotonic clock; its epoch is the moment it was created.
#[cfg(feature = "engine")]
#[derive(Clone, Copy, Debug)]
pub struct SystemClock {
    start: std::time::Instant,
}

#[cfg(feature = "engine")]
impl SystemClock {
    /// A clock whose epoch is now.
    #[must_use]
    #[allow(clippy::disallowed_methods)] // the one place that reads the real clock
    pub fn new() -> Self {
        Self { start: std::time::Instant::now() }
    }
}

#[cfg(feature = "engine")]
impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "engine")]
impl Clock for SystemClock {
    fn now(&self) -> Instant {
        let nanos = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        Instant(nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_advances_and_never_goes_back() {
        let c = ManualClock::new();
        assert_eq!(c.now(), Instant::ZERO);
        c.advance(Duration::from_millis(5));
        assert_eq!(c.now().as_nanos(), 5_000_000);
        c.set(Instant::from_nanos(1));
        assert_eq!(c.now().as_nanos(), 5_000_000);
        let shared = c.clone();
        shared.advance(Duration::from_nanos(1));
        assert_eq!(c.now().as_nanos(), 5_000_001);
    }

    #[test]
    fn instant_arithmetic_saturates() {
        assert_eq!(Instant::MAX.saturating_add(Duration::from_secs(1)), Instant::MAX);
        let a = Instant::from_nanos(10);
        assert_eq!(a.saturating_duration_since(Instant::from_nanos(20)), Duration::ZERO);
    }
}
