//! From what a run measured to a [`Report`].

use strata_core::CacheConfig;
use strata_core::l1::StoreCounters;

use super::{
    BatchSizes, CdfPoint, FailureReport, HistogramBucket, L3Report, LatencySummary, Mode, Report,
    StalenessReport, TierReport, WriteQueueReport, ratio, round3, round6, us,
};
use crate::config::SimConfig;
use crate::stats::{Counters, LatencyRecorder, WindowPoint};

/// Quantiles of the read CDF in the report.
const CDF_QUANTILES: &[f64] = &[0.999, 0.9995, 0.9999, 1.0];

/// Everything a run measured (crate-internal; the engines fill it).
#[derive(Debug, Default)]
pub(crate) struct RunStats {
    pub(crate) counters: Counters,
    pub(crate) read_latency: Option<LatencyRecorder>,
    pub(crate) write_latency: Option<LatencyRecorder>,
    pub(crate) batch_sizes: LatencyRecorder,
    pub(crate) coalesced_writes: u64,
    pub(crate) l1: StoreCounters,
    pub(crate) l2: Option<StoreCounters>,
    pub(crate) l3_peak_queue: u64,
    pub(crate) l3_queued: u64,
    pub(crate) l3_wait_ns: u64,
    pub(crate) max_stale_age_ns: u64,
    pub(crate) duration_ns: u64,
    pub(crate) series: Vec<WindowPoint>,
}

fn summary(r: &LatencyRecorder) -> LatencySummary {
    LatencySummary {
        count: r.count(),
        mean_us: round3(r.mean() / 1000.0),
        p50_us: us(r.quantile(0.5)),
        p90_us: us(r.quantile(0.9)),
        p99_us: us(r.quantile(0.99)),
        p999_us: us(r.quantile(0.999)),
        max_us: us(r.max()),
    }
}

fn cdf(r: &LatencyRecorder) -> Vec<CdfPoint> {
    if r.count() == 0 {
        return Vec::new();
    }
    (0..=99u32)
        .map(|p| f64::from(p) / 100.0)
        .chain([0.995])
        .chain(CDF_QUANTILES.iter().copied())
        .map(|q| CdfPoint { q, us: us(if q == 0.0 { r.histogram().min() } else { r.quantile(q) }) })
        .collect()
}

fn histogram(r: &LatencyRecorder) -> Vec<HistogramBucket> {
    if r.count() == 0 {
        return Vec::new();
    }
    // Buckets of ×√2 from 1 µs: fine enough for a chart, a few dozen points.
    r.histogram()
        .iter_log(1000, std::f64::consts::SQRT_2)
        .map(|v| HistogramBucket { le_us: us(v.value_iterated_to()), count: v.count_since_last_iteration() })
        .collect()
}

impl RunStats {
    /// The report of the run under `cache` and `sim`.
    pub(crate) fn into_report(self, mode: Mode, cache: &CacheConfig, sim: &SimConfig) -> Report {
        let c = &self.counters;
        let secs = self.duration_ns as f64 / 1e9;
        let l3_requests = c.l3_requests();
        let qps_peak = self.series.iter().map(|p| p.l3_qps).fold(0.0, f64::max);
        let l2 = self.l2.map(|s| {
            let lookups = c.l2_hits + c.l2_misses;
            TierReport {
                lookups,
                hits: c.l2_hits,
                misses: c.l2_misses,
                hit_ratio: ratio(c.l2_hits, lookups),
                byte_hit_ratio: ratio(c.l2_hit_bytes, c.l2_hit_bytes + c.l2_miss_bytes),
                evictions: s.evictions,
                expirations: s.expirations,
            }
        });
        let batches = self.batch_sizes.count();
        Report {
            mode,
            policy: cache.l1.eviction.name().to_string(),
            l1_capacity: cache.l1.capacity,
            l2_capacity: cache.l2.as_ref().and_then(|l| l.capacity),
            write_strategy: cache.write.strategy,
            seed: sim.seed,
            instances: sim.instances,
            requests: c.requests,
            reads: c.reads,
            writes: c.writes,
            deletes: c.deletes,
            duration_s: round6(secs),
            hit_ratio: ratio(c.reads.saturating_sub(c.l3_reads), c.reads),
            l1: TierReport {
                lookups: c.reads,
                hits: c.l1_hits,
                misses: c.reads - c.l1_hits,
                hit_ratio: ratio(c.l1_hits, c.reads),
                byte_hit_ratio: ratio(c.l1_hit_bytes, c.read_bytes),
                evictions: self.l1.evictions,
                expirations: self.l1.expirations,
            },
            l2,
            l3: L3Report {
                reads: c.l3_reads,
                refresh_reads: c.l3_refresh_reads,
                exists_reads: c.l3_exists_reads,
                write_ops: c.l3_write_ops,
                write_requests: c.l3_write_requests,
                requests: l3_requests,
                qps_mean: if secs > 0.0 { round3(l3_requests as f64 / secs) } else { 0.0 },
                qps_peak,
                peak_queue_len: self.l3_peak_queue,
                queued: self.l3_queued,
                mean_queue_wait_us: if self.l3_queued == 0 {
                    0.0
                } else {
                    round3(self.l3_wait_ns as f64 / self.l3_queued as f64 / 1000.0)
                },
            },
            read_latency: self.read_latency.as_ref().map(summary),
            write_latency: self.write_latency.as_ref().filter(|r| r.count() > 0).map(summary),
            write_queue: WriteQueueReport {
                batches,
                batch_size: (batches > 0).then(|| BatchSizes {
                    mean: round3(self.batch_sizes.mean()),
                    p50: self.batch_sizes.quantile(0.5),
                    p99: self.batch_sizes.quantile(0.99),
                    max: self.batch_sizes.max(),
                }),
                coalesced: self.coalesced_writes,
                backpressure_waits: c.backpressure_waits,
                failed: c.failed_writes,
                unflushed: c.unflushed_writes,
            },
            refreshes: c.refreshes,
            coalesced_loads: c.coalesced_loads,
            pending_write_reads: c.pending_write_reads,
            negative_hits: c.negative_hits,
            l2_negative_hits: c.l2_negative_hits,
            staleness: StalenessReport {
                stale_reads: c.stale_reads,
                stale_ratio: ratio(c.stale_reads, c.reads),
                max_stale_age_ms: round6(self.max_stale_age_ns as f64 / 1e6),
            },
            invalidations: c.invalidations,
            failures: FailureReport {
                l3_errors: c.l3_errors,
                failed_reads: c.failed_reads,
                write_errors: c.write_errors,
                retried_writes: c.retried_writes,
            },
            read_cdf: self.read_latency.as_ref().map(cdf).unwrap_or_default(),
            read_histogram: self.read_latency.as_ref().map(histogram).unwrap_or_default(),
            series: self.series,
        }
    }
}
