//! The single-threaded L1 store: a hash table of slots, an entry slab, an
//! eviction policy and TTLs, all driven by the `now` the caller passes.
//!
//! This is the type the simulator drives directly (one shard, one policy);
//! [`super::ShardedL1`] puts several behind locks for the engine.
//!
//! Invariants: every live slot is in the table exactly once and known to the
//! policy exactly once; `weight` is the sum of live entries' weights and never
//! exceeds `capacity` after a public method returns. The hit path does not
//! allocate.
//!
//! After an eviction the store prefetches the slab entries of the policy's
//! next victims ([`EvictionPolicy::victim_hints`]), so that the next eviction
//! does not wait for memory last touched thousands of operations ago. A hint
//! changes no decision.
//!
//! Freeing a value the store lets go of (replaced by a write, or evicted)
//! reads the allocator's header of its heap block, stored as long ago as the
//! value. If the store knows where values keep their heap memory
//! ([`L1Store::prefetch_values`]), it prefetches that block and keeps the
//! value until it lets go of the next one, so that the free finds the block
//! in cache: one value per store outlives its entry by one operation (for
//! `Bytes`, values of up to [`crate::prefetch::KEPT_VALUE_MAX`] bytes).

use super::hash::KeyHash;
use std::borrow::Borrow;
use std::time::Duration;

use hashbrown::HashTable;

use super::hash::{DEFAULT_HASH_SEED, hash_key_with};
use crate::clock::Instant;
use crate::policy::eviction::{EvictionPolicy, Slot};
use crate::prefetch::HeapStart;

mod report;
pub use report::{InsertOutcome, StoreCounters};

/// One cached entry.
#[derive(Debug, Clone)]
pub struct Entry<K, V> {
    /// The key.
    pub key: K,
    /// The value.
    pub value: V,
    /// The key's hash.
    pub hash: u64,
    /// The entry's weight in capacity units.
    pub weight: u64,
    /// When the value was stored (refresh-ahead measures age from here).
    pub inserted_at: Instant,
    /// When it expires ([`Instant::MAX`]: never).
    pub expires_at: Instant,
}

impl<K, V> Entry<K, V> {
    /// Whether the entry has expired at `now`.
    #[inline]
    #[must_use]
    pub fn is_expired(&self, now: Instant) -> bool {
        now >= self.expires_at
    }
}

/// The L1 store. See the module docs.
#[derive(Debug)]
pub struct L1Store<K, V, P> {
    table: HashTable<Slot>,
    entries: Vec<Option<Entry<K, V>>>,
    free: Vec<Slot>,
    policy: P,
    capacity: u64,
    weight: u64,
    len: usize,
    default_ttl: Option<Duration>,
    counters: StoreCounters,
    /// Where a value's heap memory starts, if the owner said (see
    /// [`Self::prefetch_values`]).
    heap_start: Option<HeapStart<V>>,
    /// The value the store let go of last (replaced or evicted), if
    /// `heap_start` named its heap block: dropped at the next one, so that
    /// the block its drop frees was prefetched an operation earlier.
    retired: Option<V>,
    /// The seed of key hashes (see `l1/hash.rs`).
    seed: u64,
}

