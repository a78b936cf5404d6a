//! The tiered cache engine: [`CachedStateBackend`].
//!
//! It executes the decisions of the sans-IO policies with real I/O:
//!
//! - **Read** (`read.rs`): L1 hit → return (and maybe start one refresh-ahead
//!   reload in the background). L1 miss → a pending write of the key answers
//!   (read-your-writes) → otherwise one load per key (single-flight) from L2,
//!   then L3; what is found is copied into the tiers above with their TTLs,
//!   unless a write to the key happened meanwhile.
//! - **Write** (`write.rs`): per [`WritePlan`]: write-through persists to L3
//!   first and only then updates the caches (an L3 error leaves no cache
//!   holding the value); write-back and write-behind update the caches now and
//!   queue the L3 write in the [`WriteBehindQueue`], which a background
//!   flusher (`flusher.rs`) drains, one call per write (write-back) or in
//!   coalesced batches (write-behind), retrying with backoff on errors.
//!   A full queue makes `put` wait (backpressure), then fail with
//!   `QueueFull`: a write is never dropped silently.
//! - Deletes go through the same plan (a queued delete replaces a pending put
//!   of the key); `invalidate` drops the key from the caches and cancels its
//!   pending write.
//!
//! The hit path takes one shard lock, does not allocate and records latency
//! for one read in [`crate::stats::L1_LATENCY_SAMPLE`]. (One exception, once
//! a value: a value a put handed over as a `Vec`-backed `Bytes`, which L1
//! keeps as it is, gets its shared header from `bytes` on its first read.
//! So a put does not pay for sharing a value that is never read back; see
//! `QueuedValue`.)

mod absent;
mod backend_impl;
mod background;
mod builder;
mod cancel;
mod flusher;
mod isolate;
mod l2_value;
mod open;
mod queued;
mod read;
mod shared;
mod single_flight;
mod write;

pub use builder::CacheBuilder;
pub use open::DynCache;
pub use shared::TOMBSTONE_TTL;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use bytes::Bytes;
use hashbrown::HashMap;
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::backend::StateBackend;
use crate::clock::Clock;
use crate::config::{CacheConfig, Capacity};
use crate::error::Result;
use crate::l1::{ByteKey, KeyHasher, ShardedL1};
use crate::l2::L2Tier;
use crate::policy::eviction::AnyPolicy;
use crate::policy::{PendingOp, RefreshPolicy, WriteBehindQueue, WritePlan};
use crate::stats::{CacheStats, Counter, Metrics, TierStats};
use single_flight::SingleFlight;

pub(crate) use queued::QueuedValue;

/// Pending L3 writes: queued, and taken by the flusher but not yet written.
pub(crate) struct WriteState {
    pub(crate) queue: WriteBehindQueue<ByteKey, QueuedValue>,
    pub(crate) flushing: HashMap<ByteKey, PendingOp<QueuedValue>, KeyHasher>,
}

pub(crate) struct Inner<B> {
    pub(crate) l1: ShardedL1<ByteKey, Bytes, AnyPolicy>,
    pub(crate) weigher: Capacity,
    pub(crate) l3: B,
    pub(crate) clock: Arc<dyn Clock>,
    /// Real time, for latency statistics only (decisions use `clock`).
    pub(crate) stopwatch: crate::clock::SystemClock,
    pub(crate) config: CacheConfig,
    pub(crate) plan: WritePlan,
    pub(crate) writes: Mutex<WriteState>,
    /// Wakes the flusher (a batch may be due).
    pub(crate) flush_wakeup: Notify,
    /// Wakes puts waiting for room in the queue.
    pub(crate) space: Notify,
    /// Held while a batch is being written: batches go out one at a time, in order.
    pub(crate) flush_lock: tokio::sync::Mutex<()>,
    pub(crate) refresh: Mutex<RefreshPolicy<Bytes>>,
    pub(crate) refresh_enabled: bool,
    pub(crate) loads: SingleFlight,
    pub(crate) metrics: Metrics,
    pub(crate) shut_down: AtomicBool,
    /// The shared tier, if any.
    pub(crate) l2: Option<Arc<dyn L2Tier>>,
    /// Background L2 population failures.
    pub(crate) l2_populate_errors: Arc<Counter>,
    /// Background tasks (L2 populates, refresh-ahead reloads), for `settle`.
    pub(crate) background: Arc<background::Background>,
    /// True once the invalidation subscription is live (or there is no L2).
    pub(crate) subscribed: tokio::sync::watch::Receiver<bool>,
    /// The flusher task, awaited by `shutdown`.
    pub(crate) flusher: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// A tiered cache in front of a [`StateBackend`] (L3), itself a
/// [`StateBackend`]. Cloning is cheap and shares the cache.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use strata_core::{CacheConfig, MemoryStateBackend};
/// use strata_core::engine::CachedStateBackend;
///
/// let cache = CachedStateBackend::builder(MemoryStateBackend::new())
///     .config(CacheConfig::default())
///     .build()?;
/// cache.put(b"user:1", "Ada".into()).await?;
/// assert_eq!(cache.get(b"user:1").await?.as_deref(), Some(&b"Ada"[..]));
/// cache.shutdown(std::time::Duration::from_secs(5)).await?;
/// # Ok::<(), strata_core::StateError>(())
/// # }).unwrap();
/// ```
pub struct CachedStateBackend<B: StateBackend> {
    pub(crate) inner: Arc<Inner<B>>,
}

impl<B: StateBackend> Clone for CachedStateBackend<B> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

impl<B: StateBackend> std::fmt::Debug for CachedStateBackend<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedStateBackend")
            .field("l3", &self.inner.l3.name())
            .field("plan", &self.inner.plan)
            .finish_non_exhaustive()
    }
}

