//! The concurrent L1: a power-of-two array of [`L1Store`] shards, each behind
//! its own lock, chosen by the key's hash. One policy per shard; with one
//! shard it behaves exactly like the store the simulator drives.

use super::hash::KeyHash;
use std::borrow::Borrow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

use super::hash::{DEFAULT_HASH_SEED, hash_key_with};
use super::store::{InsertOutcome, L1Store, StoreCounters};
use crate::clock::Instant;
use crate::policy::eviction::EvictionPolicy;

/// Most shards a [`ShardedL1`] has (a power of two), and most `l1.shards`
/// a configuration may ask for: far more than lock contention ever needs.
pub const MAX_SHARDS: usize = 1 << 16;

/// What a hit returns: a clone of the value and the entry's timestamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L1Hit<V> {
    /// The value.
    pub value: V,
    /// When it was stored.
    pub inserted_at: Instant,
    /// When it expires ([`Instant::MAX`]: never).
    pub expires_at: Instant,
}

#[repr(align(128))]
struct Shard<T>(Mutex<T>);

/// The sharded L1. See the module docs.
pub struct ShardedL1<K, V, P> {
    shards: Box<[Shard<L1Store<K, V, P>>]>,
    mask: u64,
    /// Set once an entry with a TTL may exist (a default TTL, or an insert
    /// with one); until then a hit needs no clock read. Never cleared.
    expiring: AtomicBool,
    /// The seed of key hashes, shared by every shard.
    seed: u64,
}

impl<K, V, P> std::fmt::Debug for ShardedL1<K, V, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardedL1").field("shards", &self.shards.len()).finish()
    }
}

