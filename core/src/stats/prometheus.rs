//! A cache's statistics as Prometheus / OpenMetrics metrics (feature
//! `prometheus`), through the `prometheus-client` crate.
//!
//! [`MetricsCollector`] is a `prometheus_client` [`Collector`]: register it
//! once and every scrape reads the cache's counters at that moment (nothing
//! is copied in between, nothing runs on the cache's paths). Get one from
//! [`CachedStateBackend::metrics_collector`](crate::CachedStateBackend::metrics_collector).
//! It holds the cache weakly: after the cache is dropped, a scrape finds
//! nothing to report.
//!
//! What a scrape reports (counters get `_total` from the encoder):
//!
//! | metric | type | labels |
//! | --- | --- | --- |
//! | `strata_reads_total` | counter | `tier` (`l1`, `l2`, `l3`), `result` (`hit`, `miss`) |
//! | `strata_tier_errors_total` | counter | `tier` |
//! | `strata_read_latency_seconds` | histogram | `tier` (L1: one read in 64) |
//! | `strata_l3_write_latency_seconds` | histogram (one sample per L3 write call; a batch is one) | |
//! | `strata_l1_evictions_total`, `strata_l1_expirations_total`, `strata_l1_too_large_total` | counter | |
//! | `strata_l1_entries`, `strata_l1_weight`, `strata_l1_capacity` | gauge | |
//! | `strata_writes_total`, `strata_deletes_total`, `strata_write_batches_total`, `strata_batched_writes_total`, `strata_coalesced_writes_total`, `strata_write_errors_total`, `strata_refresh_ahead_total`, `strata_coalesced_loads_total`, `strata_negative_hits_total`, `strata_l2_negative_hits_total`, `strata_remote_invalidations_total`, `strata_published_invalidations_total` | counter | |
//! | `strata_pending_writes` | gauge | |
//! | `strata_l2_breaker` | gauge (1 for the current state) | `state` (`closed`, `open`, `half-open`); only with L2 |
//!
//! The latency histograms' buckets are the engine's own histogram read at
//! powers of two, from 64 ns to 2^35 ns (34 s), so every bucket count is
//! exact: bucket `le` counts the samples of less than `le` seconds.
//! Several caches in one process: register each in a sub-registry with a
//! label of its own (`Registry::sub_registry_with_label`).

use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;

pub use prometheus_client;

use super::{CacheStats, CumulativeCounts, LatencyHistogram};

/// The histogram buckets: powers of two of nanoseconds, 64 ns to 34 s.
pub const BUCKET_POWERS: std::ops::RangeInclusive<u32> = 6..=35;

/// What one scrape reads: the statistics and the three latency histograms.
#[derive(Debug, Clone)]
pub struct Scrape {
    /// The snapshot `stats()` returns.
    pub stats: CacheStats,
    /// L1, L2 and L3 read latency, as cumulative counts.
    pub latency: [CumulativeCounts; 3],
    /// L3 write latency, as cumulative counts.
    pub write_latency: CumulativeCounts,
}

impl Scrape {
    /// The scrape of `stats`, the three read-latency histograms and the
    /// write-latency one.
    #[must_use]
    pub fn new(stats: CacheStats, latency: [&LatencyHistogram; 3], write_latency: &LatencyHistogram) -> Self {
        Self {
            stats,
            latency: latency.map(|h| h.below_powers_of_two(BUCKET_POWERS)),
            write_latency: write_latency.below_powers_of_two(BUCKET_POWERS),
        }
    }
}

type Source = dyn Fn() -> Option<Scrape> + Send + Sync;

/// A `prometheus_client` collector of one cache's statistics (see the
/// module docs for what it reports).
pub struct MetricsCollector {
    source: Box<Source>,
}

impl MetricsCollector {
    /// A collector that calls `source` on every scrape (`None`: nothing to
    /// report, e.g. the cache is gone).
    pub fn new(source: impl Fn() -> Option<Scrape> + Send + Sync + 'static) -> Self {
        Self { source: Box::new(source) }
    }
}

impl fmt::Debug for MetricsCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsCollector").finish_non_exhaustive()
    }
}

const TIERS: [&str; 3] = ["l1", "l2", "l3"];

impl Collector for MetricsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), fmt::Error> {
        let Some(Scrape { stats: s, latency, write_latency }) = (self.source)() else { return Ok(()) };
        let tiers = [&s.l1, &s.l2, &s.l3];

