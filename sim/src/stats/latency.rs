//! Latency histograms (HdrHistogram, 3 significant digits, 1 ns to 292
//! years: every latency virtual time can reach in a run).

use hdrhistogram::Histogram;

/// Highest trackable latency: `u64::MAX / 2` ns, 292 years, the most
/// HdrHistogram takes. (It was one hour: a queueing backlog or a slow
/// tier past that reported percentiles capped near 3,601 s, no warning.)
/// Only a configured latency of centuries can pass it; the exact maximum
/// and mean are kept besides, and quantiles never exceed the maximum.
pub const MAX_TRACKED_NS: u64 = u64::MAX / 2;

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

/// A histogram of 1 ns..[`MAX_TRACKED_NS`] with 2 or 3 significant digits.
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

    /// Latencies past an hour (an L3 of 1e10 µs, a backlog behind
    /// `[l3] concurrency = 1`) are not capped: p50 was 3,601,330,077.7 µs
    /// for a constant 1e10 µs.
    #[test]
    fn latencies_past_an_hour_are_not_capped() {
        let mut r = LatencyRecorder::new();
        let ns = 10_000_000_000_000_000; // 1e10 µs
        for _ in 0..10 {
            r.record(ns);
        }
        for q in [0.5, 0.99] {
            let v = r.quantile(q) as f64;
            assert!((v - ns as f64).abs() / (ns as f64) < 0.001, "q{q}: {v}");
        }
        let year = 365 * 24 * 3_600 * 1_000_000_000u64;
        r.record(200 * year);
        let p = r.quantile(0.999) as f64;
        assert!((p - (200 * year) as f64).abs() / ((200 * year) as f64) < 0.001, "{p}");
    }
}
