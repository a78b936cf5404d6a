//! SHARDS spatial sampling: a fixed subset of the keys, chosen by hash.

use strata_core::l1::hash_key;

use super::SampleRateError;

/// Keys are hashed into `[0, 2^53)` and those under `R × 2^53` kept, so the
/// share of keys kept is the rate asked for to within 2^-54, and the rate
/// reported and scaled by is the one asked for (`0.01`, not the
/// `0.0099999905` of SHARDS' 2^24 space).
pub(super) const SAMPLE_SPACE: u64 = 1 << 53;

/// The smallest sampling rate accepted.
pub(super) const MIN_RATE: f64 = 1.0 / (1u64 << 24) as f64;

/// Independent groups of sampled keys ([`KeySample::group`]).
pub(super) const GROUPS: usize = 16;

/// The keys whose hash falls under `rate × 2^53`: every request of a key
/// in the sample is kept, every request of another key dropped, so a
/// sampled trace is a miniature of the whole one at `rate` of its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySample {
    threshold: u64,
    /// The rate asked for, as `f64` bits.
    rate_bits: u64,
}

impl KeySample {
    /// Every key.
    #[must_use]
    pub fn all() -> Self {
        Self { threshold: SAMPLE_SPACE, rate_bits: 1f64.to_bits() }
    }

    /// A sample at `rate` (1 is every key).
    ///
    /// # Errors
    /// [`SampleRateError`] unless `2^-24 ≤ rate ≤ 1`.
    pub fn new(rate: f64) -> Result<Self, SampleRateError> {
        let threshold = (rate * SAMPLE_SPACE as f64).round();
        if !(MIN_RATE..=1.0).contains(&rate) {
            return Err(SampleRateError(rate));
        }
        Ok(Self { threshold: threshold as u64, rate_bits: rate.to_bits() })
    }

    /// The rate.
    #[must_use]
    pub fn rate(self) -> f64 {
        f64::from_bits(self.rate_bits)
    }

    /// Whether every key is in the sample.
    #[must_use]
    pub fn is_all(self) -> bool {
        self.threshold >= SAMPLE_SPACE
    }

    /// Whether `key` is in the sample.
    #[inline]
    #[must_use]
    pub fn contains(self, key: u64) -> bool {
        self.is_all() || (hash_key(&key) >> (64 - 53)) < self.threshold
    }

    /// Which of [`GROUPS`] groups `key` falls in: hash bits that sampling
    /// does not look at, so the sampled keys of each group are an
    /// independent sample at `rate / GROUPS`.
    #[inline]
    #[must_use]
    pub(super) fn group(key: u64) -> usize {
        (hash_key(&key) % GROUPS as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use strata_core::policy::eviction::EvictionConfig;

    use super::*;
    use crate::Unit;
    use crate::generate::{GenConfig, KeyDist};
    use crate::mrc::{simulate_curves, simulate_curves_sampled};
    use crate::trace::Request;

    #[test]
    fn rates_and_membership() {
        assert!(KeySample::all().is_all() && KeySample::new(1.0).unwrap().is_all());
        assert!(
            KeySample::new(0.0).is_err() && KeySample::new(1.5).is_err() && KeySample::new(f64::NAN).is_err()
        );
        let s = KeySample::new(0.25).unwrap();
        assert_eq!(s.rate(), 0.25);
        // a decimal rate is kept to within 2^-54, so 0.01 × 50,000 is 500
        assert_eq!(KeySample::new(0.01).unwrap().rate(), 0.01);
        assert_eq!(KeySample::new(0.01).unwrap().threshold, (0.01 * SAMPLE_SPACE as f64).round() as u64);
        assert!(KeySample::new(MIN_RATE).is_ok() && KeySample::new(MIN_RATE / 2.0).is_err());
        let kept = (0..100_000u64).filter(|&k| s.contains(k)).count();
        assert!((23_000..27_000).contains(&kept), "{kept}");
        assert!((0..1000u64).all(|k| KeySample::all().contains(k)));
    }

    #[test]
    fn miniature_simulations_estimate_every_policy_within_two_points() {
        let requests: Vec<Request> = GenConfig {
            dist: KeyDist::Zipf { alpha: 0.9 },
            keys: 20_000,
            requests: 200_000,
            ..GenConfig::default()
        }
        .build()
        .unwrap()
        .collect();
        let ok = || requests.iter().map(|r| Ok::<Request, Infallible>(*r));
        let policies = EvictionConfig::all();
        // The stated bound holds where a capacity keeps at least
        // SHARDS_MIN_SAMPLED_OBJECTS sampled objects (C·R ≥ 500).
        let capacities = [5_000, 8_000];
        let Ok(exact) = simulate_curves(ok(), &policies, &capacities, Unit::Objects);
        let Ok(sampled) = simulate_curves_sampled(
            ok(),
            &policies,
            &capacities,
            Unit::Objects,
            KeySample::new(0.1).unwrap(),
        );
        assert_eq!(exact.len(), sampled.len());
        for (e, s) in exact.iter().zip(&sampled) {
            assert_eq!((e.policy, e.capacity), (s.policy, s.capacity));
            assert_eq!(s.accesses, e.accesses);
            let err = (e.miss_ratio() - s.miss_ratio()).abs();
            assert!(
                err < 0.02,
                "{} at {}: exact {} sampled {}",
                e.policy,
                e.capacity,
                e.miss_ratio(),
                s.miss_ratio()
            );
        }
    }
}