        let mut m = encoder.encode_descriptor(
            "strata_reads",
            "Reads each tier answered (hit) or could not answer (miss)",
            None,
            MetricType::Counter,
        )?;
        for (tier, t) in TIERS.iter().zip(tiers) {
            for (result, n) in [("hit", t.hits), ("miss", t.misses)] {
                let labels = [("tier", *tier), ("result", result)];
                m.encode_family(&labels)?.encode_counter::<NoLabelSet, _, u64>(&n, None)?;
            }
        }
        let mut m = encoder.encode_descriptor(
            "strata_tier_errors",
            "Errors and timeouts of each tier (reads count them as misses too)",
            None,
            MetricType::Counter,
        )?;
        for (tier, t) in TIERS.iter().zip(tiers) {
            m.encode_family(&[("tier", *tier)])?.encode_counter::<NoLabelSet, _, u64>(&t.errors, None)?;
        }
        let mut m = encoder.encode_descriptor(
            "strata_read_latency",
            "Read latency of each tier (L1: one read in 64)",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        for (tier, c) in TIERS.iter().zip(&latency) {
            m.encode_family(&[("tier", *tier)])?.encode_histogram::<NoLabelSet>(
                c.sum_ns as f64 / 1e9,
                c.count,
                &own_counts(c),
                None,
            )?;
        }
        encoder
            .encode_descriptor(
                "strata_l3_write_latency",
                "Latency of L3 write calls (a write-behind batch is one call)",
                Some(&Unit::Seconds),
                MetricType::Histogram,
            )?
            .encode_histogram::<NoLabelSet>(
                write_latency.sum_ns as f64 / 1e9,
                write_latency.count,
                &own_counts(&write_latency),
                None,
            )?;

        let counters = [
            ("strata_l1_evictions", "Entries L1 evicted for capacity", s.l1.evictions),
            ("strata_l1_expirations", "Entries L1 dropped because their TTL had passed", s.l1.expirations),
            ("strata_l1_too_large", "Values L1 did not keep: heavier than one shard holds", s.l1.too_large),
            ("strata_writes", "Puts (and put_batch entries) accepted", s.writes),
            ("strata_deletes", "Deletes accepted", s.deletes),
            ("strata_write_batches", "Batches written to L3 (write-back: one per write)", s.batches),
            ("strata_batched_writes", "Operations written to L3 inside batches", s.batched_writes),
            (
                "strata_coalesced_writes",
                "Writes absorbed by a later write of the key before its flush",
                s.coalesced_writes,
            ),
            ("strata_write_errors", "L3 write errors", s.write_errors),
            ("strata_refresh_ahead", "Background reloads started by refresh-ahead", s.refresh_ahead),
            (
                "strata_coalesced_loads",
                "Reads that waited for another read's load of the key",
                s.coalesced_loads,
            ),
            (
                "strata_negative_hits",
                "L1 hits on an absent key's marker (also in the L1 hits)",
                s.negative_hits,
            ),
            (
                "strata_l2_negative_hits",
                "L2 hits on an absent key's marker (also in the L2 reads' hits)",
                s.l2_negative_hits,
            ),
            (
                "strata_remote_invalidations",
                "Invalidations received from other instances",
                s.remote_invalidations,
            ),
            (
                "strata_published_invalidations",
                "Invalidations published to the other instances",
                s.published_invalidations,
            ),
        ];
        for (name, help, n) in counters {
            encoder
                .encode_descriptor(name, help, None, MetricType::Counter)?
                .encode_counter::<NoLabelSet, _, u64>(&n, None)?;
        }
        let gauges = [
            ("strata_l1_entries", "Entries L1 holds", s.l1.size),
            ("strata_l1_weight", "Weight of the entries L1 holds, in capacity units", s.l1.weight),
            ("strata_l1_capacity", "L1 capacity, in capacity units", s.l1.capacity),
            ("strata_pending_writes", "Writes waiting for L3 (queued or being written)", s.pending_writes),
        ];
        for (name, help, n) in gauges {
            encoder.encode_descriptor(name, help, None, MetricType::Gauge)?.encode_gauge(&n)?;
        }
        if let Some(state) = &s.l2_breaker {
            let mut m = encoder.encode_descriptor(
                "strata_l2_breaker",
                "The L2 circuit breaker: 1 for its current state",
                None,
                MetricType::Gauge,
            )?;
            for name in ["closed", "open", "half-open"] {
                m.encode_family(&[("state", name)])?.encode_gauge(&u64::from(state == name))?;
            }
        }
        Ok(())
    }
}

/// `c` as the encoder takes a histogram: each bucket's own count (upper
/// bound in seconds), which it sums up again, then `+Inf`.
fn own_counts(c: &CumulativeCounts) -> Vec<(f64, u64)> {
    let mut before = 0;
    let mut buckets: Vec<(f64, u64)> = c
        .below
        .iter()
        .map(|&(k, n)| ((1u64 << k) as f64 / 1e9, n - std::mem::replace(&mut before, n)))
        .collect();
    buckets.push((f64::INFINITY, c.count - before));
    buckets
}
