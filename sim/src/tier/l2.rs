//! The L2 model: a Redis stand-in with a capacity (evicting LRU, as Redis'
//! `allkeys-lru` approximates) and a TTL, shared by every instance. As the
//! engine's, a delete leaves a tombstone ([`strata_core::policy::tombstone`]):
//! read as a miss, it takes room and makes `SET NX` a no-op until it
//! expires. With `l2.negative_ttl_ms`, a load that finds a key absent in
//! L3 leaves an absent-key marker (`SET NX`, for the negative TTL): read
//! as "absent", so no instance asks L3 again until it expires or a write
//! replaces it; a tombstone then reads as "absent" too.

use std::time::Duration;

use strata_core::Instant;
use strata_core::config::{Capacity, L2Config};
use strata_core::l1::{L1Store, StoreCounters};
use strata_core::policy::absent::l2_tombstone_is_absent;
use strata_core::policy::eviction::EvictionConfig;
use strata_core::policy::tombstone_ttl;

use super::{SimL1, weight};

/// The size a tombstone or an absent-key marker is weighed at: its tag
/// byte (the engine's L2 value for a deleted or absent key).
const TAG_SIZE: u32 = 1;

/// What L2 holds for a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot<V> {
    /// A value.
    Value(V),
    /// An absent-key marker, carrying what the simulation tracks of the
    /// absence (the version L3 was found absent at).
    Absent(V),
    /// A delete's tombstone, carrying what the simulation tracks of the
    /// delete (its version).
    Tombstone(V),
}

/// What a read of L2 finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L2Lookup<V> {
    /// A value: an L2 hit.
    Hit(V),
    /// An absent-key marker (`l2.negative_ttl_ms`): an L2 hit that answers
    /// "absent" without L3.
    Absent(V),
    /// Nothing, or a tombstone without negative caching: the load goes on
    /// to L3.
    Miss,
}

impl<V> L2Lookup<V> {
    /// Whether the lookup found something (a value or a marker): an L2 hit.
    #[inline]
    #[must_use]
    pub fn is_hit(&self) -> bool {
        !matches!(self, Self::Miss)
    }
}

/// The shared tier. Values are whatever the simulation tracks (versions).
#[derive(Debug)]
pub struct L2Model<V> {
    store: SimL1<Slot<V>>,
    capacity: Option<Capacity>,
    tombstone_ttl: Duration,
    /// `l2.negative_ttl_ms`: how long an absent-key marker lives (`None`:
    /// no markers).
    negative_ttl: Option<Duration>,
    /// Whether a tombstone answers "absent" (`strata_core::policy::absent`).
    tombstone_is_absent: bool,
}

impl<V> L2Model<V> {
    /// An L2 with the capacity (`None`: unbounded), TTL and negative TTL of
    /// `cfg`, keys hashed under `seed` (the simulation's, see
    /// [`super::hash_seed`]).
    #[must_use]
    pub fn new(cfg: &L2Config, seed: u64) -> Self {
        let units = cfg.capacity.map_or(u64::MAX, Capacity::units);
        let store = L1Store::with_hash_seed(units, EvictionConfig::Lru.build(units), cfg.ttl, seed);
        Self {
            store,
            capacity: cfg.capacity,
            tombstone_ttl: tombstone_ttl(cfg.ttl),
            negative_ttl: cfg.negative_ttl,
            tombstone_is_absent: l2_tombstone_is_absent(cfg),
        }
    }

    /// The store's counters (evictions and expirations; tombstones and
    /// markers included).
    #[must_use]
    pub fn counters(&self) -> StoreCounters {
        self.store.counters()
    }

    /// The weight of an entry of `size` bytes under the tier's capacity.
    #[inline]
    fn weight(&self, size: u32) -> u64 {
        self.capacity.map_or(1, |c| weight(c, size))
    }
}

impl<V: Copy> L2Model<V> {
    /// Reads `key` (hashed under the model's seed) at `now`: a value, an
    /// absent-key marker, or a miss (nothing, or a tombstone; with
    /// `l2.negative_ttl_ms` a tombstone reads as absent, as the engine's).
    #[inline]
    pub fn get(&mut self, hash: u64, key: u64, now: Instant) -> L2Lookup<V> {
        match self.store.get_hashed(hash, &key, now).map(|e| e.value) {
            Some(Slot::Value(v)) => L2Lookup::Hit(v),
            Some(Slot::Absent(v)) => L2Lookup::Absent(v),
            // With negative caching, a tombstone says "absent" too.
            Some(Slot::Tombstone(v)) if self.tombstone_is_absent => L2Lookup::Absent(v),
            Some(Slot::Tombstone(_)) | None => L2Lookup::Miss,
        }
    }

