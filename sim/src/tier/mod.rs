//! The modelled tiers: L1 is `strata-core`'s own [`L1Store`] (one per
//! simulated instance), L2 an LRU [`L1Store`] standing in for Redis, L3 a
//! versioned store behind a concurrency-limited FIFO queue, failing as
//! configured.

mod failures;
mod l2;
mod l3;

use std::time::Duration;

use strata_core::Instant;
use strata_core::config::{Capacity, L1Config};
use strata_core::l1::L1Store;
use strata_core::policy::eviction::AnyPolicy;

pub use failures::L3Failures;
pub use l2::{L2Lookup, L2Model};
pub use l3::{L3Queue, L3Store};

/// An L1 store of the simulator: the engine's store with `u64` keys.
pub type SimL1<V> = L1Store<u64, V, AnyPolicy>;

/// The seed a simulation hashes keys under (L1, the L2 model, routing):
/// `cfg.hash_seed` or, when it is not set (the engine then draws a random
/// one), [`strata_core::l1::DEFAULT_HASH_SEED`]. A request's key is hashed
/// once, under it.
#[must_use]
pub fn hash_seed(cfg: &L1Config) -> u64 {
    cfg.hash_seed.unwrap_or(strata_core::l1::DEFAULT_HASH_SEED)
}

/// The L1 store `cfg` describes, built through `EvictionConfig::build`,
/// hashing keys under [`hash_seed`].
#[must_use]
pub fn build_l1<V>(cfg: &L1Config) -> SimL1<V> {
    let units = cfg.capacity.units();
    L1Store::with_hash_seed(units, cfg.eviction.build(units), cfg.ttl, hash_seed(cfg))
}

/// The weight of an object of `size` bytes under `capacity`: 1 when
/// counting entries, the size (at least 1) when counting bytes. The trace's
/// size covers key and value.
#[inline]
#[must_use]
pub fn weight(capacity: Capacity, size: u32) -> u64 {
    capacity.weigh(0, size as usize).max(1)
}

/// Bytes of a key in the engine the simulator stands for: `strata demo`
/// turns the trace's `u64` keys into 8-byte keys.
pub const KEY_BYTES: u32 = 8;

/// How the simulator's L1 remembers absent keys (`l1.negative_ttl_ms`;
/// the rule is `strata_core::policy::absent`'s): for the negative TTL, an
/// entry weighing what the engine's marker weighs (its key and the marker).
#[derive(Clone, Copy, Debug)]
pub struct AbsentMarkers {
    ttl: Option<Duration>,
    weight: u64,
}

impl AbsentMarkers {
    /// The markers `cfg` asks for (none without a negative TTL).
    #[must_use]
    pub fn new(cfg: &L1Config) -> Self {
        let size = KEY_BYTES + strata_core::policy::absent::ABSENT_MARKER_LEN as u32;
        Self { ttl: cfg.negative_ttl, weight: weight(cfg.capacity, size) }
    }

    /// Stores `marker` for `key` in `l1`, if negative caching is on.
    #[inline]
    pub fn remember<V>(self, l1: &mut SimL1<V>, hash: u64, key: u64, marker: V, now: Instant) {
        if let Some(ttl) = self.ttl {
            l1.insert_hashed(hash, key, marker, self.weight, Some(ttl), now);
        }
    }
}

/// A TTL given by the trace (seconds) as a `Duration`.
#[inline]
#[must_use]
pub fn trace_ttl(ttl: Option<u32>) -> Option<Duration> {
    ttl.filter(|&s| s > 0).map(|s| Duration::from_secs(u64::from(s)))
}
