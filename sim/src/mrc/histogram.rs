//! Histograms of stack distances (d ≥ 1): exact (one counter per distance,
//! for object counts) or log-linear (for bytes: 256 buckets per power of
//! two, so a bucket spans at most 1/256 of its values).

/// Bits of sub-buckets per power of two in the log-linear histogram.
const SUB_BITS: u32 = 8;
const SUB: u64 = 1 << SUB_BITS;

/// A histogram of distances.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Histogram {
    log_linear: bool,
    counts: Vec<u64>,
}

impl Histogram {
    /// One counter per distance.
    pub(crate) fn exact() -> Self {
        Self { log_linear: false, counts: Vec::new() }
    }

    /// Log-linear buckets; exact at the [`Self::is_bucket_end`] distances.
    pub(crate) fn log_linear() -> Self {
        Self { log_linear: true, counts: Vec::new() }
    }

    #[inline]
    fn bucket(&self, d: u64) -> usize {
        if !self.log_linear {
            return usize::try_from(d).unwrap_or(usize::MAX);
        }
        let v = d.saturating_sub(1);
        if v < 2 * SUB {
            return v as usize;
        }
        let k = u64::from(63 - v.leading_zeros() - SUB_BITS);
        let m = v >> k;
        (2 * SUB + (k - 1) * SUB + (m - SUB)) as usize
    }

    /// The smallest and largest distance counted in bucket `b`.
    fn range(&self, b: usize) -> (u64, u64) {
        let b = b as u64;
        if !self.log_linear {
            return (b, b);
        }
        if b < 2 * SUB {
            return (b + 1, b + 1);
        }
        let k = (b - 2 * SUB) / SUB + 1;
        let m = SUB + (b - 2 * SUB) % SUB;
        let hi = u64::try_from(u128::from(m + 1) << k).unwrap_or(u64::MAX);
        ((m << k) + 1, hi)
    }

    /// Whether `d` ends a bucket, so that counts up to `d` are exact.
    pub(crate) fn is_bucket_end(&self, d: u64) -> bool {
        self.range(self.bucket(d)).1 == d
    }

    /// Counts one access at distance `d` (≥ 1).
    #[inline]
    pub(crate) fn add(&mut self, d: u64) {
        let b = self.bucket(d);
        if b >= self.counts.len() {
            self.counts.resize(b + 1, 0);
        }
        self.counts[b] += 1;
    }

    /// The counts as a cumulative table, for queries.
    pub(crate) fn cumulative(&self) -> Cumulative {
        let mut cum = Vec::with_capacity(self.counts.len());
        let mut s = 0u64;
        for &c in &self.counts {
            s += c;
            cum.push(s);
        }
        Cumulative { hist: Histogram { log_linear: self.log_linear, counts: self.counts.clone() }, cum }
    }
}

/// Cumulative counts: how many accesses had a distance ≤ d.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cumulative {
    hist: Histogram,
    cum: Vec<u64>,
}

impl Cumulative {
    /// Accesses with distance ≤ `d`; within a log-linear bucket, linearly
    /// interpolated (exact at bucket ends).
    pub(crate) fn at_most(&self, d: u64) -> f64 {
        if d == 0 || self.cum.is_empty() {
            return 0.0;
        }
        let b = self.hist.bucket(d);
        if b >= self.cum.len() {
            return self.cum[self.cum.len() - 1] as f64;
        }
        let below = if b == 0 { 0 } else { self.cum[b - 1] };
        let (lo, hi) = self.hist.range(b);
        let inside = self.hist.counts[b] as f64 * (d - lo + 1) as f64 / (hi - lo + 1) as f64;
        below as f64 + inside
    }

    /// The largest distance counted (0 when none).
    pub(crate) fn max_distance(&self) -> u64 {
        match self.hist.counts.iter().rposition(|&c| c > 0) {
            Some(b) => self.hist.range(b).1,
            None => 0,
        }
    }

    /// Accesses whose count up to `d` is interpolated: 0 where exact, else
    /// the count of the bucket holding `d`.
    pub(crate) fn uncertain_at(&self, d: u64) -> u64 {
        if self.is_exact_at(d) {
            return 0;
        }
        self.hist.counts.get(self.hist.bucket(d)).copied().unwrap_or(0)
    }

    /// Whether counts up to `d` are exact (not interpolated).
    pub(crate) fn is_exact_at(&self, d: u64) -> bool {
        !self.hist.log_linear || self.hist.is_bucket_end(d) || d >= self.max_distance()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_linear_buckets_tile_the_line() {
        let h = Histogram::log_linear();
        let mut expect_lo = 1u64;
        for b in 0..3000usize {
            let (lo, hi) = h.range(b);
            assert_eq!(lo, expect_lo, "bucket {b}");
            assert!(hi >= lo);
            assert_eq!(h.bucket(lo), b);
            assert_eq!(h.bucket(hi), b);
            assert!(
                (hi - lo + 1) as f64 <= (lo as f64 / SUB as f64).max(1.0) * 1.000_001,
                "bucket {b} too wide"
            );
            expect_lo = hi + 1;
        }
        assert_eq!(h.range(h.bucket(u64::MAX)).1, u64::MAX);
        assert!(h.is_bucket_end(512) && h.is_bucket_end(1 << 20) && h.is_bucket_end(100 << 20));
        assert!(!h.is_bucket_end(100_000_001));
    }

    #[test]
    fn cumulative_counts() {
        let mut h = Histogram::log_linear();
        for d in [1u64, 2, 2, 300, 1000, 1000, 5000] {
            h.add(d);
        }
        let c = h.cumulative();
        assert_eq!(c.at_most(0), 0.0);
        assert_eq!(c.at_most(1), 1.0);
        assert_eq!(c.at_most(2), 3.0);
        assert_eq!(c.at_most(299), 3.0);
        assert_eq!(c.at_most(1000), 6.0);
        assert_eq!(c.at_most(1 << 40), 7.0);
        assert!((5000..=5000 + 5000 / 256 + 1).contains(&c.max_distance()));

        let mut e = Histogram::exact();
        for d in [3u64, 3, 7] {
            e.add(d);
        }
        let c = e.cumulative();
        assert_eq!(
            (c.at_most(2), c.at_most(3), c.at_most(6), c.at_most(7), c.at_most(100)),
            (0.0, 2.0, 2.0, 3.0, 3.0)
        );
        assert!(c.is_exact_at(5));
    }
}