    /// Stores `key → value` for an object of `size` bytes; `ttl` overrides
    /// the tier's TTL. It replaces whatever L2 holds (a marker too).
    #[inline]
    pub fn set(&mut self, hash: u64, key: u64, value: V, size: u32, ttl: Option<Duration>, now: Instant) {
        let w = self.weight(size);
        self.store.insert_hashed(hash, key, Slot::Value(value), w, ttl, now);
    }

    /// A delete of `key` (`version`: what the simulation tracks of it): a
    /// tombstone, for the tier's TTL or
    /// [`strata_core::policy::TOMBSTONE_TTL`], whichever is shorter.
    #[inline]
    pub fn delete(&mut self, hash: u64, key: u64, version: V, now: Instant) {
        let w = self.weight(TAG_SIZE);
        self.store.insert_hashed(hash, key, Slot::Tombstone(version), w, Some(self.tombstone_ttl), now);
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

    /// With `l2.negative_ttl_ms`, remembers that an L3 load found `key`
    /// absent (`marker`: what the simulation tracks of the absence), as
    /// [`Self::populate`] does a value (`SET NX`: a value, a tombstone or
    /// a marker blocks it); the marker weighs a tag byte and lives for the
    /// negative TTL, not the tier's. Without a negative TTL, nothing.
    #[inline]
    pub fn populate_absent(&mut self, hash: u64, key: u64, marker: V, now: Instant) {
        let Some(ttl) = self.negative_ttl else { return };
        if self.store.peek(&key, now).is_none() {
            let w = self.weight(TAG_SIZE);
            self.store.insert_hashed(hash, key, Slot::Absent(marker), w, Some(ttl), now);
        }
    }

    /// Removes `key` (no tombstone: the engine's removal of a value that
    /// may be older than L3's).
    #[inline]
    pub fn remove(&mut self, key: u64) {
        self.store.remove(&key);
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
        assert_eq!(l2.get(h(1), 1, t0), L2Lookup::Hit(10));
        l2.set(h(3), 3, 30, 100, None, t0);
        assert_eq!(l2.get(h(2), 2, t0), L2Lookup::Miss, "LRU victim");
        assert_eq!(l2.get(h(1), 1, Instant::from_nanos(1_000_000_000)), L2Lookup::Miss, "expired");

        let mut big =
            L2Model::new(&L2Config { capacity: None, ttl: None, ..L2Config::default() }, DEFAULT_HASH_SEED);
        for k in 0..1000 {
            big.set(h(k), k, k, u32::MAX, None, t0);
        }
        assert_eq!(big.store.len(), 1000);
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
            l2.delete(h(1), 1, 0, s(0));
            assert_eq!(l2.get(h(1), 1, s(0)), L2Lookup::Miss, "{ttl:?}: read as a miss");
            l2.populate(h(1), 1, 11, 100, s(1));
            assert_eq!(l2.get(h(1), 1, s(1)), L2Lookup::Miss, "{ttl:?}: SET NX is a no-op");
            l2.populate(h(1), 1, 12, 100, s(gone));
            assert_eq!(l2.get(h(1), 1, s(gone)), L2Lookup::Hit(12), "{ttl:?}: expired after {gone} s");
            l2.delete(h(1), 1, 0, s(gone));
            l2.set(h(1), 1, 13, 100, None, s(gone));
            assert_eq!(l2.get(h(1), 1, s(gone)), L2Lookup::Hit(13), "{ttl:?}: a set replaces it");
        }
        // It takes room: two tombstones evict the LRU value.
        let cfg = L2Config { capacity: Some(Capacity::Entries(2)), ttl: None, ..L2Config::default() };
        let mut l2 = L2Model::new(&cfg, DEFAULT_HASH_SEED);
        l2.set(h(1), 1, 10u64, 100, None, s(0));
        l2.delete(h(2), 2, 0, s(0));
        l2.delete(h(3), 3, 0, s(0));
        assert_eq!(l2.get(h(1), 1, s(0)), L2Lookup::Miss);
        assert_eq!(l2.store.len(), 2);
    }

