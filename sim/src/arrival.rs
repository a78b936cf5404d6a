//! Arrival times and routing: when each request reaches the system and
//! which instance serves it.

use rand::RngExt;

use crate::config::{Arrival, Routing, SimConfig};
use crate::rng::{SimRng, Stream, stream_rng};

/// Turns trace timestamps (or request indices) into virtual arrival times,
/// starting at 0 and never going backwards.
#[derive(Debug, Clone)]
pub struct Arrivals {
    mode: Arrival,
    /// Nanoseconds between two requests in rate mode.
    period_ns: f64,
    first: Option<u64>,
    last: u64,
    index: u64,
}

impl Arrivals {
    /// Arrivals in `mode`.
    #[must_use]
    pub fn new(mode: Arrival) -> Self {
        let period_ns = match mode {
            Arrival::Rate { per_sec } => 1e9 / per_sec,
            Arrival::Trace { .. } => 0.0,
        };
        Self { mode, period_ns, first: None, last: 0, index: 0 }
    }

    /// The arrival time (ns) of the next request, whose trace timestamp is
    /// `trace_ns`. Out-of-order timestamps arrive with the previous request.
    /// A time past `u64::MAX` ns is clamped to it; [`crate::SimConfig::validate`]
    /// bounds `time_scale` and `per_sec` so that only a trace spanning months
    /// (scaled) or hundreds of millions of requests (at the lowest rate) could
    /// get there.
    #[inline]
    pub fn next(&mut self, trace_ns: u64) -> u64 {
        let t = match self.mode {
            Arrival::Trace { time_scale } => {
                let first = *self.first.get_or_insert(trace_ns);
                let rel = trace_ns.saturating_sub(first);
                if time_scale == 1.0 { rel } else { (rel as f64 * time_scale) as u64 }
            }
            Arrival::Rate { .. } => (self.index as f64 * self.period_ns) as u64,
        };
        self.index += 1;
        self.last = self.last.max(t);
        self.last
    }
}

/// Chooses the instance of each request.
#[derive(Debug, Clone)]
pub struct Router {
    routing: Routing,
    n: u32,
    next: u32,
    rng: SimRng,
}

impl Router {
    /// A router over `n` instances (at least 1).
    #[must_use]
    pub fn new(routing: Routing, n: u32, rng: SimRng) -> Self {
        Self { routing, n: n.max(1), next: 0, rng }
    }

    /// The router of a simulation with settings `sim`: its routing over
    /// its instances, drawing (random routing) from its seed's routing
    /// stream. The full replay, the fast loop and `strata fleet`'s engine
    /// replay route with it, so they send each request to one instance.
    #[must_use]
    pub fn for_sim(sim: &SimConfig) -> Self {
        Self::new(sim.routing, sim.instances, stream_rng(sim.seed, Stream::Routing, 0))
    }

    /// The instance for a request with key hash `hash`.
    #[inline]
    pub fn route(&mut self, hash: u64) -> usize {
        if self.n == 1 {
            return 0;
        }
        let i = match self.routing {
            Routing::RoundRobin => {
                let i = self.next;
                self.next = if i + 1 == self.n { 0 } else { i + 1 };
                i
            }
            Routing::Random => self.rng.random_range(0..self.n),
            Routing::KeyHash => {
                // Mix first: the L1 tables index by the hash's low bits.
                let m = hash.rotate_left(29).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                ((u128::from(m) * u128::from(self.n)) >> 64) as u32
            }
        };
        i as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream_rng};

    #[test]
    fn trace_times_are_relative_scaled_and_monotone() {
        let mut a = Arrivals::new(Arrival::Trace { time_scale: 0.5 });
        assert_eq!(a.next(1_000), 0);
        assert_eq!(a.next(3_000), 1_000);
        assert_eq!(a.next(2_000), 1_000, "never backwards");
        let mut r = Arrivals::new(Arrival::Rate { per_sec: 1000.0 });
        assert_eq!((r.next(99), r.next(0), r.next(0)), (0, 1_000_000, 2_000_000));
    }

    #[test]
    fn routing_modes() {
        let rng = || stream_rng(1, Stream::Routing, 0);
        let mut rr = Router::new(Routing::RoundRobin, 3, rng());
        assert_eq!((0..5).map(|_| rr.route(0)).collect::<Vec<_>>(), vec![0, 1, 2, 0, 1]);
        let mut kh = Router::new(Routing::KeyHash, 4, rng());
        let h = strata_core::l1::hash_key(&77u64);
        let first = kh.route(h);
        assert!((0..10).all(|_| kh.route(h) == first));
        let mut counts = [0u32; 4];
        for k in 0..4000u64 {
            counts[kh.route(strata_core::l1::hash_key(&k))] += 1;
        }
        assert!(counts.iter().all(|&c| c > 800), "{counts:?}");
        let mut rnd = Router::new(Routing::Random, 4, rng());
        let mut seen = [false; 4];
        for _ in 0..100 {
            seen[rnd.route(0)] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
