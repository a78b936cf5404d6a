//! A circuit breaker for a tier that may fail (L2): sans-IO, clock-driven.
//!
//! ```text
//!            N consecutive failures              cool-down elapsed
//!   Closed ─────────────────────────▶ Open ─────────────────────────▶ HalfOpen
//!     ▲                                ▲                                 │
//!     │        probe succeeds          │        probe fails              │
//!     └────────────────────────────────┼─────────────────────────────────┤
//!                                      └─────────────────────────────────┘
//! ```
//!
//! - **Closed**: every call goes through; a success resets the failure count,
//!   a failure increments it; the `failures`-th consecutive failure opens the
//!   breaker.
//! - **Open**: calls are rejected at once (the caller treats the tier as a
//!   miss) until `cooldown` has passed since the breaker opened.
//! - **HalfOpen**: exactly one call (the probe) goes through; the others are
//!   rejected. The probe's success closes the breaker, its failure re-opens it
//!   for another cool-down. A probe whose outcome is never reported (its future
//!   was dropped) is given up after one more `cooldown`, and a new probe is let
//!   through.
//!
//! Each admitted call gets a [`Permit`] that the caller hands back with the
//! outcome. Outcomes of calls admitted before the breaker changed state (a
//! slow call that was in flight when the breaker opened) are ignored, so late
//! answers never flip the state.
//!
//! `failures == 0` disables the breaker: it never opens.

use std::time::Duration;

use crate::clock::Instant;

/// The state of a [`CircuitBreaker`], for stats and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are rejected until the cool-down has passed.
    Open,
    /// The cool-down has passed: one probe call may go through.
    HalfOpen,
}

impl BreakerState {
    /// A short lower-case name (`"closed"`, `"open"`, `"half-open"`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half-open",
        }
    }
}

impl std::fmt::Display for BreakerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Permission to make one call, returned by [`CircuitBreaker::try_acquire`];
/// hand it back to [`CircuitBreaker::on_success`] or
/// [`CircuitBreaker::on_failure`].
#[derive(Debug, PartialEq, Eq)]
#[must_use = "report the call's outcome with on_success / on_failure"]
pub struct Permit {
    /// The breaker's epoch when the call was admitted.
    epoch: u64,
    /// Whether this call is the half-open probe.
    probe: bool,
}

impl Permit {
    /// Whether this call is the half-open probe.
    #[must_use]
    pub fn is_probe(&self) -> bool {
        self.probe
    }
}

/// Why [`CircuitBreaker::try_acquire`] refused a call. Also the error the
/// L2 tier wraps when it skips a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("circuit breaker {state}: call skipped, next attempt in {retry_after:?}")]
pub struct Rejected {
    /// The state that refused it ([`BreakerState::Open`], or
    /// [`BreakerState::HalfOpen`] while the probe is in flight).
    pub state: BreakerState,
    /// How long until a call may be admitted again (at the earliest).
    pub retry_after: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Counting consecutive failures.
    Closed { failures: u32 },
    /// Rejecting until `until`.
    Open { until: Instant },
    /// The probe was admitted at `since`; others are rejected until it
    /// reports or `since + cooldown` passes.
    Probing { since: Instant },
}

/// The circuit breaker. See the module docs.
#[derive(Clone, Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    cooldown: Duration,
    phase: Phase,
    /// Bumped on every state change; permits from older epochs are stale.
    epoch: u64,
    /// How many times the breaker has opened (for stats).
    trips: u64,
}

impl CircuitBreaker {
    /// A closed breaker that opens after `failures` consecutive failures
    /// (0: never) and stays open for `cooldown`.
    #[must_use]
    pub fn new(failures: u32, cooldown: Duration) -> Self {
        Self { threshold: failures, cooldown, phase: Phase::Closed { failures: 0 }, epoch: 0, trips: 0 }
    }

