//! The report of a run: serde (JSON) and a readable table.
//!
//! Determinism: every number is computed from integer counts in a fixed
//! order; ratios are rounded to 6 decimals and latencies are whole
//! nanoseconds shown as microseconds, so the same run gives byte-identical
//! JSON (serde_json prints floats with the shortest round-tripping form).

mod build;
mod table;

use serde::{Deserialize, Serialize};
use strata_core::config::{Capacity, WriteStrategy};

use crate::stats::WindowPoint;

pub(crate) use build::RunStats;
pub use table::compare_table;

/// Which engine produced a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The discrete-event engine with latencies.
    Full,
    /// The fast loop: hit ratios only.
    HitRatioOnly,
}

/// The result of one simulation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Which engine ran.
    pub mode: Mode,
    /// The L1 eviction policy.
    pub policy: String,
    /// L1 capacity (per instance).
    pub l1_capacity: Capacity,
    /// L2 capacity (`None`: unbounded or no L2; see `l2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l2_capacity: Option<Capacity>,
    /// The write strategy.
    pub write_strategy: WriteStrategy,
    /// The master seed.
    pub seed: u64,
    /// Simulated instances.
    pub instances: u32,
    /// Requests replayed.
    pub requests: u64,
    /// Gets.
    pub reads: u64,
    /// Sets.
    pub writes: u64,
    /// Deletes.
    pub deletes: u64,
    /// Virtual time from the first arrival to the last event, in seconds.
    pub duration_s: f64,
    /// Fraction of gets that caused no L3 read (served by L1, L2 or the
    /// instance's own pending write, or coalesced into a load in flight).
    pub hit_ratio: f64,
    /// The in-process tier (all instances together).
    pub l1: TierReport,
    /// The shared tier, when configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l2: Option<TierReport>,
    /// The durable tier.
    pub l3: L3Report,
    /// Get latency (full mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_latency: Option<LatencySummary>,
    /// Set/delete latency as the caller sees it (full mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_latency: Option<LatencySummary>,
    /// The write queue (write-back and write-behind).
    pub write_queue: WriteQueueReport,
    /// Refresh-ahead reloads started.
    pub refreshes: u64,
    /// Gets that waited for another get's load of the same key.
    pub coalesced_loads: u64,
    /// Gets served from the instance's own pending writes after an L1 miss.
    pub pending_write_reads: u64,
    /// L1 hits that answered "absent" from a negative-caching marker
    /// (`l1.negative_ttl_ms`; also in the L1 hits).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub negative_hits: u64,
    /// L2 hits on an absent-key marker (`l2.negative_ttl_ms`; also in the
    /// L2 hits): the load answered "absent" without L3.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub l2_negative_hits: u64,
    /// Stale reads.
    pub staleness: StalenessReport,
    /// Invalidation messages delivered to other instances' L1.
    pub invalidations: u64,
    /// What failed L3 requests did (full mode, with `[l3] failure_rate` or
    /// `outages`; absent when nothing failed).
    #[serde(default, skip_serializing_if = "FailureReport::is_empty")]
    pub failures: FailureReport,
    /// One point per window of virtual time.
    pub series: Vec<WindowPoint>,
    /// Read latency CDF (full mode): quantile → latency.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub read_cdf: Vec<CdfPoint>,
    /// Read latency histogram (full mode), log-spaced buckets.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub read_histogram: Vec<HistogramBucket>,
}

/// Lookups, hits and misses of one tier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TierReport {
    /// Lookups.
    pub lookups: u64,
    /// Lookups that found the key.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// hits / lookups.
    pub hit_ratio: f64,
    /// Bytes of hits / bytes of lookups.
    pub byte_hit_ratio: f64,
    /// Entries evicted for capacity.
    pub evictions: u64,
    /// Entries dropped because their TTL passed.
    pub expirations: u64,
}

