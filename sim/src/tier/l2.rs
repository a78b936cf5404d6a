//! The L2 model: a Redis stand-in with a capacity (evicting LRU, as Redis'
//! `allkeys-lru` approximates) and a TTL, shared by every instance.

use std::time::Duration;

use strata_core::Instant;
use strata_core::config::{Capacity, L2Config};
use strata_core::l1::{Entry, L1Store};
use strata_core::policy::eviction::EvictionConfig;

use super::{SimL1, weight};

/// The shared tier. Values are whatever the simulation tracks (versions).
#[derive(Debug)]
pub struct L2Model<V> {
    store: SimL1<V>,
    capacity: Option<Capacity>,
}

impl<V> L2Model<V> {
    /// An L2 with the capacity (`None`: unbounded) and TTL of `cfg`, keys
    /// hashed under `seed` (the simulation's, see [`super::hash_seed`]).
    #[must_use]
    pub fn new(cfg: &L2Config, seed: u64) -> Self {
        let units = cfg.capacity.map_or(u64::MAX, Capacity::units);
        let store = L1Store::with_hash_seed(units, EvictionConfig::Lru.build(units), cfg.ttl, seed);
        Self { store, capacity: cfg.capacity }
    }

    /// Reads `key` (hashed under the model's seed) at `now`.
    #[inline]
    pub fn get(&mut self, hash: u64, key: u64, now: Instant) -> Option<&Entry<u64, V>> {
        self.store.get_hashed(hash, &key, now)
    }

    /// Stores `key → value` for an object of `size` bytes; `ttl` overrides
    /// the tier's TTL.
    #[inline]
    pub fn set(&mut self, hash: u64, key: u64, value: V, size: u32, ttl: Option<Duration>, now: Instant) {
        let w = self.capacity.map_or(1, |c| weight(c, size));
        self.store.insert_hashed(hash, key, value, w, ttl, now);
    }

    /// Stores `key → value` only if L2 holds no live entry for it (the
    /// engine fills L2 after an L3 load with `SET NX`, so that a load never
    /// overwrites a newer write); the tier's TTL.
    #[inline]
    pub fn populate(&mut self, hash: u64, key: u64, value: V, size: u32, now: Instant) {
        if self.store.peek(&key, now).is_none() {
            self.set(hash, key, value, size, None, now);
        }
    }

    /// Deletes `key`.
    #[inline]
    pub fn remove(&mut self, key: u64) {
        self.store.remove(&key);
    }

    /// The underlying store (counters, length).
    #[must_use]
    pub fn store(&self) -> &SimL1<V> {
        &self.store
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::l1::DEFAULT_HASH_SEED;

    #[test]
    fn capacity_ttl_and_unbounded() {
        let cfg = L2Config {
            capacity: Some(Capacity::Entries(2)),
            ttl: Some(Duration::from_secs(1)),
            ..L2Config::default()
        };
        let mut l2 = L2Model::new(&cfg, DEFAULT_HASH_SEED);
        let h = |k: u64| strata_core::l1::hash_key(&k);
        let t0 = Instant::ZERO;
        l2.set(h(1), 1, 10u64, 100, None, t0);
        l2.set(h(2), 2, 20, 100, None, t0);
        assert!(l2.get(h(1), 1, t0).is_some());
        l2.set(h(3), 3, 30, 100, None, t0);
        assert!(l2.get(h(2), 2, t0).is_none(), "LRU victim");
        assert!(l2.get(h(1), 1, Instant::from_nanos(1_000_000_000)).is_none(), "expired");

        let mut big =
            L2Model::new(&L2Config { capacity: None, ttl: None, ..L2Config::default() }, DEFAULT_HASH_SEED);
        for k in 0..1000 {
            big.set(h(k), k, k, u32::MAX, None, t0);
        }
        assert_eq!(big.store().len(), 1000);
    }
}