impl<K, V, P> L1Store<K, V, P>
where
    K: KeyHash + Eq,
    P: EvictionPolicy,
{
    /// A store holding at most `capacity` weight units, with `policy`, and
    /// `default_ttl` for inserts that give none (`None`: no expiry).
    #[must_use]
    pub fn new(capacity: u64, policy: P, default_ttl: Option<Duration>) -> Self {
        Self::with_hash_seed(capacity, policy, default_ttl, DEFAULT_HASH_SEED)
    }

    /// [`Self::new`] hashing keys under `seed` instead of
    /// [`DEFAULT_HASH_SEED`] (callers of the `_hashed` methods hash with it
    /// too: [`Self::hash_seed`]).
    #[must_use]
    pub fn with_hash_seed(capacity: u64, policy: P, default_ttl: Option<Duration>, seed: u64) -> Self {
        Self {
            table: HashTable::new(),
            entries: Vec::new(),
            free: Vec::new(),
            policy,
            capacity,
            weight: 0,
            len: 0,
            default_ttl,
            counters: StoreCounters::default(),
            heap_start: None,
            retired: None,
            seed,
        }
    }

    /// The seed of this store's key hashes.
    #[must_use]
    pub fn hash_seed(&self) -> u64 {
        self.seed
    }

    /// Tells the store where its values keep their heap memory, so that it
    /// prefetches the heap block of a value it lets go of and frees it one
    /// such operation later (see the module docs); a value for which
    /// `heap_start` gives `None` is freed at once, so `heap_start` decides
    /// which values may outlive their entry (say none for large ones, as
    /// [`crate::prefetch::bytes_start`] does for `Bytes` over
    /// [`crate::prefetch::KEPT_VALUE_MAX`]). Changes no decision.
    pub fn prefetch_values(&mut self, heap_start: HeapStart<V>) {
        self.heap_start = Some(heap_start);
    }

    /// Makes room for `additional` more entries without reallocating (the
    /// slab and the table grow by doubling otherwise, copying every entry).
    pub fn reserve(&mut self, additional: usize) {
        self.entries.reserve(additional);
        let entries = &self.entries;
        self.table.reserve(additional, |&s| entries[s as usize].as_ref().map_or(0, |e| e.hash));
    }

    #[inline]
    fn find<Q>(&self, hash: u64, key: &Q) -> Option<Slot>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let entries = &self.entries;
        self.table
            .find(hash, |&s| entries[s as usize].as_ref().is_some_and(|e| e.key.borrow() == key))
            .copied()
    }

    /// Reads `key` at `now`: a hit tells the policy and returns the entry; a
    /// miss (absent or expired; an expired entry is dropped) returns `None`.
    #[inline]
    pub fn get<Q>(&mut self, key: &Q, now: Instant) -> Option<&Entry<K, V>>
    where
        K: Borrow<Q>,
        Q: KeyHash + Eq + ?Sized,
    {
        self.get_hashed(hash_key_with(self.seed, key), key, now)
    }

    /// [`Self::get`] with the key's hash computed by the caller (with
    /// [`hash_key_with`] and [`Self::hash_seed`]).
    #[inline]
    pub fn get_hashed<Q>(&mut self, hash: u64, key: &Q, now: Instant) -> Option<&Entry<K, V>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.get_hashed_lazy(hash, key, || now)
    }

    /// [`Self::get_hashed`] that asks `now` for the time only when it finds
    /// an entry that can expire (a clock read is a large part of a hit that
    /// needs none: entries without TTL never look at it).
    #[inline]
    pub fn get_hashed_lazy<Q>(
        &mut self,
        hash: u64,
        key: &Q,
        now: impl FnOnce() -> Instant,
    ) -> Option<&Entry<K, V>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        match self.find(hash, key) {
            Some(slot) => {
                let expired = self.entries[slot as usize]
                    .as_ref()
                    .is_some_and(|e| e.expires_at != Instant::MAX && e.is_expired(now()));
                if expired {
                    self.expire(slot, hash);
                    self.counters.misses += 1;
                    self.policy.on_miss(hash);
                    return None;
                }
                self.counters.hits += 1;
                self.policy.on_hit(slot);
                self.entries[slot as usize].as_ref()
            }
            None => {
                self.counters.misses += 1;
                self.policy.on_miss(hash);
                None
            }
        }
    }

    /// Looks at `key` without counting a hit or telling the policy; expired
    /// entries are reported as absent (and left in place).
    #[must_use]
    pub fn peek<Q>(&self, key: &Q, now: Instant) -> Option<&Entry<K, V>>
    where
        K: Borrow<Q>,
        Q: KeyHash + Eq + ?Sized,
    {
        let slot = self.find(hash_key_with(self.seed, key), key)?;
        self.entries[slot as usize].as_ref().filter(|e| !e.is_expired(now))
    }

    /// Stores `key → value` of `weight` at `now`, expiring after `ttl` (or the
    /// default TTL when `None`), evicting as needed.
    pub fn insert(
        &mut self,
        key: K,
        value: V,
        weight: u64,
        ttl: Option<Duration>,
        now: Instant,
    ) -> InsertOutcome {
        let hash = hash_key_with(self.seed, &key);
        self.insert_hashed(hash, key, value, weight, ttl, now)
    }

    /// [`Self::insert`] with the key's hash computed by the caller.
    pub fn insert_hashed(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        weight: u64,
        ttl: Option<Duration>,
        now: Instant,
    ) -> InsertOutcome {
        let existing = self.find(hash, &key);
        self.insert_at(hash, existing, move || key, value, weight, ttl, now)
    }

    /// [`Self::insert_hashed`] by a borrowed key: `make_key` makes the
    /// owned key only if the entry is new (an update keeps the stored one).
    #[allow(clippy::too_many_arguments)] // the insert's parts, as insert_hashed
    pub fn insert_hashed_with<Q>(
        &mut self,
        hash: u64,
        key: &Q,
        make_key: impl FnOnce() -> K,
        value: V,
        weight: u64,
        ttl: Option<Duration>,
        now: Instant,
    ) -> InsertOutcome
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let existing = self.find(hash, key);
        self.insert_at(hash, existing, make_key, value, weight, ttl, now)
    }

    /// Replaces the value of `key` if the store holds it live at `now`
    /// (what a write does under no-write-allocate: it never makes room for
    /// a key); `value` is asked for only then. An expired entry is dropped
    /// (as a read would) and, like an absent key, left out: `None`.
    #[allow(clippy::too_many_arguments)]
    pub fn update_hashed<Q>(
        &mut self,
        hash: u64,
        key: &Q,
        value: impl FnOnce() -> V,
        weight: u64,
        ttl: Option<Duration>,
        now: Instant,
    ) -> Option<InsertOutcome>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let slot = self.find(hash, key)?;
        if self.entries[slot as usize].as_ref().is_some_and(|e| e.is_expired(now)) {
            self.expire(slot, hash);
            return None;
        }
        Some(self.replace_at(hash, slot, value(), weight, ttl, now))
    }

    /// What a write of `key` does to L1 under `write.allocate` (the one
    /// copy of that decision, for the engine and the simulator): an insert
    /// (write-allocate; `make_key` makes the owned key for a new entry), or
    /// an update of a key held live (no-write-allocate: `None` when the key
    /// is not held).
    #[allow(clippy::too_many_arguments)]
    pub fn write_hashed<Q>(
        &mut self,
        allocate: bool,
        hash: u64,
        key: &Q,
        make_key: impl FnOnce() -> K,
        value: V,
        weight: u64,
        ttl: Option<Duration>,
        now: Instant,
    ) -> Option<InsertOutcome>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        if allocate {
            Some(self.insert_hashed_with(hash, key, make_key, value, weight, ttl, now))
        } else {
            self.update_hashed(hash, key, || value, weight, ttl, now)
        }
    }

    /// Drops the expired entry in `slot` (hashed `hash`).
    fn expire(&mut self, slot: Slot, hash: u64) {
        self.policy.on_remove(slot);
        self.drop_slot(slot, hash);
        self.counters.expirations += 1;
    }

    /// The insert once the key's slot (`existing`) is known.
    #[allow(clippy::too_many_arguments)]
    fn insert_at(
        &mut self,
        hash: u64,
        existing: Option<Slot>,
        make_key: impl FnOnce() -> K,
        value: V,
        weight: u64,
        ttl: Option<Duration>,
        now: Instant,
    ) -> InsertOutcome {
        if let Some(slot) = existing {
            return self.replace_at(hash, slot, value, weight, ttl, now);
        }
        if weight > self.capacity {
            self.counters.too_large += 1;
            return InsertOutcome::TooLarge;
        }
        let expires_at = self.expiry(ttl, now);
        let entry = Entry { key: make_key(), value, hash, weight, inserted_at: now, expires_at };
        let slot = match self.free.pop() {
            Some(s) => {
                self.entries[s as usize] = Some(entry);
                s
            }
            None => {
                let s = Slot::try_from(self.entries.len()).unwrap_or(Slot::MAX - 1);
                self.entries.push(Some(entry));
                s
            }
        };
        let entries = &self.entries;
        self.table.insert_unique(hash, slot, |&s| entries[s as usize].as_ref().map_or(0, |e| e.hash));
        self.weight += weight;
        self.len += 1;
        self.counters.inserts += 1;
        self.policy.on_insert(slot, hash, weight);
        let evicted = self.evict_to_fit();
        let admitted = self.entries[slot as usize].as_ref().is_some_and(|e| e.hash == hash);
        InsertOutcome::Inserted { evicted, admitted }
    }

    /// When an entry written at `now` with `ttl` expires.
    fn expiry(&self, ttl: Option<Duration>, now: Instant) -> Instant {
        match ttl.or(self.default_ttl) {
            Some(d) => now.saturating_add(d),
            None => Instant::MAX,
        }
    }

    /// Replaces the value of the live entry in `slot` (hashed `hash`).
    fn replace_at(
        &mut self,
        hash: u64,
        slot: Slot,
        value: V,
        weight: u64,
        ttl: Option<Duration>,
        now: Instant,
    ) -> InsertOutcome {
        if weight > self.capacity {
            self.policy.on_remove(slot);
            self.drop_slot(slot, hash);
            self.counters.removals += 1;
            self.counters.too_large += 1;
            return InsertOutcome::TooLarge;
        }
        let expires_at = self.expiry(ttl, now);
        let e = self.entries[slot as usize].as_mut().expect_live();
        self.weight = self.weight - e.weight + weight;
        let old = std::mem::replace(&mut e.value, value);
        e.weight = weight;
        e.inserted_at = now;
        e.expires_at = expires_at;
        self.policy.on_update(slot, weight);
        self.counters.updates += 1;
        self.retire(old);
        let evicted = self.evict_to_fit();
        InsertOutcome::Updated { evicted }
    }

    fn evict_to_fit(&mut self) -> u32 {
        let mut evicted = 0;
        while self.weight > self.capacity {
            let Some(victim) = self.policy.evict() else { break };
            let hash = self.entries[victim as usize].as_ref().map_or(0, |e| e.hash);
            if let Some(e) = self.drop_slot(victim, hash) {
                self.retire(e.value);
            }
            self.counters.evictions += 1;
            evicted += 1;
        }
        if evicted > 0 {
            self.prefetch_victims();
        }
        evicted
    }

    /// Lets go of a replaced or evicted value: if `heap_start` names its
    /// heap block, the block is prefetched and the value kept in `retired`
    /// while the one kept before is dropped; otherwise it is dropped now.
    #[inline]
    fn retire(&mut self, value: V) {
        if let Some(start) = self.heap_start.and_then(|heap_start| heap_start(&value)) {
            crate::prefetch::heap_block(start);
            drop(self.retired.replace(value));
        }
    }

    /// Prefetches the slab entries of the policy's next victims (see
    /// [`EvictionPolicy::victim_hints`]): a victim was stored long ago, and
    /// without this its entry is a cache miss on the eviction that takes it.
    /// Called after an eviction, so only a full store pays for it.
    #[inline]
    fn prefetch_victims(&self) {
        for slot in self.policy.victim_hints().into_iter().flatten() {
            crate::prefetch::element(&self.entries, slot as usize);
        }
    }

    /// Removes the slot from table and slab (the policy is told by the caller
    /// when needed). Returns the entry.
    fn drop_slot(&mut self, slot: Slot, hash: u64) -> Option<Entry<K, V>> {
        let entry = self.entries[slot as usize].take()?;
        if let Ok(occ) = self.table.find_entry(hash, |&s| s == slot) {
            occ.remove();
        }
        self.free.push(slot);
        self.weight -= entry.weight;
        self.len -= 1;
        Some(entry)
    }

    /// Removes `key`; returns its entry if it was present (expired or not).
    pub fn remove<Q>(&mut self, key: &Q) -> Option<Entry<K, V>>
    where
        K: Borrow<Q>,
        Q: KeyHash + Eq + ?Sized,
    {
        let hash = hash_key_with(self.seed, key);
        let slot = self.find(hash, key)?;
        self.policy.on_remove(slot);
        self.counters.removals += 1;
        self.drop_slot(slot, hash)
    }

    /// Removes every entry (counters are kept).
    pub fn clear(&mut self) {
        self.table.clear();
        self.entries.clear();
        self.free.clear();
        self.policy.clear();
        self.retired = None;
        self.weight = 0;
        self.len = 0;
    }

    /// Number of entries (expired ones not yet noticed included).
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the store is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Total weight of the entries.
    #[must_use]
    pub fn weight(&self) -> u64 {
        self.weight
    }

    /// The capacity in weight units.
    #[must_use]
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// The store's counters.
    #[must_use]
    pub fn counters(&self) -> StoreCounters {
        self.counters
    }

    /// The policy (for dumps in tests).
    #[must_use]
    pub fn policy(&self) -> &P {
        &self.policy
    }

    /// Iterates over live entries in slab order (not a policy order).
    pub fn iter(&self) -> impl Iterator<Item = &Entry<K, V>> {
        self.entries.iter().flatten()
    }
}

trait ExpectLive<T> {
    fn expect_live(self) -> T;
}

impl<'a, K, V> ExpectLive<&'a mut Entry<K, V>> for Option<&'a mut Entry<K, V>> {
    #[inline]
    #[allow(clippy::unwrap_used)] // invariant: a slot found in the table is live
    fn expect_live(self) -> &'a mut Entry<K, V> {
        self.unwrap()
    }
}

#[cfg(test)]
mod tests;
