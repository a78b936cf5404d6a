//! Helpers shared by the eviction integration tests.
#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeSet, HashMap};

use strata_core::Instant;
use strata_core::l1::{L1Store, hash_key};
use strata_core::policy::eviction::{EvictionPolicy, Slot};

/// Wraps a policy, checks the store/policy contract on every call and
/// records the hash of every victim in order.
#[derive(Debug)]
pub struct Recorder<P> {
    pub inner: P,
    hashes: HashMap<Slot, u64>,
    live: BTreeSet<Slot>,
    pub victims: Vec<u64>,
    /// Evictions after the first, and how many of them took a slot that
    /// `victim_hints` named right after the eviction before (when the store
    /// prefetches): the first hint; either hint, or the entry inserted
    /// since, which an admission policy may reject and which is in cache.
    pub hinted: [usize; 3],
    hints: Option<[Option<Slot>; 2]>,
    last_inserted: Option<Slot>,
}

impl<P> Recorder<P> {
    pub fn new(inner: P) -> Self {
        Self {
            inner,
            hashes: HashMap::new(),
            live: BTreeSet::new(),
            victims: Vec::new(),
            hinted: [0; 3],
            hints: None,
            last_inserted: None,
        }
    }

    pub fn live(&self) -> usize {
        self.live.len()
    }
}

impl<P: EvictionPolicy> EvictionPolicy for Recorder<P> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn on_hit(&mut self, slot: Slot) {
        assert!(self.live.contains(&slot), "hit on dead slot {slot}");
        self.inner.on_hit(slot);
    }
    fn on_miss(&mut self, hash: u64) {
        self.inner.on_miss(hash);
    }
    fn on_insert(&mut self, slot: Slot, hash: u64, weight: u64) {
        assert!(self.live.insert(slot), "insert of live slot {slot}");
        self.hashes.insert(slot, hash);
        self.last_inserted = Some(slot);
        self.inner.on_insert(slot, hash, weight);
    }
    fn on_update(&mut self, slot: Slot, weight: u64) {
        assert!(self.live.contains(&slot), "update of dead slot {slot}");
        self.inner.on_update(slot, weight);
    }
    fn on_remove(&mut self, slot: Slot) {
        assert!(self.live.remove(&slot), "remove of dead slot {slot}");
        self.inner.on_remove(slot);
    }
    fn evict(&mut self) -> Option<Slot> {
        let v = self.inner.evict();
        match v {
            Some(s) => {
                assert!(self.live.remove(&s), "{}: evicted dead slot {s}", self.inner.name());
                self.victims.push(self.hashes[&s]);
                if let Some(hints) = self.hints {
                    self.hinted[0] += 1;
                    self.hinted[1] += usize::from(hints[0] == Some(s));
                    self.hinted[2] += usize::from(hints.contains(&Some(s)) || self.last_inserted == Some(s));
                }
                self.hints = Some(self.victim_hints());
            }
            None => assert!(
                self.live.is_empty(),
                "{}: no victim with {} live",
                self.inner.name(),
                self.live.len()
            ),
        }
        v
    }
    fn clear(&mut self) {
        self.live.clear();
        self.hints = None;
        self.inner.clear();
    }
    fn victim_hints(&self) -> [Option<Slot>; 2] {
        let hints = self.inner.victim_hints();
        for s in hints.into_iter().flatten() {
            assert!(self.live.contains(&s), "{}: hint of dead slot {s}", self.inner.name());
        }
        hints
    }
}

/// Maps victim hashes back to `u64` keys in `0..n`.
pub fn keys_of(hashes: &[u64], n: u64) -> Vec<u64> {
    let by_hash: HashMap<u64, u64> = (0..n).map(|k| (hash_key(&k), k)).collect();
    hashes.iter().map(|h| by_hash[h]).collect()
}

/// Reads every key; a miss inserts it (default value, weight 1). Returns the misses.
pub fn replay<K, V, P>(store: &mut L1Store<K, V, P>, keys: impl IntoIterator<Item = K>) -> u64
where
    K: strata_core::l1::KeyHash + Eq,
    V: Default,
    P: EvictionPolicy,
{
    let before = store.counters().misses;
    for k in keys {
        if store.get(&k, Instant::ZERO).is_none() {
            store.insert(k, V::default(), 1, None, Instant::ZERO);
        }
    }
    store.counters().misses - before
}
