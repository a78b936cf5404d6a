//! The L2 model: a Redis stand-in with a capacity (evicting LRU, as Redis'
//! `allkeys-lru` approximates) and a TTL, shared by every instance. As the
//! engine's, a delete leaves a tombstone ([`strata_core::policy::tombstone`]):
//! read as a miss, it takes room and makes `SET NX` a no-op until it
//! expires.

use std::time::Duration;

use strata_core::Instant;
use strata_core::config::{Capacity, L2Config};
use strata_core::l1::L1Store;
use strata_core::policy::eviction::EvictionConfig;
use strata_core::policy::tombstone_ttl;

use super::{SimL1, weight};

/// The size a tombstone is weighed at: its tag byte (the engine's L2 value
/// for a deleted key).
const TOMBSTONE_SIZE: u32 = 1;

/// The shared tier. Values are whatever the simulation tracks (versions);
/// `None` is a tombstone.
#[derive(Debug)]
pub struct L2Model<V> {
    store: SimL1<Option<V>>,
    capacity: Option<Capacity>,
    tombstone_ttl: Duration,
}

impl<V> L2Model<V> {
    /// An L2 with the capacity (`None`: unbounded) and TTL of `cfg`, keys
    /// hashed under `seed` (the simulation's, see [`super::hash_seed`]).
    #[must_use]
    pub fn new(cfg: &L2Config, seed: u64) -> Self {
        let units = cfg.capacity.map_or(u64::MAX, Capacity::units);
        let store = L1Store::with_hash_seed(units, EvictionConfig::Lru.build(units), cfg.ttl, seed);
        Self { store, capacity: cfg.capacity, tombstone_ttl: tombstone_ttl(cfg.ttl) }
    }
}

impl<V: Copy> L2Model<V> {
    /// Reads `key` (hashed under the model's seed) at `now`: its value, or
    /// `None` if absent or a tombstone.
    #[inline]
    pub fn get(&mut self, hash: u64, key: u64, now: Instant) -> Option<V> {
        self.store.get_hashed(hash, &key, now).and_then(|e| e.value)
    }

    /// Stores `key → value` for an object of `size` bytes; `ttl` overrides
    /// the tier's TTL.
    #[inline]
    pub fn set(&mut self, hash: u64, key: u64, value: V, size: u32, ttl: Option<Duration>, now: Instant) {
        let w = self.capacity.map_or(1, |c| weight(c, size));
        self.store.insert_hashed(hash, key, Some(value), w, ttl, now);
    }

    /// A delete of `key`: a tombstone, for the tier's TTL or
    /// [`strata_core::policy::TOMBSTONE_TTL`], whichever is shorter.
    #[inline]
    pub fn delete(&mut self, hash: u64, key: u64, now: Instant) {
        let w = self.capacity.map_or(1, |c| weight(c, TOMBSTONE_SIZE));
        self.store.insert_hashed(hash, key, None, w, Some(self.tombstone_ttl), now);
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

    /// Removes `key` (no tombstone: the engine's removal of a value that
    /// may be older than L3's).
    #[inline]
    pub fn remove(&mut self, key: u64) {
        self.store.remove(&key);
    }

    /// The underlying store (counters, length; tombstones included).
    #[must_use]
    pub fn store(&self) -> &SimL1<Option<V>> {
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

    /// A delete's tombstone, as the engine's: a miss that blocks `SET NX`
    /// and takes room, until the tier's TTL or 10 s, whichever is shorter.
    #[test]
    fn tombstones_read_as_misses_and_block_populate_until_they_expire() {
        let h = |k: u64| strata_core::l1::hash_key(&k);
        let s = |secs: u64| Instant::from_nanos(secs * 1_000_000_000);
        for (ttl, gone) in
            [(None, 10), (Some(Duration::from_secs(300)), 10), (Some(Duration::from_secs(3)), 3)]
        {
            let cfg = L2Config { capacity: Some(Capacity::Entries(2)), ttl, ..L2Config::default() };
            let mut l2 = L2Model::new(&cfg, DEFAULT_HASH_SEED);
            l2.set(h(1), 1, 10u64, 100, None, s(0));
            l2.delete(h(1), 1, s(0));
            assert_eq!(l2.get(h(1), 1, s(0)), None, "{ttl:?}: read as a miss");
            l2.populate(h(1), 1, 11, 100, s(1));
            assert_eq!(l2.get(h(1), 1, s(1)), None, "{ttl:?}: SET NX is a no-op");
            l2.populate(h(1), 1, 12, 100, s(gone));
            assert_eq!(l2.get(h(1), 1, s(gone)), Some(12), "{ttl:?}: expired after {gone} s");
            l2.delete(h(1), 1, s(gone));
            l2.set(h(1), 1, 13, 100, None, s(gone));
            assert_eq!(l2.get(h(1), 1, s(gone)), Some(13), "{ttl:?}: a set replaces it");
        }
        // It takes room: two tombstones evict the LRU value.
        let cfg = L2Config { capacity: Some(Capacity::Entries(2)), ttl: None, ..L2Config::default() };
        let mut l2 = L2Model::new(&cfg, DEFAULT_HASH_SEED);
        l2.set(h(1), 1, 10u64, 100, None, s(0));
        l2.delete(h(2), 2, s(0));
        l2.delete(h(3), 3, s(0));
        assert_eq!(l2.get(h(1), 1, s(0)), None);
        assert_eq!(l2.store().len(), 2);
    }
}