/// Load on the durable tier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct L3Report {
    /// Reads for misses.
    pub reads: u64,
    /// Reads for refresh-ahead.
    pub refresh_reads: u64,
    /// Existence checks of write-back and write-behind deletes (what
    /// `delete` returns) whose key neither the queue nor L1 held.
    #[serde(default)]
    pub exists_reads: u64,
    /// Keys written.
    pub write_ops: u64,
    /// Write requests (a batch is one).
    pub write_requests: u64,
    /// All requests (reads, refresh reads, existence checks, write requests).
    pub requests: u64,
    /// Mean requests per second over the run.
    pub qps_mean: f64,
    /// Requests per second of the busiest window.
    pub qps_peak: f64,
    /// Longest wait queue (full mode, with a concurrency limit).
    pub peak_queue_len: u64,
    /// Requests that had to wait.
    pub queued: u64,
    /// Mean wait of the requests that waited (µs).
    pub mean_queue_wait_us: f64,
}

/// Percentiles of a latency distribution, in microseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Values recorded.
    pub count: u64,
    /// Mean.
    pub mean_us: f64,
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Maximum.
    pub max_us: f64,
}

/// The write queue of write-back / write-behind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WriteQueueReport {
    /// L3 write requests made from the queue (failed ones, and the calls
    /// of one write that isolate a failed write-behind batch, included).
    pub batches: u64,
    /// Keys per batch (a call of one write counts as a batch of 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<BatchSizes>,
    /// Writes absorbed by a newer write (or delete) of the same key before
    /// a flush.
    pub coalesced: u64,
    /// Writes that waited for room in a full queue.
    pub backpressure_waits: u64,
    /// Writes that gave up after the backpressure timeout (their caller
    /// got an error), or still waited for room when the run ended.
    pub failed: u64,
    /// Writes acknowledged to their caller but still not in L3 when the
    /// shutdown deadline passed (`shutdown_ms`; the engine's `Unflushed`
    /// keys): lost if the process exits.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unflushed: u64,
}

/// What failed L3 requests did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureReport {
    /// L3 requests that failed.
    pub l3_errors: u64,
    /// Gets answered with an error (their load failed; not in the read
    /// latency).
    pub failed_reads: u64,
    /// Sets and deletes answered with an error: a write-through write, or
    /// a queued delete's existence check, failed (not in the write latency).
    pub write_errors: u64,
    /// Failed L3 write attempts of queued writes: each write of a failed
    /// call (a failed write-behind batch counts each of its writes, then
    /// each of them that fails again written alone counts 1 more), each
    /// retried: at once one write at a time (a failed batch), or later
    /// from the queue. A write that failed 3 times counts 3; it is one
    /// write, and counts in `l3.write_ops` once, if it lands.
    pub retried_writes: u64,
}

impl FailureReport {
    /// Whether nothing failed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Distribution of batch sizes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchSizes {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Maximum.
    pub max: u64,
}

/// Stale reads: a read returning a value older than the newest write
/// committed (acknowledged to its writer) before the read began.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StalenessReport {
    /// Stale reads.
    pub stale_reads: u64,
    /// stale reads / gets.
    pub stale_ratio: f64,
    /// Longest time a stale read was behind (since the newest write committed), ms.
    pub max_stale_age_ms: f64,
}

/// One point of a CDF.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CdfPoint {
    /// Quantile in [0, 1].
    pub q: f64,
    /// Latency at that quantile (µs).
    pub us: f64,
}

/// One histogram bucket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistogramBucket {
    /// Upper bound of the bucket (µs).
    pub le_us: f64,
    /// Values in the bucket.
    pub count: u64,
}

impl Report {
    /// The report as pretty JSON (byte-identical for identical runs).
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serialising plain structs of numbers and strings cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// `num / den` rounded to 6 decimals (0 when `den` is 0).
#[must_use]
pub fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 { 0.0 } else { round6(num as f64 / den as f64) }
}

/// Rounded to 6 decimals.
#[must_use]
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Rounded to 3 decimals.
#[must_use]
pub fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

/// Nanoseconds as microseconds.
#[must_use]
pub fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// For `skip_serializing_if`: a count that is zero is left out.
#[allow(clippy::trivially_copy_pass_by_ref)] // serde's signature
fn is_zero(n: &u64) -> bool {
    *n == 0
}
