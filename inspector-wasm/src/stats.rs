//! Basic statistics of a trace: size, read/write mix and popularity skew.

use std::collections::HashMap;

use serde::Serialize;

/// What the page shows about a loaded trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceStats {
    /// Number of requests.
    pub requests: u64,
    /// Number of distinct keys.
    pub distinct_keys: u64,
    /// Reads (gets).
    pub reads: u64,
    /// Writes (sets, deletes).
    pub writes: u64,
    /// Share of requests that went to the most popular 1 % of keys (at least
    /// one key), in [0, 1].
    pub top1pct_share: f64,
    /// Share of keys requested exactly once, in [0, 1].
    pub one_hit_share: f64,
    /// Zipf exponent fitted to the rank/frequency curve (least squares on
    /// log–log, ranks sampled geometrically, keys seen once left out); `None`
    /// when fewer than three ranks have a key seen at least twice.
    pub zipf_alpha: Option<f64>,
}

/// Accumulates [`TraceStats`] one request at a time.
#[derive(Debug, Default)]
pub struct StatsBuilder {
    counts: HashMap<u64, u64>,
    reads: u64,
    writes: u64,
}

impl StatsBuilder {
    /// Counts one request for `key` (any stable 64-bit identity of the key).
    pub fn add(&mut self, key: u64, is_write: bool) {
        *self.counts.entry(key).or_insert(0) += 1;
        if is_write {
            self.writes += 1;
        } else {
            self.reads += 1;
        }
    }

    /// The statistics of everything added.
    #[must_use]
    pub fn finish(&self) -> TraceStats {
        let mut freq: Vec<u64> = self.counts.values().copied().collect();
        freq.sort_unstable_by(|a, b| b.cmp(a));
        let requests = self.reads + self.writes;
        let top = freq.len().div_ceil(100);
        let top_requests: u64 = freq.iter().take(top).sum();
        let ones = freq.iter().rev().take_while(|&&c| c == 1).count();
        TraceStats {
            requests,
            distinct_keys: freq.len() as u64,
            reads: self.reads,
            writes: self.writes,
            top1pct_share: ratio(top_requests, requests),
            one_hit_share: ratio(ones as u64, freq.len() as u64),
            zipf_alpha: zipf_alpha(&freq),
        }
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Fits `count(rank) ∝ rank^-alpha` to frequencies sorted in decreasing
/// order; returns `alpha`.
fn zipf_alpha(freq: &[u64]) -> Option<f64> {
    let n = freq.iter().take_while(|&&c| c >= 2).count();
    let mut pts = Vec::new();
    let mut rank = 1usize;
    while rank <= n {
        pts.push(((rank as f64).ln(), (freq[rank - 1] as f64).ln()));
        rank = (rank + 1).max((rank as f64 * 1.1) as usize);
    }
    if pts.len() < 3 {
        return None;
    }
    let m = pts.len() as f64;
    let (sx, sy) = pts.iter().fold((0.0, 0.0), |(a, b), p| (a + p.0, b + p.1));
    let (mx, my) = (sx / m, sy / m);
    let (sxy, sxx) =
        pts.iter().fold((0.0, 0.0), |(a, b), p| (a + (p.0 - mx) * (p.1 - my), b + (p.0 - mx) * (p.0 - mx)));
    (sxx > 0.0).then(|| -sxy / sxx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_mix_and_shares() {
        let mut b = StatsBuilder::default();
        // 200 keys: key 0 requested 100 times, key 1 fifty times, the rest once.
        for _ in 0..100 {
            b.add(0, false);
        }
        for _ in 0..50 {
            b.add(1, true);
        }
        for k in 2..200 {
            b.add(k, false);
        }
        let s = b.finish();
        assert_eq!((s.requests, s.distinct_keys, s.reads, s.writes), (348, 200, 298, 50));
        // top 1 % of 200 keys = 2 keys = 150 requests.
        assert!((s.top1pct_share - 150.0 / 348.0).abs() < 1e-12);
        assert!((s.one_hit_share - 198.0 / 200.0).abs() < 1e-12);
        assert_eq!(s.zipf_alpha, None);
    }

    #[test]
    fn recovers_the_exponent_of_an_exact_zipf_table() {
        for alpha in [0.6, 1.0, 1.3] {
            let mut b = StatsBuilder::default();
            for rank in 1..=300u64 {
                let count = (1e4 * (rank as f64).powf(-alpha)).round() as u64;
                for _ in 0..count.max(1) {
                    b.add(rank * 7919, false);
                }
            }
            let fitted = b.finish().zipf_alpha.expect("enough ranks");
            assert!((fitted - alpha).abs() < 0.02, "alpha {alpha}, fitted {fitted}");
        }
    }

    #[test]
    fn empty_trace() {
        let s = StatsBuilder::default().finish();
        assert_eq!((s.requests, s.distinct_keys, s.top1pct_share, s.zipf_alpha), (0, 0, 0.0, None));
    }
}
