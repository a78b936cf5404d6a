//! Statistics: striped counters and latency histograms that the engine bumps,
//! and [`CacheStats`], the snapshot `stats()` returns.
//!
//! L1 hit/miss/eviction counts come from the L1 shards themselves (plain
//! integers under the shard lock the hit already holds); everything else is a
//! [`Counter`] (striped per thread, summed on read), so counting never becomes
//! the bottleneck. L1 latency is sampled (one hit in [`L1_LATENCY_SAMPLE`]),
//! L2/L3 latency is recorded on every call.

mod counter;
mod histogram;

pub use counter::Counter;
pub use histogram::{CumulativeCounts, LatencyHistogram, LatencySummary};
#[cfg(feature = "prometheus")]
pub mod prometheus;

use serde::{Deserialize, Serialize};

/// One L1 read in this many has its latency recorded.
pub const L1_LATENCY_SAMPLE: u32 = 64;

/// Numbers of one tier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TierStats {
    /// Reads answered by this tier.
    pub hits: u64,
    /// Reads this tier could not answer.
    pub misses: u64,
    /// `hits / (hits + misses)`, 0 when there were no reads.
    pub hit_ratio: f64,
    /// Errors and timeouts (each also counted as a miss for reads).
    pub errors: u64,
    /// Entries evicted for capacity (L1 only).
    pub evictions: u64,
    /// Entries dropped because their TTL passed (L1 only).
    pub expirations: u64,
    /// Values not kept because they weigh more than an L1 shard holds
    /// (L1 only: with a capacity in bytes, see `l1.shards`).
    #[serde(default)]
    pub too_large: u64,
    /// Entries held (L1 only).
    pub size: u64,
    /// Weight held, in capacity units (L1 only).
    pub weight: u64,
    /// Capacity in units (L1 only; 0 = not known).
    pub capacity: u64,
    /// Read latency of this tier.
    pub latency: LatencySummary,
}

impl TierStats {
    /// Fills `hit_ratio` from hits and misses.
    #[must_use]
    pub fn with_ratio(mut self) -> Self {
        let total = self.hits + self.misses;
        self.hit_ratio = if total == 0 { 0.0 } else { self.hits as f64 / total as f64 };
        self
    }
}

/// A snapshot of a cache's statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CacheStats {
    /// The in-process tier.
    pub l1: TierStats,
    /// The shared tier (all zero without L2).
    pub l2: TierStats,
    /// The durable tier.
    pub l3: TierStats,
    /// `put`s (and `put_batch` entries) accepted.
    pub writes: u64,
    /// Deletes accepted.
    pub deletes: u64,
    /// Batches written to L3 by the flusher.
    pub batches: u64,
    /// Operations written to L3 inside those batches.
    pub batched_writes: u64,
    /// Writes absorbed by coalescing (a key written again before its flush).
    pub coalesced_writes: u64,
    /// Writes pending for L3 right now.
    pub pending_writes: u64,
    /// L3 write errors (retried by the flusher, or returned by write-through).
    pub write_errors: u64,
    /// Latency of L3 write calls: a write-through write, a write-back
    /// write, a write-behind batch (one sample per call, whatever it holds).
    #[serde(default)]
    pub write_latency: LatencySummary,
    /// Background reloads started by refresh-ahead.
    pub refresh_ahead: u64,
    /// Reads that waited for another read's load instead of loading (single-flight).
    pub coalesced_loads: u64,
    /// L1 hits that answered "absent" from a negative-caching marker
    /// (`l1.negative_ttl_ms`; also counted in `l1.hits`).
    #[serde(default)]
    pub negative_hits: u64,
    /// L2 reads that answered "absent" from a marker another read left
    /// there (`l2.negative_ttl_ms`; also counted in `l2.hits`).
    #[serde(default)]
    pub l2_negative_hits: u64,
    /// Invalidations received from other instances.
    pub remote_invalidations: u64,
    /// Invalidations this instance published to the others (one per key
    /// written or deleted through L2, one per `clear_cache`): each other
    /// instance receives as many.
    #[serde(default)]
    pub published_invalidations: u64,
    /// The L2 circuit breaker: `closed`, `open` (L2 bypassed) or `half-open`.
    pub l2_breaker: Option<String>,
}

/// The engine's live counters; [`crate::stats::CacheStats`] is built from them.
#[derive(Debug, Default)]
pub struct Metrics {
    /// L1 read latency (sampled).
    pub l1_latency: LatencyHistogram,
    /// L2 hits.
    pub l2_hits: Counter,
    /// L2 misses.
    pub l2_misses: Counter,
    /// L2 errors and timeouts.
    pub l2_errors: Counter,
    /// L2 read latency.
    pub l2_latency: LatencyHistogram,
    /// L3 hits.
    pub l3_hits: Counter,
    /// L3 misses.
    pub l3_misses: Counter,
    /// L3 errors.
    pub l3_errors: Counter,
    /// L3 read latency.
    pub l3_latency: LatencyHistogram,
    /// L3 write latency: one sample per write call (a batch is one call).
    pub l3_write_latency: LatencyHistogram,
    /// Writes accepted.
    pub writes: Counter,
    /// Deletes accepted.
    pub deletes: Counter,
    /// Flushed batches.
    pub batches: Counter,
    /// Operations in flushed batches.
    pub batched_writes: Counter,
    /// L3 write errors.
    pub write_errors: Counter,
    /// Refresh-ahead reloads started.
    pub refresh_ahead: Counter,
    /// Single-flight waiters.
    pub coalesced_loads: Counter,
    /// L1 hits on an absent key's marker.
    pub negative_hits: Counter,
    /// L2 hits on an absent key's marker.
    pub l2_negative_hits: Counter,
    /// Invalidations received from other instances.
    pub remote_invalidations: Counter,
    /// Invalidations published to the other instances.
    pub published_invalidations: Counter,
}
