//! A concurrent log-linear latency histogram.
//!
//! Values (nanoseconds) fall into buckets of 16 sub-buckets per power of two,
//! so a reported quantile is within 1/16 (6.25 %) of the true value. Buckets
//! are atomics; recording is one relaxed `fetch_add` (plus the sum and max).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

const SUB_BITS: u32 = 4;
const SUB: usize = 1 << SUB_BITS;
const BUCKETS: usize = (64 - SUB_BITS as usize + 1) * SUB;

/// Index of the bucket holding `v`.
#[inline]
fn bucket_of(v: u64) -> usize {
    if v < SUB as u64 {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros(); // >= SUB_BITS
    let shift = exp - SUB_BITS;
    let mantissa = (v >> shift) as usize & (SUB - 1);
    ((shift + 1) as usize) * SUB + mantissa
}

/// The largest value of bucket `i` (its upper bound, inclusive).
fn bucket_high(i: usize) -> u64 {
    if i < SUB {
        return i as u64;
    }
    let shift = (i / SUB - 1) as u32;
    let mantissa = (i % SUB) as u64 | SUB as u64;
    u64::try_from((u128::from(mantissa + 1) << shift) - 1).unwrap_or(u64::MAX)
}

/// A latency histogram shared by threads.
pub struct LatencyHistogram {
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    sum: AtomicU64,
    max: AtomicU64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            max: AtomicU64::new(0),
        }
    }
}

impl std::fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyHistogram").field("summary", &self.summary()).finish()
    }
}

/// Mean and quantiles of a histogram.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Samples recorded.
    pub count: u64,
    /// Mean in nanoseconds.
    pub mean_ns: u64,
    /// Median in nanoseconds.
    pub p50_ns: u64,
    /// 99th percentile in nanoseconds.
    pub p99_ns: u64,
    /// Largest sample in nanoseconds.
    pub max_ns: u64,
}

/// A histogram's cumulative counts ([`LatencyHistogram::below_powers_of_two`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CumulativeCounts {
    /// `(k, n)`: `n` samples were less than `2^k` ns; `k` ascending.
    pub below: Vec<(u32, u64)>,
    /// Sum of all samples, in ns.
    pub sum_ns: u64,
    /// All samples.
    pub count: u64,
}

impl LatencyHistogram {
    /// Records one sample of `nanos`.
    #[inline]
    pub fn record_nanos(&self, nanos: u64) {
        self.buckets[bucket_of(nanos)].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(nanos, Ordering::Relaxed);
        self.max.fetch_max(nanos, Ordering::Relaxed);
    }

    /// Records one sample.
    #[inline]
    pub fn record(&self, d: Duration) {
        self.record_nanos(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    }

    /// The value at quantile `q` in [0, 1] (bucket upper bound, capped at the max).
    #[must_use]
    pub fn quantile(&self, q: f64) -> u64 {
        let count = self.count.load(Ordering::Relaxed);
        if count == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen >= rank {
                return bucket_high(i).min(self.max.load(Ordering::Relaxed));
            }
        }
        self.max.load(Ordering::Relaxed)
    }

    /// The histogram as cumulative counts below powers of two: for each
    /// `k` in `powers`, the samples of less than `2^k` ns (exact: `2^k` is
    /// a bucket boundary), then the sum of all samples in ns and their
    /// count (the sum of the buckets, read once, so that the counts agree
    /// with each other while other threads record).
    #[must_use]
    pub fn below_powers_of_two(&self, powers: std::ops::RangeInclusive<u32>) -> CumulativeCounts {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).collect();
        let mut below = Vec::with_capacity(powers.clone().count());
        let (mut seen, mut upto) = (0u64, 0usize);
        for k in powers.filter(|&k| k < 64) {
            let end = bucket_of(1u64 << k);
            seen += counts[upto..end].iter().sum::<u64>();
            upto = end;
            below.push((k, seen));
        }
        let count = seen + counts[upto..].iter().sum::<u64>();
        CumulativeCounts { below, sum_ns: self.sum.load(Ordering::Relaxed), count }
    }

    /// Count, mean, p50, p99 and max.
    #[must_use]
    pub fn summary(&self) -> LatencySummary {
        let count = self.count.load(Ordering::Relaxed);
        let sum = self.sum.load(Ordering::Relaxed);
        LatencySummary {
            count,
            mean_ns: sum.checked_div(count).unwrap_or(0),
            p50_ns: self.quantile(0.5),
            p99_ns: self.quantile(0.99),
            max_ns: self.max.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_below_powers_of_two_are_exact() {
        let h = LatencyHistogram::default();
        for v in [0, 1, 63, 64, 65, 1000, 1023, 1024, 1025, 5000, u64::MAX] {
            h.record_nanos(v);
        }
        let c = h.below_powers_of_two(6..=12);
        let below = |k: u32| c.below.iter().find(|&&(j, _)| j == k).unwrap().1;
        assert_eq!(below(6), 3, "0, 1, 63 are below 64");
        assert_eq!(below(7), 5);
        assert_eq!(below(10), 7, "1000 and 1023 are below 1024");
        assert_eq!(below(11), 9);
        assert_eq!(below(12), 9);
        assert_eq!(c.count, 11);
        assert_eq!(c.below.len(), 7);
        assert_eq!(h.below_powers_of_two(63..=70).below, vec![(63, 10)], "2^64 and up are left out");
        assert_eq!(
            LatencyHistogram::default().below_powers_of_two(0..=3).below,
            vec![(0, 0), (1, 0), (2, 0), (3, 0)]
        );
    }

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for v in (0..100_000u64).chain([u64::MAX / 3, u64::MAX]) {
            let b = bucket_of(v);
            assert!(b >= last || v == u64::MAX / 3, "bucket order at {v}");
            assert!(bucket_high(b) >= v, "upper bound of {v}");
            assert!(bucket_high(b) - v <= v / 16 + 1, "precision at {v}");
            last = b;
        }
        assert!(bucket_of(u64::MAX) < BUCKETS);
    }

    #[test]
    fn quantiles_of_a_uniform_run() {
        let h = LatencyHistogram::default();
        for v in 1..=10_000u64 {
            h.record_nanos(v * 1000);
        }
        let s = h.summary();
        assert_eq!(s.count, 10_000);
        assert_eq!(s.mean_ns, 5_000_500);
        assert!((s.p50_ns as f64 / 5_000_000.0 - 1.0).abs() < 0.07, "{s:?}");
        assert!((s.p99_ns as f64 / 9_900_000.0 - 1.0).abs() < 0.07, "{s:?}");
        assert_eq!(s.max_ns, 10_000_000);
    }
}
