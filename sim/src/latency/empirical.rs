//! An empirical latency histogram.

use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::{Rng, RngExt};

use crate::error::{Result, SimError};

/// Samples from `[upper_us, count]` buckets: a bucket by weight, then a
/// uniform value between its lower and upper bound.
#[derive(Clone, Debug)]
pub struct EmpiricalLatency {
    index: WeightedIndex<u64>,
    bounds: Vec<f64>,
}

impl EmpiricalLatency {
    /// Builds the sampler; `field` names the setting in errors.
    ///
    /// # Errors
    /// [`SimError::Config`] when there are no buckets, a bound is negative,
    /// not finite or not increasing, or every count is zero.
    pub fn new(buckets: &[(f64, u64)], min_us: f64, field: &str) -> Result<Self> {
        if buckets.is_empty() {
            return Err(SimError::config(
                format!("{field}.buckets"),
                "must list at least one [upper_us, count]",
            ));
        }
        if !(min_us.is_finite() && min_us >= 0.0) {
            return Err(SimError::config(format!("{field}.min_us"), format!("must be >= 0, got {min_us}")));
        }
        let mut bounds = Vec::with_capacity(buckets.len() + 1);
        bounds.push(min_us);
        for (i, &(upper, _)) in buckets.iter().enumerate() {
            let prev = bounds[bounds.len() - 1];
            if !(upper.is_finite() && upper > prev) {
                return Err(SimError::config(
                    format!("{field}.buckets[{i}]"),
                    format!("upper bound {upper} must be finite and greater than {prev}"),
                ));
            }
            bounds.push(upper);
        }
        let index = WeightedIndex::new(buckets.iter().map(|&(_, c)| c))
            .map_err(|e| SimError::config(format!("{field}.buckets"), format!("counts: {e}")))?;
        Ok(Self { index, bounds })
    }

    /// One sample in microseconds.
    pub fn sample_us<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let i = self.index.sample(rng);
        let (lo, hi) = (self.bounds[i], self.bounds[i + 1]);
        lo + (hi - lo) * rng.random::<f64>()
    }
}