    /// The state at `now`: an open breaker whose cool-down has passed is
    /// [`BreakerState::HalfOpen`].
    #[must_use]
    pub fn state(&self, now: Instant) -> BreakerState {
        match self.phase {
            Phase::Closed { .. } => BreakerState::Closed,
            Phase::Open { until } if now < until => BreakerState::Open,
            Phase::Open { .. } | Phase::Probing { .. } => BreakerState::HalfOpen,
        }
    }

    /// Consecutive failures counted while closed.
    #[must_use]
    pub fn consecutive_failures(&self) -> u32 {
        match self.phase {
            Phase::Closed { failures } => failures,
            Phase::Open { .. } | Phase::Probing { .. } => self.threshold,
        }
    }

    /// How many times the breaker has opened (re-opening after a failed
    /// probe counts).
    #[must_use]
    pub fn trips(&self) -> u64 {
        self.trips
    }

    /// Asks to make a call at `now`.
    ///
    /// # Errors
    /// [`Rejected`] while open, and while half-open with the probe in flight.
    pub fn try_acquire(&mut self, now: Instant) -> Result<Permit, Rejected> {
        match self.phase {
            Phase::Closed { .. } => Ok(Permit { epoch: self.epoch, probe: false }),
            Phase::Open { until } if now < until => {
                Err(Rejected { state: BreakerState::Open, retry_after: until.saturating_duration_since(now) })
            }
            Phase::Probing { since } if now < since.saturating_add(self.cooldown) => Err(Rejected {
                state: BreakerState::HalfOpen,
                retry_after: since.saturating_add(self.cooldown).saturating_duration_since(now),
            }),
            // Cool-down over, or the previous probe never reported: a new probe.
            Phase::Open { .. } | Phase::Probing { .. } => {
                self.transition(Phase::Probing { since: now });
                Ok(Permit { epoch: self.epoch, probe: true })
            }
        }
    }

    /// The call admitted by `permit` succeeded.
    pub fn on_success(&mut self, permit: Permit, now: Instant) {
        let _ = now;
        if permit.epoch != self.epoch {
            return;
        }
        match self.phase {
            Phase::Closed { .. } => self.phase = Phase::Closed { failures: 0 },
            Phase::Probing { .. } if permit.probe => self.transition(Phase::Closed { failures: 0 }),
            Phase::Probing { .. } | Phase::Open { .. } => {}
        }
    }

    /// The call admitted by `permit` failed (error or timeout) at `now`.
    pub fn on_failure(&mut self, permit: Permit, now: Instant) {
        if permit.epoch != self.epoch {
            return;
        }
        match self.phase {
            Phase::Closed { failures } => {
                let failures = failures.saturating_add(1);
                if self.threshold != 0 && failures >= self.threshold {
                    self.open(now);
                } else {
                    self.phase = Phase::Closed { failures };
                }
            }
            Phase::Probing { .. } if permit.probe => self.open(now),
            Phase::Probing { .. } | Phase::Open { .. } => {}
        }
    }

    fn open(&mut self, now: Instant) {
        self.trips += 1;
        self.transition(Phase::Open { until: now.saturating_add(self.cooldown) });
    }

