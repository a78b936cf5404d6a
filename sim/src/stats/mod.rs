//! What a run counts and measures while it runs; [`crate::report`] turns it
//! into the report.

mod latency;
mod series;

pub use latency::{LatencyRecorder, MAX_TRACKED_NS};
pub use series::{Series, WindowPoint};

macro_rules! counters {
    ($($(#[doc = $doc:literal])* $name:ident),* $(,)?) => {
        /// Event counts of a run (totals; a window is a difference of two).
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct Counters {
            $($(#[doc = $doc])* pub $name: u64,)*
        }

        impl Counters {
            /// `self - earlier`, field by field.
            #[must_use]
            pub fn since(&self, earlier: &Counters) -> Counters {
                Counters { $($name: self.$name.saturating_sub(earlier.$name),)* }
            }
        }
    };
}

counters! {
    /// Requests of every kind.
    requests,
    /// Get requests.
    reads,
    /// Set requests.
    writes,
    /// Delete requests.
    deletes,
    /// Bytes asked for by gets.
    read_bytes,
    /// Gets served by L1.
    l1_hits,
    /// L1 hits on an absent key's marker (`l1.negative_ttl_ms`): answered
    /// "absent" without L3; also in `l1_hits`.
    negative_hits,
    /// Bytes of gets served by L1.
    l1_hit_bytes,
    /// Gets that missed L1 but were served from the instance's own
    /// not-yet-durable writes.
    pending_write_reads,
    /// Gets that missed L1 and waited for a load already in flight.
    coalesced_loads,
    /// L2 lookups that found the key (a value, or an absent key's marker).
    l2_hits,
    /// L2 hits on an absent key's marker (`l2.negative_ttl_ms`): the load
    /// answers "absent" without L3; also in `l2_hits`.
    l2_negative_hits,
    /// L2 lookups that did not.
    l2_misses,
    /// Bytes of L2 hits.
    l2_hit_bytes,
    /// Bytes of L2 misses.
    l2_miss_bytes,
    /// L3 reads for misses.
    l3_reads,
    /// L3 reads for refresh-ahead.
    l3_refresh_reads,
    /// L3 existence checks of write-back and write-behind deletes (their
    /// return value) whose key neither the queue nor L1 held.
    l3_exists_reads,
    /// Keys written to L3 (a batch counts each key), counted when they
    /// land: a write that failed and was retried counts once, when it lands.
    l3_write_ops,
    /// L3 write requests (a batch counts once), failed ones included, and
    /// the calls of one write that isolate a failed write-behind batch.
    l3_write_requests,
    /// Refresh-ahead reloads started.
    refreshes,
    /// Reads that returned a value older than the latest committed write.
    stale_reads,
    /// Invalidation messages delivered to other instances.
    invalidations,
    /// Writes that had to wait for room in a full write queue.
    backpressure_waits,
    /// Writes that gave up after waiting the backpressure timeout (or
    /// still waited for room when the run ended).
    failed_writes,
    /// L3 requests that failed (see `[l3] failure_rate` and `outages`).
    l3_errors,
    /// Gets answered with an error: their load failed in L3.
    failed_reads,
    /// Sets and deletes answered with an error because an L3 request
    /// failed (a write-through write, a queued delete's existence check).
    write_errors,
    /// Failed L3 write attempts of queued writes: each write of a failed
    /// call (a failed batch counts each of its writes, each failed call
    /// of one write isolating it 1); a write that failed 3 times counts 3.
    retried_writes,
    /// Queued writes still not in L3 when the shutdown deadline passed
    /// (`shutdown_ms`; the engine's `Unflushed` keys).
    unflushed_writes,
}

impl Counters {
    /// Requests sent to L3.
    #[must_use]
    pub fn l3_requests(&self) -> u64 {
        self.l3_reads + self.l3_refresh_reads + self.l3_exists_reads + self.l3_write_requests
    }
}
