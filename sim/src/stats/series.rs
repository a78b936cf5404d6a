//! The time series: one point per window of virtual time that saw activity.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::Counters;
use super::latency::new_histogram;
use crate::report::{ratio, round3, us};

/// One window of the time series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowPoint {
    /// Start of the window, in milliseconds of virtual time.
    pub t_ms: u64,
    /// Gets in the window.
    pub reads: u64,
    /// Sets and deletes in the window.
    pub writes: u64,
    /// L1 hit ratio of the window's gets.
    pub l1_hit_ratio: f64,
    /// L2 hit ratio of the window's L2 lookups (absent without L2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l2_hit_ratio: Option<f64>,
    /// Median read latency of reads completed in the window (µs, within 1%).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_p50_us: Option<f64>,
    /// 99th percentile read latency of reads completed in the window (µs, within 1%).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_p99_us: Option<f64>,
    /// Requests sent to L3 per second in the window.
    pub l3_qps: f64,
    /// Stale reads in the window.
    pub stale_reads: u64,
}

/// Accumulates windows as virtual time advances.
#[derive(Debug)]
pub struct Series {
    window_ns: u64,
    start: u64,
    end: u64,
    snapshot: Counters,
    reads: Histogram<u32>,
    has_l2: bool,
    points: Vec<WindowPoint>,
}

impl Series {
    /// Windows of `window_ns` (at least 1 ns); `has_l2` adds the L2 column.
    #[must_use]
    pub fn new(window_ns: u64, has_l2: bool) -> Self {
        let window_ns = window_ns.max(1);
        Self {
            window_ns,
            start: 0,
            end: window_ns,
            snapshot: Counters::default(),
            reads: new_histogram(2),
            has_l2,
            points: Vec::new(),
        }
    }

    /// Virtual time is `now`: closes the current window if `now` is past it.
    /// `totals` are the counters as they were before anything at `now`.
    #[inline]
    pub fn tick(&mut self, now: u64, totals: &Counters) {
        if now >= self.end {
            self.close(totals);
            self.start = now - now % self.window_ns;
            self.end = self.start.saturating_add(self.window_ns);
        }
    }

    /// A read completed in the current window with `ns` latency.
    #[inline]
    pub fn record_read(&mut self, ns: u64) {
        self.reads.saturating_record(ns);
    }

    /// Closes the last window and returns every point.
    #[must_use]
    pub fn finish(mut self, totals: &Counters) -> Vec<WindowPoint> {
        self.close(totals);
        self.points
    }

    fn close(&mut self, totals: &Counters) {
        let d = totals.since(&self.snapshot);
        self.snapshot = *totals;
        let latencies = !self.reads.is_empty();
        if d == Counters::default() && !latencies {
            return;
        }
        let q =
            |h: &Histogram<u32>, p: f64| latencies.then(|| us(h.lowest_equivalent(h.value_at_quantile(p))));
        let secs = self.window_ns as f64 / 1e9;
        self.points.push(WindowPoint {
            t_ms: self.start / 1_000_000,
            reads: d.reads,
            writes: d.writes + d.deletes,
            l1_hit_ratio: ratio(d.l1_hits, d.reads),
            l2_hit_ratio: self.has_l2.then(|| ratio(d.l2_hits, d.l2_hits + d.l2_misses)),
            read_p50_us: q(&self.reads, 0.5),
            read_p99_us: q(&self.reads, 0.99),
            l3_qps: round3(d.l3_requests() as f64 / secs),
            stale_reads: d.stale_reads,
        });
        if latencies {
            self.reads.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_close_on_time_and_skip_idle_ones() {
        let mut s = Series::new(1_000_000_000, false);
        let mut c = Counters::default();
        s.tick(0, &c);
        c.reads += 2;
        c.l1_hits += 1;
        s.record_read(1_000);
        s.tick(500_000_000, &c);
        c.reads += 2;
        c.l1_hits += 2;
        c.l3_reads += 3;
        s.tick(5_200_000_000, &c); // closes [0, 1 s); [1 s, 5 s) were idle
        c.reads += 1;
        let pts = s.finish(&c);
        assert_eq!(pts.len(), 2);
        assert_eq!((pts[0].t_ms, pts[0].reads, pts[0].l1_hit_ratio), (0, 4, 0.75));
        assert_eq!(pts[0].l3_qps, 3.0);
        assert_eq!(pts[0].read_p50_us, Some(1.0));
        assert_eq!((pts[1].t_ms, pts[1].reads, pts[1].read_p50_us), (5_000, 1, None));
    }
}
