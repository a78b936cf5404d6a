//! [`CacheBuilder`]: validates a [`CacheConfig`] and assembles the engine.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use hashbrown::HashMap;
use parking_lot::Mutex;
use tokio::sync::Notify;

use super::single_flight::SingleFlight;
use super::{CachedStateBackend, Inner, WriteState};
use crate::backend::StateBackend;
use crate::clock::{Clock, SystemClock};
use crate::config::{CacheConfig, Capacity};
use crate::error::{Result, StateError};
use crate::l1::ShardedL1;
use crate::l2::L2Tier;
use crate::policy::{RefreshPolicy, WriteBehindQueue, WritePlan};
use crate::stats::{Counter, Metrics};

/// Smallest capacity a shard gets when the shard count is automatic, with a
/// capacity in entries.
const MIN_SHARD_ENTRIES: u64 = 256;
/// The same with a capacity in bytes: a shard holds values up to its part
/// of the capacity, so automatic sharding keeps every value of up to 4 MiB
/// cacheable (when the whole capacity is that large).
const MIN_SHARD_BYTES: u64 = 4 << 20;

/// Most L1 entries room is made for when the cache is built (about 6 MiB).
const L1_PRESIZE_MAX: usize = 65_536;

/// Builds a [`CachedStateBackend`].
#[must_use]
pub struct CacheBuilder<B> {
    backend: B,
    config: CacheConfig,
    clock: Option<Arc<dyn Clock>>,
    l2: Option<Arc<dyn L2Tier>>,
}

impl<B: StateBackend> CacheBuilder<B> {
    pub(crate) fn new(backend: B) -> Self {
        Self { backend, config: CacheConfig::default(), clock: None, l2: None }
    }

    /// Uses `config`.
    pub fn config(mut self, config: CacheConfig) -> Self {
        self.config = config;
        self
    }

    /// Uses `clock` instead of the system clock (tests: `ManualClock`).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Puts `tier` in front of L3 as the shared L2 (its TTL comes from
    /// `config.l2`). Needs a tokio runtime at `build()`.
    pub fn l2(mut self, tier: Arc<dyn L2Tier>) -> Self {
        self.l2 = Some(tier);
        self
    }

    /// Validates the configuration and starts the engine (and, for queued
    /// write strategies, its flusher task on the current tokio runtime).
    ///
    /// # Errors
    /// [`StateError::Config`] for an invalid configuration, or when a queued
    /// write strategy is configured outside a tokio runtime.
    pub fn build(self) -> Result<CachedStateBackend<B>> {
        let cfg = self.config;
        cfg.validate()?;
        let plan = WritePlan::of(cfg.write.strategy);
        let runtime = tokio::runtime::Handle::try_current();
        if self.l2.is_some() && runtime.is_err() {
            return Err(StateError::config("l2", "an L2 tier needs a tokio runtime: build inside one"));
        }
        if plan.is_queued() && runtime.is_err() {
            return Err(StateError::config(
                "write.strategy",
                "write-back and write-behind need a tokio runtime for their flusher: build inside one",
            ));
        }
        let capacity = cfg.l1.capacity.units();
        let shards = match cfg.l1.shards {
            0 => {
                let cpus = std::thread::available_parallelism().map_or(4, usize::from);
                let min = match cfg.l1.capacity {
                    Capacity::Entries(_) => MIN_SHARD_ENTRIES,
                    Capacity::Bytes(_) => MIN_SHARD_BYTES,
                };
                let by_capacity = usize::try_from(capacity / min).unwrap_or(usize::MAX).max(1);
                let want = (cpus * 4).min(by_capacity);
                // Round down to a power of two so no shard gets too little.
                1usize << (usize::BITS - 1 - want.leading_zeros())
            }
            n => n,
        };
        let eviction = cfg.l1.eviction.clone();
        let seed = cfg.l1.hash_seed.unwrap_or_else(crate::l1::random_hash_seed);
        let l1 = ShardedL1::with_hash_seed(shards, capacity, cfg.l1.ttl, seed, |cap| eviction.build(cap));
        l1.prefetch_values(crate::prefetch::bytes_start);
        if let Capacity::Entries(n) = cfg.l1.capacity {
            // Room up front, so a filling cache does not copy its entries
            // on every doubling; bounded, so a huge capacity costs no memory
            // before it is used.
            l1.reserve(usize::try_from(n).unwrap_or(usize::MAX).min(L1_PRESIZE_MAX));
        }
        let (ready_tx, subscribed) = tokio::sync::watch::channel(self.l2.is_none());
        let inner = Arc::new(Inner {
            l2: self.l2,
            l2_populate_errors: Arc::new(Counter::default()),
            background: Arc::default(),
            subscribed,
            l1,
            weigher: cfg.l1.capacity,
            l3: self.backend,
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock::new())),
            stopwatch: SystemClock::new(),
            plan,
            writes: Mutex::new(WriteState {
                queue: WriteBehindQueue::from_config_with_hash_seed(&cfg.write, seed),
                flushing: HashMap::with_hasher(crate::l1::key_hasher_with(seed)),
            }),
            flush_wakeup: Notify::new(),
            space: Notify::new(),
            flush_lock: tokio::sync::Mutex::new(()),
            refresh: Mutex::new(RefreshPolicy::with_hash_seed(&cfg.refresh, seed)),
            refresh_enabled: cfg.refresh.enabled,
            loads: SingleFlight::new(seed),
            metrics: Metrics::default(),
            shut_down: AtomicBool::new(false),
            flusher: Mutex::new(None),
            config: cfg,
        });
        if inner.l2.is_some()
            && let Ok(handle) = &runtime
        {
            handle.spawn(super::shared::subscriber(Arc::downgrade(&inner), ready_tx));
        }
        if plan.is_queued()
            && let Ok(handle) = runtime
        {
            let task = handle.spawn(super::flusher::run(Arc::downgrade(&inner)));
            *inner.flusher.lock() = Some(task);
        }
        Ok(CachedStateBackend { inner })
    }
}