impl<B: StateBackend> CachedStateBackend<B> {
    /// A builder over `backend` (L3) with the default configuration.
    pub fn builder(backend: B) -> CacheBuilder<B> {
        CacheBuilder::new(backend)
    }

    /// The value of `key`: from L1, else L2, else L3 (read-through).
    ///
    /// Behaves as an `async fn` (nothing happens until it is polled); the
    /// future is written by hand so that an L1 hit is as cheap as possible.
    ///
    /// # Errors
    /// Only when L3 fails (L2 failures count as misses).
    #[inline]
    pub fn get<'a>(&'a self, key: &'a [u8]) -> impl Future<Output = Result<Option<Bytes>>> + Send + 'a {
        read::Get::new(&self.inner, key)
    }

    /// The values of `keys`, in order; misses are loaded with one L3 call.
    ///
    /// # Errors
    /// When L3 fails.
    pub async fn get_batch(&self, keys: &[Bytes]) -> Result<Vec<Option<Bytes>>> {
        self.inner.get_batch(keys).await
    }

    /// Stores `key → value` by the configured write strategy.
    ///
    /// # Errors
    /// Write-through: when L3 fails (no tier keeps the value). Queued
    /// strategies: `QueueFull` after the backpressure wait; `ShutDown`.
    pub async fn put(&self, key: &[u8], value: Bytes) -> Result<()> {
        self.inner.put(key, value, None).await
    }

    /// [`Self::put`] with a TTL for this entry instead of the defaults
    /// (`[l1] ttl_ms`, and `[l2] ttl_ms` for the copy in L2; a TTL longer
    /// than [`crate::config::MAX_L2_TTL`] is no expiry in L2). An instance
    /// that later loads the value from L2 or L3 caches it with its defaults.
    ///
    /// # Errors
    /// As [`Self::put`].
    pub async fn put_with_ttl(&self, key: &[u8], value: Bytes, ttl: Duration) -> Result<()> {
        self.inner.put(key, value, Some(ttl)).await
    }

    /// Stores every pair; write-through makes one L3 call for the batch.
    ///
    /// # Errors
    /// As [`Self::put`].
    pub async fn put_batch(&self, entries: Vec<(Bytes, Bytes)>) -> Result<()> {
        self.inner.put_batch(entries).await
    }

    /// Removes `key` from every tier (through the write strategy).
    ///
    /// # Errors
    /// As [`Self::put`].
    pub async fn delete(&self, key: &[u8]) -> Result<bool> {
        self.inner.delete(Bytes::copy_from_slice(key)).await
    }

    /// Drops `key` from L1 and L2 and cancels its pending L3 write, if any:
    /// the next read loads it from L3. Never touches L3.
    pub async fn invalidate(&self, key: &[u8]) {
        self.inner.invalidate(key).await;
    }

    /// Loads `keys` from L3 with one call and stores them in the caches.
    /// Returns how many were found (a key named twice counts twice; one
    /// whose load was already in flight counts by that load's result).
    ///
    /// # Errors
    /// When L3 fails.
    pub async fn warm_cache(&self, keys: &[Bytes]) -> Result<usize> {
        self.inner.warm(keys).await
    }

    /// Empties L1 (and L2's namespace); never touches L3 or pending writes.
    pub async fn clear_cache(&self) {
        self.inner.clear_cache().await;
    }

    /// Writes every write pending when it is called to L3 and waits for
    /// it. Writes made while it runs are left to the flusher (but for a
    /// newer write of a key still queued, which goes with it), so a steady
    /// stream of puts does not keep it from returning.
    ///
    /// # Errors
    /// The first L3 error (the failed writes stay queued).
    pub async fn flush(&self) -> Result<()> {
        self.inner.flush().await
    }

    /// Stops accepting writes and drains pending ones, retrying until
    /// `deadline` has passed.
    ///
    /// # Errors
    /// `Unflushed` with the keys that could not be written.
    pub async fn shutdown(&self, deadline: Duration) -> Result<()> {
        self.inner.shutdown(deadline).await
    }

    /// A snapshot of the statistics.
    #[must_use]
    pub fn stats(&self) -> CacheStats {
        self.inner.stats()
    }

