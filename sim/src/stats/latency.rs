//! Latency histograms (HdrHistogram, 3 significant digits, 1 ns to 1 h).

use hdrhistogram::Histogram;

/// Highest trackable latency: one hour in nanoseconds (larger values saturate).
pub const MAX_TRACKED_NS: u64 = 3_600_000_000_000;

/// A latency histogram plus the exact maximum and sum.
#[derive(Debug, Clone)]
pub struct LatencyRecorder {
    hist: Histogram<u64>,
    max: u64,
    sum: u128,
}

impl LatencyRecorder {
    /// An empty recorder.
    #[must_use]
    pub fn new() -> Self {
        Self { hist: new_histogram(3), max: 0, sum: 0 }
    }

    /// Records one latency.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.hist.saturating_record(ns);
        self.max = self.max.max(ns);
        self.sum += u128::from(ns);
    }

    /// Number of values.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// The value at quantile `q` in [0, 1] (within 0.1%).
    #[must_use]
    pub fn quantile(&self, q: f64) -> u64 {
        if q >= 1.0 { self.max } else { self.hist.value_at_quantile(q).min(self.max) }
    }

    /// The exact maximum.
    #[must_use]
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The exact mean (0 when empty).
    #[must_use]
    pub fn mean(&self) -> f64 {
        if self.count() == 0 { 0.0 } else { self.sum as f64 / self.count() as f64 }
    }

    /// The histogram.
    #[must_use]
    pub fn histogram(&self) -> &Histogram<u64> {
        &self.hist
    }
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        Self::new()
    }
}

/// A histogram of 1 ns..1 h with 2 or 3 significant digits.
#[must_use]
pub(crate) fn new_histogram<T: hdrhistogram::Counter>(sigfig: u8) -> Histogram<T> {
    // Invariant: bounds 1..MAX_TRACKED_NS with at most 5 significant digits
    // are always valid, so construction cannot fail.
    #[allow(clippy::unwrap_used)]
    Histogram::new_with_bounds(1, MAX_TRACKED_NS, sigfig.clamp(1, 5)).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_max() {
        let mut r = LatencyRecorder::new();
        for v in 1..=1000u64 {
            r.record(v * 1000);
        }
        let p50 = r.quantile(0.5) as f64;
        assert!((p50 - 500_000.0).abs() / 500_000.0 < 0.002, "{p50}");
        let p99 = r.quantile(0.99) as f64;
        assert!((p99 - 990_000.0).abs() / 990_000.0 < 0.002, "{p99}");
        assert_eq!(r.max(), 1_000_000);
        assert_eq!(r.quantile(1.0), 1_000_000);
        assert!((r.mean() - 500_500.0).abs() < 1e-6);
        r.record(0);
        assert_eq!(r.count(), 1001);
    }
}