    /// An absent-key marker (`l2.negative_ttl_ms`): read as "absent" (not
    /// a miss), written `SET NX`, for the negative TTL whatever the tier's.
    #[test]
    fn absent_markers_live_for_the_negative_ttl_and_only_where_l2_holds_nothing() {
        let h = |k: u64| strata_core::l1::hash_key(&k);
        let s = |secs: u64| Instant::from_nanos(secs * 1_000_000_000);
        // Longer than the tier's TTL, and shorter: the marker's own either way.
        for (tier, negative) in [(2, 5), (300, 5)] {
            let cfg = L2Config {
                capacity: Some(Capacity::Entries(10)),
                ttl: Some(Duration::from_secs(tier)),
                negative_ttl: Some(Duration::from_secs(negative)),
                ..L2Config::default()
            };
            let mut l2 = L2Model::new(&cfg, DEFAULT_HASH_SEED);
            l2.populate_absent(h(1), 1, 7u64, s(0));
            assert_eq!(l2.get(h(1), 1, s(0)), L2Lookup::Absent(7), "tier {tier} s");
            assert!(l2.get(h(1), 1, s(0)).is_hit());
            assert_eq!(l2.get(h(1), 1, s(negative - 1)), L2Lookup::Absent(7), "tier {tier} s");
            assert_eq!(l2.get(h(1), 1, s(negative)), L2Lookup::Miss, "tier {tier} s: expired");
            // SET NX: a live marker is not replaced by another.
            l2.populate_absent(h(1), 1, 8, s(10));
            l2.populate_absent(h(1), 1, 9, s(11));
            assert_eq!(l2.get(h(1), 1, s(11)), L2Lookup::Absent(8));
        }
        let cfg = L2Config {
            capacity: Some(Capacity::Entries(10)),
            ttl: None,
            negative_ttl: Some(Duration::from_secs(5)),
            ..L2Config::default()
        };
        let mut l2 = L2Model::new(&cfg, DEFAULT_HASH_SEED);
        // A value blocks it; so does a tombstone, which says "absent" at
        // the delete's version, until it expires (10 s).
        l2.set(h(1), 1, 10u64, 100, None, s(0));
        l2.populate_absent(h(1), 1, 1, s(0));
        assert_eq!(l2.get(h(1), 1, s(0)), L2Lookup::Hit(10));
        l2.delete(h(2), 2, 6, s(0));
        l2.populate_absent(h(2), 2, 2, s(1));
        assert_eq!(l2.get(h(2), 2, s(1)), L2Lookup::Absent(6), "the tombstone, not the marker");
        l2.populate_absent(h(2), 2, 2, s(10));
        assert_eq!(l2.get(h(2), 2, s(10)), L2Lookup::Absent(2), "after the tombstone expired");
        // A set overwrites it, a delete tombstones it, a removal drops it;
        // a marker blocks a value's populate (`SET NX`).
        l2.populate(h(2), 2, 20, 100, s(10));
        assert_eq!(l2.get(h(2), 2, s(10)), L2Lookup::Absent(2));
        l2.set(h(2), 2, 21, 100, None, s(10));
        assert_eq!(l2.get(h(2), 2, s(10)), L2Lookup::Hit(21));
        l2.populate_absent(h(3), 3, 3, s(10));
        l2.delete(h(3), 3, 4, s(10));
        assert_eq!(l2.get(h(3), 3, s(10)), L2Lookup::Absent(4), "the delete's tombstone");
        l2.populate_absent(h(3), 3, 3, s(11));
        assert_eq!(l2.get(h(3), 3, s(11)), L2Lookup::Absent(4), "the tombstone blocks it");
        l2.populate_absent(h(4), 4, 4, s(10));
        l2.remove(4);
        assert_eq!(l2.get(h(4), 4, s(10)), L2Lookup::Miss);
        l2.populate_absent(h(4), 4, 5, s(10));
        assert_eq!(l2.get(h(4), 4, s(10)), L2Lookup::Absent(5), "gone, so SET NX writes");
    }

    /// A marker weighs its tag byte (1 under a byte capacity), and takes
    /// room as any entry: the LRU value goes first.
    #[test]
    fn absent_markers_weigh_a_tag_byte_and_are_evicted_as_any_entry() {
        let h = |k: u64| strata_core::l1::hash_key(&k);
        let t0 = Instant::ZERO;
        let cfg = L2Config {
            capacity: Some(Capacity::Bytes(102)),
            ttl: None,
            negative_ttl: Some(Duration::from_secs(5)),
            ..L2Config::default()
        };
        let mut l2 = L2Model::new(&cfg, DEFAULT_HASH_SEED);
        l2.set(h(1), 1, 10u64, 100, None, t0);
        l2.populate_absent(h(2), 2, 0, t0);
        l2.populate_absent(h(3), 3, 0, t0);
        assert_eq!(l2.store.weight(), 102, "a 100-byte value and two 1-byte markers");
        l2.populate_absent(h(4), 4, 0, t0);
        assert_eq!(l2.get(h(1), 1, t0), L2Lookup::Miss, "the LRU value made room");
        assert_eq!(l2.get(h(4), 4, t0), L2Lookup::Absent(0));
        assert_eq!(l2.store.weight(), 3);
        // Without a negative TTL, no marker.
        let mut off = L2Model::new(&L2Config { negative_ttl: None, ..cfg }, DEFAULT_HASH_SEED);
        off.populate_absent(h(2), 2, 0u64, t0);
        assert_eq!(off.get(h(2), 2, t0), L2Lookup::Miss);
        assert_eq!(off.store.len(), 0);
    }
}