    fn transition(&mut self, phase: Phase) {
        self.phase = phase;
        self.epoch = self.epoch.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOL: Duration = Duration::from_millis(1000);

    fn at(ms: u64) -> Instant {
        Instant::from_nanos(ms * 1_000_000)
    }

    fn fail(b: &mut CircuitBreaker, now: Instant) {
        let p = b.try_acquire(now).expect("admitted");
        b.on_failure(p, now);
    }

    fn succeed(b: &mut CircuitBreaker, now: Instant) {
        let p = b.try_acquire(now).expect("admitted");
        b.on_success(p, now);
    }

    #[test]
    fn opens_after_n_consecutive_failures_only() {
        let mut b = CircuitBreaker::new(3, COOL);
        fail(&mut b, at(0));
        fail(&mut b, at(1));
        succeed(&mut b, at(2)); // resets the count
        fail(&mut b, at(3));
        fail(&mut b, at(4));
        assert_eq!(b.state(at(4)), BreakerState::Closed);
        assert_eq!(b.consecutive_failures(), 2);
        fail(&mut b, at(5));
        assert_eq!(b.state(at(5)), BreakerState::Open);
        assert_eq!(b.trips(), 1);
        let r = b.try_acquire(at(105)).unwrap_err();
        assert_eq!(r, Rejected { state: BreakerState::Open, retry_after: Duration::from_millis(900) });
    }

    #[test]
    fn half_open_admits_one_probe_and_success_closes() {
        let mut b = CircuitBreaker::new(1, COOL);
        fail(&mut b, at(0));
        assert!(b.try_acquire(at(999)).is_err());
        assert_eq!(b.state(at(1000)), BreakerState::HalfOpen);
        let probe = b.try_acquire(at(1000)).expect("probe");
        assert!(probe.is_probe());
        let other = b.try_acquire(at(1001)).unwrap_err();
        assert_eq!(other.state, BreakerState::HalfOpen);
        b.on_success(probe, at(1002));
        assert_eq!(b.state(at(1002)), BreakerState::Closed);
        let p = b.try_acquire(at(1003)).expect("closed admits");
        assert!(!p.is_probe());
        b.on_success(p, at(1003));
    }

    #[test]
    fn failed_probe_reopens_for_a_full_cooldown() {
        let mut b = CircuitBreaker::new(2, COOL);
        fail(&mut b, at(0));
        fail(&mut b, at(0));
        let probe = b.try_acquire(at(1500)).expect("probe");
        b.on_failure(probe, at(1600));
        assert_eq!(b.state(at(1600)), BreakerState::Open);
        assert_eq!(b.trips(), 2);
        assert!(b.try_acquire(at(2599)).is_err());
        assert!(b.try_acquire(at(2600)).expect("next probe").is_probe());
    }

    #[test]
    fn stale_outcomes_are_ignored() {
        let mut b = CircuitBreaker::new(2, COOL);
        let slow = b.try_acquire(at(0)).expect("admitted");
        fail(&mut b, at(1));
        fail(&mut b, at(2));
        assert_eq!(b.state(at(2)), BreakerState::Open);
        // A call admitted while closed answers after the breaker opened.
        b.on_success(slow, at(3));
        assert_eq!(b.state(at(3)), BreakerState::Open);
        // A closed-era failure arriving during the probe does not re-open it.
        let slow2 = Permit { epoch: 0, probe: false };
        let probe = b.try_acquire(at(1002)).expect("probe");
        b.on_failure(slow2, at(1003));
        assert_eq!(b.state(at(1003)), BreakerState::HalfOpen);
        b.on_success(probe, at(1004));
        assert_eq!(b.state(at(1004)), BreakerState::Closed);
        assert_eq!(b.consecutive_failures(), 0);
    }

    #[test]
    fn lost_probe_is_replaced_after_a_cooldown() {
        let mut b = CircuitBreaker::new(1, COOL);
        fail(&mut b, at(0));
        let lost = b.try_acquire(at(1000)).expect("probe");
        assert!(b.try_acquire(at(1999)).is_err());
        let second = b.try_acquire(at(2000)).expect("replacement probe");
        assert!(second.is_probe());
        // The lost probe finally reports: stale, ignored.
        b.on_success(lost, at(2001));
        assert_eq!(b.state(at(2001)), BreakerState::HalfOpen);
        b.on_failure(second, at(2002));
        assert_eq!(b.state(at(2002)), BreakerState::Open);
    }

    #[test]
    fn zero_threshold_never_opens() {
        let mut b = CircuitBreaker::new(0, COOL);
        for i in 0..100 {
            fail(&mut b, at(i));
        }
        assert_eq!(b.state(at(100)), BreakerState::Closed);
        assert_eq!(b.trips(), 0);
    }

    #[test]
    fn zero_cooldown_probes_immediately() {
        let mut b = CircuitBreaker::new(1, Duration::ZERO);
        fail(&mut b, at(5));
        assert_eq!(b.state(at(5)), BreakerState::HalfOpen);
        assert!(b.try_acquire(at(5)).expect("probe").is_probe());
    }

    /// Model check: drive the breaker with a random sequence of acquires and
    /// outcomes (outcomes reported in random order) and compare with a plain
    /// re-statement of the rules.
    mod model {
        use super::*;
        use proptest::prelude::*;

        #[derive(Clone, Debug)]
        enum Op {
            Acquire,
            Report { which: usize, ok: bool },
            Advance(u64),
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                3 => Just(Op::Acquire),
                3 => (0usize..8, any::<bool>()).prop_map(|(which, ok)| Op::Report { which, ok }),
                2 => (0u64..700).prop_map(Op::Advance),
            ]
        }

        /// The model: state + failures + who is the current probe.
        #[derive(Debug)]
        struct Model {
            closed_failures: Option<u32>,
            open_until: Option<u64>,
            probe: Option<(u64, u64)>, // (probe id, admitted at)
            generation: u64,
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, rng_seed: proptest::test_runner::RngSeed::Fixed(7), ..ProptestConfig::default() })]
            #[test]
            fn matches_model(threshold in 1u32..4, ops in proptest::collection::vec(op(), 1..200)) {
                let cool = 500u64;
                let mut b = CircuitBreaker::new(threshold, Duration::from_millis(cool));
                let mut m = Model { closed_failures: Some(0), open_until: None, probe: None, generation: 0 };
                let mut now = 0u64;
                // In-flight calls: (permit, generation admitted in, is probe, id).
                let mut inflight: Vec<(Permit, u64, u64)> = Vec::new();
                let mut next_id = 0u64;
                for op in ops {
                    match op {
                        Op::Advance(ms) => now += ms,
                        Op::Acquire => {
                            let got = b.try_acquire(at(now));
                            let expect_admit = if m.closed_failures.is_some() {
                                Some(false)
                            } else if let Some(until) = m.open_until {
                                (now >= until).then_some(true)
                            } else if let Some((_, since)) = m.probe {
                                (now >= since + cool).then_some(true)
                            } else {
                                unreachable!()
                            };
                            match (got, expect_admit) {
                                (Ok(p), Some(probe)) => {
                                    prop_assert_eq!(p.is_probe(), probe);
                                    if probe {
                                        m.generation += 1;
                                        m.open_until = None;
                                        m.probe = Some((next_id, now));
                                    }
                                    inflight.push((p, m.generation, next_id));
                                    next_id += 1;
                                }
                                (Err(_), None) => {}
                                (got, want) => prop_assert!(false, "acquire at {now}: got {got:?}, want {want:?}"),
                            }
                        }
                        Op::Report { which, ok } => {
                            if inflight.is_empty() { continue; }
                            let (permit, generation, id) = inflight.remove(which % inflight.len());
                            if ok { b.on_success(permit, at(now)); } else { b.on_failure(permit, at(now)); }
                            if generation == m.generation {
                                if let Some(f) = m.closed_failures {
                                    if ok {
                                        m.closed_failures = Some(0);
                                    } else if f + 1 >= threshold {
                                        m.closed_failures = None;
                                        m.open_until = Some(now + cool);
                                        m.generation += 1;
                                    } else {
                                        m.closed_failures = Some(f + 1);
                                    }
                                } else if m.probe.is_some_and(|(pid, _)| pid == id) {
                                    m.probe = None;
                                    m.generation += 1;
                                    if ok {
                                        m.closed_failures = Some(0);
                                    } else {
                                        m.open_until = Some(now + cool);
                                    }
                                }
                            }
                        }
                    }
                    let want = if m.closed_failures.is_some() {
                        BreakerState::Closed
                    } else if m.open_until.is_some_and(|u| now < u) {
                        BreakerState::Open
                    } else {
                        BreakerState::HalfOpen
                    };
                    prop_assert_eq!(b.state(at(now)), want);
                }
            }
        }
    }
}