impl<K, V, P> ShardedL1<K, V, P>
where
    K: KeyHash + Eq,
    V: Clone,
    P: EvictionPolicy,
{
    /// `shards` shards (rounded up to a power of two, at least 1, at most
    /// [`MAX_SHARDS`]) sharing `capacity` evenly; `make_policy(per_shard_capacity)`
    /// builds each policy. Keys hash under [`DEFAULT_HASH_SEED`].
    pub fn new(
        shards: usize,
        capacity: u64,
        default_ttl: Option<Duration>,
        make_policy: impl FnMut(u64) -> P,
    ) -> Self {
        Self::with_hash_seed(shards, capacity, default_ttl, DEFAULT_HASH_SEED, make_policy)
    }

    /// [`Self::new`] with keys hashed under `seed` (shard choice included).
    pub fn with_hash_seed(
        shards: usize,
        capacity: u64,
        default_ttl: Option<Duration>,
        seed: u64,
        mut make_policy: impl FnMut(u64) -> P,
    ) -> Self {
        let n = shards.clamp(1, MAX_SHARDS).next_power_of_two();
        let n64 = n as u64;
        let base = capacity / n64;
        let extra = capacity % n64;
        let shards = (0..n64)
            .map(|i| {
                let cap = base + u64::from(i < extra);
                Shard(Mutex::new(L1Store::with_hash_seed(cap, make_policy(cap), default_ttl, seed)))
            })
            .collect();
        Self { shards, mask: n64 - 1, expiring: AtomicBool::new(default_ttl.is_some()), seed }
    }

    /// Tells every shard where values keep their heap memory (see
    /// [`L1Store::prefetch_values`]).
    pub fn prefetch_values(&self, heap_start: crate::prefetch::HeapStart<V>) {
        for s in self.shards.iter() {
            s.0.lock().prefetch_values(heap_start);
        }
    }

    /// Makes room for `entries` entries in all, spread evenly over the
    /// shards (see [`L1Store::reserve`]).
    pub fn reserve(&self, entries: usize) {
        let per = entries.div_ceil(self.shards.len());
        for s in self.shards.iter() {
            s.0.lock().reserve(per);
        }
    }

    #[inline]
    fn shard(&self, hash: u64) -> &Mutex<L1Store<K, V, P>> {
        // High-middle bits: hashbrown uses the top 7 and the low bits inside a shard.
        let idx = ((hash >> 32) & self.mask) as usize;
        &self.shards[idx].0
    }

    /// Number of shards.
    #[must_use]
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Reads `key` at `now`; see [`L1Store::get`].
    #[inline]
    pub fn get<Q>(&self, key: &Q, now: Instant) -> Option<L1Hit<V>>
    where
        K: Borrow<Q>,
        Q: KeyHash + Eq + ?Sized,
    {
        let hash = hash_key_with(self.seed, key);
        let mut shard = self.shard(hash).lock();
        shard.get_hashed(hash, key, now).map(|e| L1Hit {
            value: e.value.clone(),
            inserted_at: e.inserted_at,
            expires_at: e.expires_at,
        })
    }

    /// [`Self::get`] taking the time from `clock`, and only when it matters:
    /// while no entry with a TTL was ever stored, a hit reads no clock at
    /// all. Once one was, the clock is read before the shard lock is taken
    /// (or, if that insert raced with this read, under it when the entry
    /// found can expire), so expiry is exactly as with [`Self::get`].
    #[inline]
    pub fn get_with_clock<Q>(&self, key: &Q, clock: impl Fn() -> Instant) -> Option<L1Hit<V>>
    where
        K: Borrow<Q>,
        Q: KeyHash + Eq + ?Sized,
    {
        let hash = hash_key_with(self.seed, key);
        let early = self.expiring.load(Ordering::Relaxed).then(&clock);
        let mut shard = self.shard(hash).lock();
        shard.get_hashed_lazy(hash, key, || early.unwrap_or_else(clock)).map(|e| L1Hit {
            value: e.value.clone(),
            inserted_at: e.inserted_at,
            expires_at: e.expires_at,
        })
    }

    /// Whether a live entry for `key` is present (no policy update).
    pub fn contains<Q>(&self, key: &Q, now: Instant) -> bool
    where
        K: Borrow<Q>,
        Q: KeyHash + Eq + ?Sized,
    {
        self.peek_map(key, now, |_| ()).is_some()
    }

    /// What `f` makes of the live value of `key`, if there is one (no
    /// policy update).
    pub fn peek_map<Q, R>(&self, key: &Q, now: Instant, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: KeyHash + Eq + ?Sized,
    {
        let hash = hash_key_with(self.seed, key);
        self.shard(hash).lock().peek(key, now).map(|e| f(&e.value))
    }

    /// Remembers that entries with a TTL may exist (reads then look at the
    /// clock).
    #[inline]
    fn note_ttl(&self, ttl: Option<Duration>) {
        if ttl.is_some() && !self.expiring.load(Ordering::Relaxed) {
            self.expiring.store(true, Ordering::Relaxed);
        }
    }

    /// Runs the write `f` on `key`'s shard, under its lock, with the key's
    /// hash: for the store's own write methods (e.g.
    /// [`L1Store::write_hashed`], [`L1Store::update_hashed`]). `ttl` is the
    /// TTL the write gives the entry, if any: once one may exist, reads
    /// look at the clock.
    #[inline]
    pub fn write_shard<Q, T>(
        &self,
        key: &Q,
        ttl: Option<Duration>,
        f: impl FnOnce(&mut L1Store<K, V, P>, u64) -> T,
    ) -> T
    where
        Q: KeyHash + ?Sized,
    {
        self.note_ttl(ttl);
        let hash = hash_key_with(self.seed, key);
        f(&mut self.shard(hash).lock(), hash)
    }

    /// Stores `key → value`; see [`L1Store::insert`].
    pub fn insert(
        &self,
        key: K,
        value: V,
        weight: u64,
        ttl: Option<Duration>,
        now: Instant,
    ) -> InsertOutcome {
        self.note_ttl(ttl);
        let hash = hash_key_with(self.seed, &key);
        self.shard(hash).lock().insert_hashed(hash, key, value, weight, ttl, now)
    }

    /// Stores `key → value` by a borrowed key: `make_key` makes the owned
    /// key only for a new entry; see [`L1Store::insert_hashed_with`].
    pub fn insert_with<Q>(
        &self,
        key: &Q,
        make_key: impl FnOnce() -> K,
        value: V,
        weight: u64,
        ttl: Option<Duration>,
        now: Instant,
    ) -> InsertOutcome
    where
        K: Borrow<Q>,
        Q: KeyHash + Eq + ?Sized,
    {
        self.write_shard(key, ttl, |s, hash| {
            s.insert_hashed_with(hash, key, make_key, value, weight, ttl, now)
        })
    }

    /// Removes `key`; returns whether it was present.
    pub fn remove<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: KeyHash + Eq + ?Sized,
    {
        let hash = hash_key_with(self.seed, key);
        self.shard(hash).lock().remove(key).is_some()
    }

    /// Removes every entry.
    pub fn clear(&self) {
        for s in self.shards.iter() {
            s.0.lock().clear();
        }
    }

    /// The seed of key hashes.
    #[must_use]
    pub fn hash_seed(&self) -> u64 {
        self.seed
    }

    /// Entries over all shards.
    #[must_use]
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.0.lock().len()).sum()
    }

    /// Whether every shard is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total weight over all shards.
    #[must_use]
    pub fn weight(&self) -> u64 {
        self.shards.iter().map(|s| s.0.lock().weight()).sum()
    }

    /// Total capacity over all shards.
    #[must_use]
    pub fn capacity(&self) -> u64 {
        self.shards.iter().map(|s| s.0.lock().capacity()).sum()
    }

    /// Counters summed over all shards.
    #[must_use]
    pub fn counters(&self) -> StoreCounters {
        let mut t = StoreCounters::default();
        for s in self.shards.iter() {
            t += s.0.lock().counters();
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::eviction::Lru;

    #[test]
    fn insert_with_makes_the_key_only_for_a_new_entry() {
        let l1: ShardedL1<bytes::Bytes, u64, Lru> = ShardedL1::new(1, 2, None, |_| Lru::new());
        let made = std::cell::Cell::new(0);
        let make = |k: &'static [u8]| {
            made.set(made.get() + 1);
            bytes::Bytes::from_static(k)
        };
        let out = l1.insert_with(&b"a"[..], || make(b"a"), 1, 1, None, Instant::ZERO);
        assert!(matches!(out, InsertOutcome::Inserted { evicted: 0, admitted: true }));
        let out = l1.insert_with(&b"a"[..], || make(b"a"), 2, 1, None, Instant::ZERO);
        assert!(matches!(out, InsertOutcome::Updated { evicted: 0 }));
        assert_eq!(made.get(), 1, "an update keeps the stored key");
        l1.insert_with(&b"b"[..], || make(b"b"), 3, 1, None, Instant::ZERO);
        l1.insert_with(&b"c"[..], || make(b"c"), 4, 1, None, Instant::ZERO);
        assert_eq!(made.get(), 3);
        assert_eq!(l1.len(), 2, "capacity holds");
    }

    #[test]
    fn shards_split_capacity_and_find_keys() {
        let l1: ShardedL1<u64, u64, Lru> = ShardedL1::new(3, 103, None, |_| Lru::new());
        assert_eq!(l1.shard_count(), 4);
        assert_eq!(l1.capacity(), 103);
        for k in 0..50 {
            l1.insert(k, k * 2, 1, None, Instant::ZERO);
        }
        for k in 0..50 {
            assert_eq!(l1.get(&k, Instant::ZERO).map(|h| h.value), Some(k * 2));
        }
        assert!(l1.remove(&7));
        assert!(!l1.contains(&7, Instant::ZERO));
        assert_eq!(l1.len(), 49);
        assert_eq!(l1.counters().hits, 50);
    }

    #[test]
    fn the_clock_is_read_only_once_an_entry_can_expire() {
        use std::cell::Cell;
        let reads = Cell::new(0u32);
        let now = Cell::new(Instant::ZERO);
        let clock = || {
            reads.set(reads.get() + 1);
            now.get()
        };
        let l1: ShardedL1<u64, u64, Lru> = ShardedL1::new(4, 100, None, |_| Lru::new());
        for k in 0..10 {
            l1.insert(k, k, 1, None, Instant::ZERO);
        }
        for k in 0..20 {
            assert_eq!(l1.get_with_clock(&k, clock).map(|h| h.value), (k < 10).then_some(k));
        }
        assert_eq!(reads.get(), 0, "no entry can expire: no clock read");

        l1.insert(99, 1, 1, Some(Duration::from_secs(1)), Instant::ZERO);
        assert!(l1.get_with_clock(&99, clock).is_some());
        assert!(l1.get_with_clock(&3, clock).is_some());
        assert_eq!(reads.get(), 2, "after a TTL insert every read takes the time");
        now.set(Instant::from_nanos(1_000_000_000));
        assert!(l1.get_with_clock(&99, clock).is_none(), "expired at its TTL");
        assert!(l1.get_with_clock(&3, clock).is_some());
        assert_eq!(l1.counters().expirations, 1);

        // A default TTL: from the start.
        let l1: ShardedL1<u64, u64, Lru> =
            ShardedL1::new(1, 10, Some(Duration::from_nanos(5)), |_| Lru::new());
        l1.insert(1, 1, 1, None, Instant::ZERO);
        now.set(Instant::from_nanos(5));
        assert!(l1.get_with_clock(&1, clock).is_none());
    }
}