    /// The configuration in use.
    #[must_use]
    pub fn config(&self) -> &CacheConfig {
        &self.inner.config
    }

    /// Waits until the background work this instance has started is done:
    /// the L2 copies of values it loaded and of keys it found absent, and
    /// its refresh-ahead reloads. Pending writes are [`Self::flush`]'s.
    /// For tests and replays that must see a request's every effect before
    /// the next one.
    pub async fn settle(&self) {
        self.inner.background.settled().await;
    }

    /// Waits until this instance receives other instances' invalidations
    /// (immediately without L2), at most `limit`. Returns whether it does.
    pub async fn ready(&self, limit: Duration) -> bool {
        let mut rx = self.inner.subscribed.clone();
        matches!(tokio::time::timeout(limit, rx.wait_for(|s| *s)).await, Ok(Ok(_)))
    }

    /// A Prometheus collector of this cache's statistics (feature
    /// `prometheus`; see [`crate::stats::prometheus`]): register it with
    /// `registry.register_collector(Box::new(cache.metrics_collector()))`.
    /// It holds the cache weakly, so it does not keep it alive.
    #[cfg(feature = "prometheus")]
    #[must_use]
    pub fn metrics_collector(&self) -> crate::stats::prometheus::MetricsCollector {
        let inner = Arc::downgrade(&self.inner);
        crate::stats::prometheus::MetricsCollector::new(move || {
            let inner = inner.upgrade()?;
            let m = &inner.metrics;
            Some(crate::stats::prometheus::Scrape::new(
                inner.stats(),
                [&m.l1_latency, &m.l2_latency, &m.l3_latency],
                &m.l3_write_latency,
            ))
        })
    }

    /// The state of the L2 circuit breaker (`None` without L2).
    #[must_use]
    pub fn l2_breaker(&self) -> Option<crate::l2::BreakerState> {
        self.inner.l2.as_ref().map(|l2| l2.breaker_state())
    }

    /// The seed this cache hashes keys under: `l1.hash_seed`, or the random
    /// one it drew. Log it to replay this cache's exact hash-dependent
    /// decisions in the simulator (set `l1.hash_seed` to it there).
    #[must_use]
    pub fn hash_seed(&self) -> u64 {
        self.inner.l1.hash_seed()
    }

    /// The L3 backend.
    #[must_use]
    pub fn backend(&self) -> &B {
        &self.inner.l3
    }
}

impl<B: StateBackend> Inner<B> {
    pub(crate) fn stats(&self) -> CacheStats {
        let m = &self.metrics;
        let c = self.l1.counters();
        let l1 = TierStats {
            hits: c.hits,
            misses: c.misses,
            evictions: c.evictions,
            expirations: c.expirations,
            too_large: c.too_large,
            size: self.l1.len() as u64,
            weight: self.l1.weight(),
            capacity: self.l1.capacity(),
            latency: m.l1_latency.summary(),
            ..TierStats::default()
        }
        .with_ratio();
        let l2 = TierStats {
            hits: m.l2_hits.get(),
            misses: m.l2_misses.get(),
            errors: m.l2_errors.get() + self.l2_populate_errors.get(),
            latency: m.l2_latency.summary(),
            ..TierStats::default()
        }
        .with_ratio();
        let l3 = TierStats {
            hits: m.l3_hits.get(),
            misses: m.l3_misses.get(),
            errors: m.l3_errors.get(),
            latency: m.l3_latency.summary(),
            ..TierStats::default()
        }
        .with_ratio();
        let (coalesced, pending) = {
            let w = self.writes.lock();
            (w.queue.coalesced(), (w.queue.len() + w.flushing.len()) as u64)
        };
        CacheStats {
            l1,
            l2,
            l3,
            writes: m.writes.get(),
            deletes: m.deletes.get(),
            batches: m.batches.get(),
            batched_writes: m.batched_writes.get(),
            coalesced_writes: coalesced,
            pending_writes: pending,
            write_errors: m.write_errors.get(),
            write_latency: m.l3_write_latency.summary(),
            refresh_ahead: m.refresh_ahead.get(),
            coalesced_loads: m.coalesced_loads.get(),
            negative_hits: m.negative_hits.get(),
            l2_negative_hits: m.l2_negative_hits.get(),
            remote_invalidations: m.remote_invalidations.get(),
            published_invalidations: m.published_invalidations.get(),
            l2_breaker: self.l2.as_ref().map(|l2| l2.breaker_state().as_str().to_string()),
        }
    }
}

/// The longest real-time wait the engine and its backends set up: about 30
/// years, as good as forever. A caller's longer limit (`Duration::MAX`:
/// "as long as it takes") is this instead of an `Instant` overflow.
pub(crate) const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 86_400);

/// The real-time deadline `limit` from now, at most [`FAR_FUTURE`] away.
pub(crate) fn deadline_after(limit: Duration) -> tokio::time::Instant {
    tokio::time::Instant::now() + limit.min(FAR_FUTURE)
}
