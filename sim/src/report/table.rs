//! Readable tables of reports.

use std::fmt::Write as _;

use strata_core::config::Capacity;

use super::{LatencySummary, Mode, Report, TierReport};

fn capacity(c: Capacity) -> String {
    match c {
        Capacity::Entries(n) => format!("{n} entries"),
        Capacity::Bytes(n) => format!("{n} bytes"),
    }
}

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

fn tier_row(out: &mut String, name: &str, t: &TierReport) {
    let _ = writeln!(
        out,
        "  {name:<4} {:>12} {:>12} {:>12} {:>9} {:>10} {:>11} {:>11}",
        t.lookups,
        t.hits,
        t.misses,
        pct(t.hit_ratio),
        pct(t.byte_hit_ratio),
        t.evictions,
        t.expirations
    );
}

fn latency_row(out: &mut String, name: &str, l: &LatencySummary) {
    let _ = writeln!(
        out,
        "  {name:<6} {:>10} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
        l.count, l.mean_us, l.p50_us, l.p90_us, l.p99_us, l.p999_us, l.max_us
    );
}

impl Report {
    /// The report as a readable table.
    #[must_use]
    pub fn to_table(&self) -> String {
        let mut o = String::new();
        let mode = match self.mode {
            Mode::Full => "full",
            Mode::HitRatioOnly => "hit-ratio-only",
        };
        let l2 = match (&self.l2, self.l2_capacity) {
            (None, _) => String::new(),
            (Some(_), Some(c)) => format!(" · L2 {}", capacity(c)),
            (Some(_), None) => " · L2 unbounded".to_string(),
        };
        let _ = writeln!(
            o,
            "{} · L1 {}{l2} · {} · {} instance(s) · seed {} · {mode}",
            self.policy,
            capacity(self.l1_capacity),
            self.write_strategy.name(),
            self.instances,
            self.seed
        );
        let _ = writeln!(
            o,
            "{} requests ({} gets, {} sets, {} deletes) over {:.3} s of virtual time",
            self.requests, self.reads, self.writes, self.deletes, self.duration_s
        );
        let _ = writeln!(
            o,
            "\n  tier {:>12} {:>12} {:>12} {:>9} {:>10} {:>11} {:>11}",
            "lookups", "hits", "misses", "hit", "byte hit", "evictions", "expirations"
        );
        tier_row(&mut o, "L1", &self.l1);
        if let Some(l2) = &self.l2 {
            tier_row(&mut o, "L2", l2);
        }
        let _ = writeln!(o, "  gets served without an L3 read: {}", pct(self.hit_ratio));
        let l3 = &self.l3;
        // Existence checks only where deletes made some (most traces have none).
        let checks = if l3.exists_reads > 0 {
            format!(", {} existence checks", l3.exists_reads)
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "\n  L3: {} reads, {} refresh reads{checks}, {} keys written in {} requests; {:.1} req/s mean, {:.1} peak",
            l3.reads, l3.refresh_reads, l3.write_ops, l3.write_requests, l3.qps_mean, l3.qps_peak
        );
        if l3.queued > 0 {
            let _ = writeln!(
                o,
                "      {} requests queued (peak queue {}), mean wait {:.1} µs",
                l3.queued, l3.peak_queue_len, l3.mean_queue_wait_us
            );
        }
        if self.read_latency.is_some() || self.write_latency.is_some() {
            let _ = writeln!(
                o,
                "\n  µs     {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
                "count", "mean", "p50", "p90", "p99", "p99.9", "max"
            );
            if let Some(r) = &self.read_latency {
                latency_row(&mut o, "read", r);
            }
            if let Some(w) = &self.write_latency {
                latency_row(&mut o, "write", w);
            }
        }
        let w = &self.write_queue;
        if w.batches > 0 || w.backpressure_waits > 0 || w.unflushed > 0 {
            let size = w.batch_size.as_ref().map_or_else(String::new, |b| {
                format!(" (size mean {:.1}, p50 {}, p99 {}, max {})", b.mean, b.p50, b.p99, b.max)
            });
            let _ = writeln!(
                o,
                "\n  write queue: {} L3 writes{size}; {} coalesced, {} waited for room, {} gave up waiting for room",
                w.batches, w.coalesced, w.backpressure_waits, w.failed
            );
            if w.unflushed > 0 {
                let _ = writeln!(
                    o,
                    "      {} queued writes never reached L3: still queued at the shutdown deadline (lost on exit)",
                    w.unflushed
                );
            }
        }
        let f = &self.failures;
        if !f.is_empty() {
            let _ = writeln!(
                o,
                "\n  L3 failures: {} requests failed; {} gets and {} writes answered with an error, {} failed attempts of queued writes (retried)",
                f.l3_errors, f.failed_reads, f.write_errors, f.retried_writes
            );
        }
        let s = &self.staleness;
        let _ = writeln!(
            o,
            "\n  refreshes {} · coalesced loads {} · reads of pending writes {} · invalidations {}",
            self.refreshes, self.coalesced_loads, self.pending_write_reads, self.invalidations
        );
        if self.negative_hits > 0 {
            let _ = writeln!(o, "  L1 hits on keys remembered absent {}", self.negative_hits);
        }
        if self.l2_negative_hits > 0 {
            let _ = writeln!(o, "  L2 hits on keys remembered absent {}", self.l2_negative_hits);
        }
        let _ = writeln!(
            o,
            "  stale reads {} ({}), max age {:.3} ms",
            s.stale_reads,
            pct(s.stale_ratio),
            s.max_stale_age_ms
        );
        o
    }
}

/// Several reports side by side (one row each), e.g. one per policy.
#[must_use]
pub fn compare_table(reports: &[Report]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:<10} {:>9} {:>9} {:>9} {:>10} {:>11} {:>11} {:>11} {:>9}",
        "policy", "L1 hit", "L2 hit", "no L3", "byte hit", "read p50µs", "read p99µs", "L3 req/s", "stale"
    );
    for r in reports {
        let l2 = r.l2.as_ref().map_or_else(|| "-".to_string(), |t| pct(t.hit_ratio));
        let (p50, p99) = r.read_latency.as_ref().map_or_else(
            || ("-".to_string(), "-".to_string()),
            |l| (format!("{:.1}", l.p50_us), format!("{:.1}", l.p99_us)),
        );
        let _ = writeln!(
            o,
            "{:<10} {:>9} {:>9} {:>9} {:>10} {:>11} {:>11} {:>11.1} {:>9}",
            r.policy,
            pct(r.l1.hit_ratio),
            l2,
            pct(r.hit_ratio),
            pct(r.l1.byte_hit_ratio),
            p50,
            p99,
            r.l3.qps_mean,
            pct(r.staleness.stale_ratio)
        );
    }
    o
}
