//! When L3 fails: a request that enters service inside an outage, or one
//! drawn (seeded) at `failure_rate`, fails after its usual latency.

use rand::RngExt;

use crate::config::L3Sim;
use crate::rng::{SimRng, Stream, stream_rng};

/// The failure model of L3.
#[derive(Debug)]
pub struct L3Failures {
    rate: f64,
    /// `[start, end)` in virtual nanoseconds, as configured.
    outages: Vec<(u64, u64)>,
    rng: SimRng,
}

impl L3Failures {
    /// The model `cfg` describes, drawing under the master `seed`.
    #[must_use]
    pub fn new(cfg: &L3Sim, seed: u64) -> Self {
        Self {
            rate: cfg.failure_rate,
            outages: cfg.outages.iter().map(crate::config::Outage::span_ns).collect(),
            rng: stream_rng(seed, Stream::L3Failure, 0),
        }
    }

    /// Whether a request entering service at `now` fails. Draws only when
    /// a rate is set, so that runs without one see the same numbers.
    #[inline]
    pub fn fails(&mut self, now: u64) -> bool {
        if self.outages.iter().any(|&(start, end)| (start..end).contains(&now)) {
            return true;
        }
        self.rate > 0.0 && self.rng.random::<f64>() < self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Outage;

    #[test]
    fn outages_fail_everything_inside_them_and_the_rate_its_share() {
        let cfg = L3Sim { outages: vec![Outage { start_ms: 10, duration_ms: 5 }], ..L3Sim::default() };
        let mut f = L3Failures::new(&cfg, 1);
        let ms = |m: u64| m * 1_000_000;
        assert!(!f.fails(ms(10) - 1));
        assert!(f.fails(ms(10)));
        assert!(f.fails(ms(15) - 1));
        assert!(!f.fails(ms(15)));

        let mut f = L3Failures::new(&L3Sim { failure_rate: 0.25, ..L3Sim::default() }, 1);
        let failed = (0..100_000).filter(|_| f.fails(0)).count();
        assert!((24_000..26_000).contains(&failed), "{failed}");
        let mut never = L3Failures::new(&L3Sim::default(), 1);
        assert!((0..1000).all(|_| !never.fails(0)));
        let mut always = L3Failures::new(&L3Sim { failure_rate: 1.0, ..L3Sim::default() }, 1);
        assert!((0..1000).all(|_| always.fails(0)));
    }
}
