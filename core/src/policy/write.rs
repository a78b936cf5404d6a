//! Write strategies as decisions.
//!
//! [`WritePlan`] says, for a strategy, where a put goes *now* and where it
//! goes *later*; [`WriteBehindQueue`] holds the pending L3 writes of
//! write-behind (and the per-write tasks of write-back): it coalesces writes
//! of one key, says when a batch is due (size or age) and hands batches out.
//! The engine executes these decisions with real I/O; the simulator executes
//! them on virtual time. Neither decides anything itself.
//!
//! # What each strategy can lose on a crash
//!
//! - write-through: nothing that `put` acknowledged (L3 has it before `put`
//!   returns).
//! - write-back: writes whose background L3 write had not finished.
//! - write-behind: every write still in the queue (at most `queue_capacity`
//!   keys, at most one flush interval old while L3 keeps up).
//!
//! # Invariants of the queue
//!
//! - At most one pending op per key; a newer op replaces the older one in
//!   place (the key keeps its position; the write counts as coalesced).
//! - Batches are handed out oldest-first; a key taken into a batch is no
//!   longer pending, so a newer write of it queues again and is flushed after.
//! - `cancel` removes a key's pending op (a delete or invalidate must never
//!   let an older put resurrect the key).
//! - `requeue` gives a failed batch back without overriding newer writes.

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hash};
use std::time::Duration;

use hashbrown::HashTable;

use crate::clock::Instant;
use crate::config::{WriteConfig, WriteStrategy};
use crate::l1::KeyHasher;

/// Most pending keys a new queue makes room for up front.
const PRESIZE_MAX: usize = 8_192;

/// Cancelled slots tolerated in the deque before it is compacted (when
/// they also outnumber the live ones).
const COMPACT_MIN_HOLES: usize = 1_024;

/// Most single L3 writes a write-back flush has in flight at once: a batch
/// holds a key at most once, so its writes go out together, up to this
/// many (a slow L3 with a small connection pool would otherwise time out
/// waiting for connections).
pub const WRITE_BACK_CONCURRENCY: usize = 16;

/// After a write-behind batch failed, its writes are written again one at
/// a time (one write L3 refuses must not hold back the others); when this
/// many fail in a row, L3 is taken to be down and the rest of the batch
/// waits for the next try (the engine's `isolate.rs`, and the simulator).
pub const ISOLATE_DOWN_AFTER: usize = 2;

/// The one-write-at-a-time pass over a failed write-behind batch: how many
/// writes in a row failed on their own, and so whether L3 now looks down
/// (the rest of the batch is then not tried). One copy of the rule for the
/// engine (`isolate.rs`) and the simulator.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Isolation {
    failed_in_a_row: usize,
}

impl Isolation {
    /// A write of the pass ended: it landed, or failed on its own.
    pub fn record(&mut self, landed: bool) {
        self.failed_in_a_row = if landed { 0 } else { self.failed_in_a_row + 1 };
    }

    /// Whether [`ISOLATE_DOWN_AFTER`] writes in a row failed: L3 looks down.
    #[must_use]
    pub fn l3_down(&self) -> bool {
        self.failed_in_a_row >= ISOLATE_DOWN_AFTER
    }
}

/// Where a put goes now and later, for a strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePlan {
    /// Persist to L3 first; on success, update L2 and L1; on failure, update
    /// nothing (and drop the key from the caches).
    L3ThenCaches,
    /// Update L1 and L2 now; enqueue the L3 write, written by itself as soon
    /// as possible (one L3 call per write, up to
    /// [`WRITE_BACK_CONCURRENCY`] at once).
    CachesThenL3Each,
    /// Update L1 and L2 now; enqueue the L3 write into coalesced batches.
    CachesThenL3Batched,
}

impl WritePlan {
    /// The plan of `strategy`.
    #[must_use]
    pub fn of(strategy: WriteStrategy) -> Self {
        match strategy {
            WriteStrategy::WriteThrough => WritePlan::L3ThenCaches,
            WriteStrategy::WriteBack => WritePlan::CachesThenL3Each,
            WriteStrategy::WriteBehind => WritePlan::CachesThenL3Batched,
        }
    }

    /// Whether the write goes through the queue.
    #[must_use]
    pub fn is_queued(self) -> bool {
        !matches!(self, WritePlan::L3ThenCaches)
    }

    /// Whether `queue` has L3 work to start at `now`: write-back writes
    /// every pending key at once, write-behind waits for a full batch or for
    /// the oldest write's age.
    pub fn flush_due<K: Hash + Eq, V>(self, queue: &mut WriteBehindQueue<K, V>, now: Instant) -> bool {
        match self {
            WritePlan::L3ThenCaches => false,
            WritePlan::CachesThenL3Each => !queue.is_empty(),
            WritePlan::CachesThenL3Batched => queue.is_due(now),
        }
    }

    /// Whether `queue` holds work that is due by size alone (what a write
    /// just queued checks to wake the flusher; age is the flusher's timer).
    #[must_use]
    pub fn due_by_size<K, V>(self, queue: &WriteBehindQueue<K, V>) -> bool {
        match self {
            WritePlan::L3ThenCaches => false,
            WritePlan::CachesThenL3Each => queue.live > 0,
            WritePlan::CachesThenL3Batched => queue.live >= queue.batch_size,
        }
    }
}

/// A pending L3 operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingOp<V> {
    /// Store the value.
    Put(V),
    /// Remove the key.
    Delete,
}

/// What [`WriteBehindQueue::push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new pending key.
    New,
    /// Replaced a pending op of the same key (one L3 write saved).
    Coalesced,
    /// The queue is full and the key is not pending: nothing was queued;
    /// the caller must wait for a flush (backpressure) and retry.
    Full,
}

/// One queued write: its key (stored once), the key's hash, the op and
/// when it was first queued.
#[derive(Debug)]
struct Slot<K, V> {
    key: K,
    hash: u64,
    op: PendingOp<V>,
    since: Instant,
}

/// The pending-write queue. See the module docs.
///
/// Layout: the writes sit in a deque in queue order (a sequence number per
/// slot: `front_seq` is the first slot's), and a hash table maps each
/// pending key to its sequence number. A put appends to the deque and adds
/// one 8-byte table entry; the key is stored once. Cancelled writes leave a
/// hole, dropped when it reaches the front.
#[derive(Debug)]
pub struct WriteBehindQueue<K, V> {
    slots: VecDeque<Option<Slot<K, V>>>,
    front_seq: u64,
    index: HashTable<u64>,
    hasher: KeyHasher,
    live: usize,
    batch_size: usize,
    flush_interval: Duration,
    capacity: usize,
    coalesced: u64,
    /// The writes given back by [`Self::requeue`] are those from the front
    /// up to (not including) this sequence number, while it is after the
    /// front.
    requeued_until: u64,
}

/// Whether sequence number `a` comes before `b` (they wrap; the distance
/// decides).
#[inline]
fn seq_before(a: u64, b: u64) -> bool {
    (b.wrapping_sub(a) as i64) > 0
}

impl<K: Hash + Eq, V> WriteBehindQueue<K, V> {
    /// A queue flushing at `batch_size` keys or `flush_interval` age, holding
    /// at most `capacity` keys. Zero values are raised to 1 / 1 ns.
    #[must_use]
    pub fn new(batch_size: usize, flush_interval: Duration, capacity: usize) -> Self {
        let batch_size = batch_size.max(1);
        let capacity = capacity.max(batch_size);
        // Room for two batches up front (a put then rarely grows anything).
        let room = batch_size.saturating_mul(2).min(capacity).min(PRESIZE_MAX);
        Self {
            slots: VecDeque::with_capacity(room),
            front_seq: 0,
            index: HashTable::with_capacity(room),
            hasher: crate::l1::key_hasher(),
            live: 0,
            batch_size,
            flush_interval: flush_interval.max(Duration::from_nanos(1)),
            capacity,
            coalesced: 0,
            requeued_until: 0,
        }
    }

    /// A queue from the write section of a `CacheConfig`.
    #[must_use]
    pub fn from_config(cfg: &WriteConfig) -> Self {
        Self::new(cfg.batch_size, cfg.flush_interval, cfg.queue_capacity)
    }

    /// [`Self::from_config`] with its key index hashed under `seed` (the
    /// engine's cache seed; see `l1.hash_seed`). The index decides nothing:
    /// batches go in queue order whatever the seed.
    #[must_use]
    pub fn from_config_with_hash_seed(cfg: &WriteConfig, seed: u64) -> Self {
        Self { hasher: crate::l1::key_hasher_with(seed), ..Self::from_config(cfg) }
    }

    /// The deque position of sequence number `seq`.
    #[inline]
    fn pos(&self, seq: u64) -> usize {
        // Sequence numbers wrap (requeue counts down from the front).
        seq.wrapping_sub(self.front_seq) as usize
    }

    /// The sequence number of the pending write of `key` (hashed `hash`).
    fn find<Q>(&self, hash: u64, key: &Q) -> Option<u64>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let (slots, front) = (&self.slots, self.front_seq);
        self.index
            .find(hash, |&seq| {
                slots[seq.wrapping_sub(front) as usize].as_ref().is_some_and(|s| s.key.borrow() == key)
            })
            .copied()
    }

    /// Adds `seq` (hashed `hash`) to the index.
    fn index_insert(&mut self, hash: u64, seq: u64) {
        let (slots, front) = (&self.slots, self.front_seq);
        self.index.insert_unique(hash, seq, |&s| {
            slots[s.wrapping_sub(front) as usize].as_ref().map_or(0, |slot| slot.hash)
        });
    }

    /// Removes `seq` (hashed `hash`) from the index.
    fn index_remove(&mut self, hash: u64, seq: u64) {
        if let Ok(e) = self.index.find_entry(hash, |&s| s == seq) {
            e.remove();
        }
    }

    /// Queues `op` for `key` at `now`.
    pub fn push(&mut self, key: K, op: PendingOp<V>, now: Instant) -> Enqueued {
        let hash = self.hasher.hash_one(&key);
        let found = self.find(hash, &key);
        self.push_at(hash, found, move || key, op, now)
    }

    /// [`Self::push`] by a borrowed key: `make_key` makes the owned key only
    /// if the key is not pending yet (a coalesced write keeps the queued one).
    pub fn push_with<Q>(
        &mut self,
        key: &Q,
        make_key: impl FnOnce() -> K,
        op: PendingOp<V>,
        now: Instant,
    ) -> Enqueued
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        let found = self.find(hash, key);
        self.push_at(hash, found, make_key, op, now)
    }

    /// The push once the key's pending write (`found`) is known.
    fn push_at(
        &mut self,
        hash: u64,
        found: Option<u64>,
        make_key: impl FnOnce() -> K,
        op: PendingOp<V>,
        now: Instant,
    ) -> Enqueued {
        if let Some(seq) = found {
            let pos = self.pos(seq);
            if let Some(slot) = self.slots[pos].as_mut() {
                slot.op = op;
            }
            self.coalesced += 1;
            return Enqueued::Coalesced;
        }
        if self.live >= self.capacity {
            return Enqueued::Full;
        }
        self.append(make_key(), hash, op, now);
        Enqueued::New
    }

    /// Appends a write of a key not pending (hashed `hash`).
    #[inline]
    fn append(&mut self, key: K, hash: u64, op: PendingOp<V>, now: Instant) {
        let seq = self.mark();
        self.slots.push_back(Some(Slot { key, hash, op, since: now }));
        self.index_insert(hash, seq);
        self.live += 1;
    }

    /// Drops the pending op of `key`; returns whether there was one.
    pub fn cancel<Q>(&mut self, key: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        let Some(seq) = self.find(hash, key) else { return false };
        self.index_remove(hash, seq);
        let pos = self.pos(seq);
        self.slots[pos] = None;
        self.live -= 1;
        self.skip_holes();
        if self.slots.len() - self.live > self.live.max(COMPACT_MIN_HOLES) {
            self.compact();
        }
        true
    }

    /// Rebuilds the deque without holes (cancels behind a write that stays
    /// pending, e.g. while L3 is down, would otherwise pile up).
    /// The front keeps its sequence number and the rest close up behind it,
    /// so a [`Self::mark`] taken before still tells older writes from newer
    /// (some newer ones may then count as older: a flush writes them too).
    fn compact(&mut self) {
        let old = std::mem::take(&mut self.slots);
        self.index.clear();
        for slot in old.into_iter().flatten() {
            let (hash, seq) = (slot.hash, self.front_seq.wrapping_add(self.slots.len() as u64));
            self.slots.push_back(Some(slot));
            self.index_insert(hash, seq);
        }
    }

    /// The pending op of `key`, if any (reads must see their own writes).
    #[must_use]
    pub fn get<Q>(&self, key: &Q) -> Option<&PendingOp<V>>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let seq = self.find(self.hasher.hash_one(key), key)?;
        self.slots[self.pos(seq)].as_ref().map(|s| &s.op)
    }

    /// A mark between the writes pending now and those queued later, for
    /// [`Self::pending_before`]: the sequence number the next new key gets.
    #[inline]
    #[must_use]
    pub fn mark(&self) -> u64 {
        self.front_seq.wrapping_add(self.slots.len() as u64)
    }

    /// Whether a write queued before `mark` (see [`Self::mark`]) is still
    /// pending: its key has not been taken since, whatever it was written
    /// again with (a newer write of a pending key keeps the key's place).
    /// Writes given back by [`Self::requeue`] count as queued before every
    /// mark. This is how `flush()` writes what was pending when it was
    /// called and not everything put while it runs.
    pub fn pending_before(&mut self, mark: u64) -> bool {
        self.skip_holes();
        !self.slots.is_empty()
            && (seq_before(self.front_seq, mark) || seq_before(self.front_seq, self.requeued_until))
    }

    /// Drops the holes at the front.
    fn skip_holes(&mut self) {
        while let Some(None) = self.slots.front() {
            self.slots.pop_front();
            self.front_seq = self.front_seq.wrapping_add(1);
        }
    }

    /// When the oldest pending write becomes due by age (`None`: empty).
    #[must_use]
    pub fn next_deadline(&mut self) -> Option<Instant> {
        self.skip_holes();
        let oldest = self.slots.front()?.as_ref()?;
        Some(oldest.since.saturating_add(self.flush_interval))
    }

    /// Whether a batch is due at `now`: a full batch is pending, or the
    /// oldest pending write has waited `flush_interval`.
    pub fn is_due(&mut self, now: Instant) -> bool {
        self.live >= self.batch_size || self.next_deadline().is_some_and(|d| now >= d)
    }

    /// Takes up to `batch_size` pending writes, oldest first.
    pub fn take_batch(&mut self) -> Vec<(K, PendingOp<V>)> {
        self.take(self.batch_size)
    }

    /// Takes up to `max` pending writes, oldest first.
    pub fn take(&mut self, max: usize) -> Vec<(K, PendingOp<V>)> {
        self.take_until(max, |_| false)
    }

    /// [`Self::take`], stopping before the first write whose key `stop`
    /// names: it stays pending, first in line. A flusher that takes a batch
    /// in parts stops at a key already in the batch (written again since its
    /// part was taken), so that a batch holds a key at most once and its
    /// writes may commit in any order.
    pub fn take_until(&mut self, max: usize, mut stop: impl FnMut(&K) -> bool) -> Vec<(K, PendingOp<V>)> {
        let mut out = Vec::with_capacity(max.min(self.live));
        while out.len() < max {
            if let Some(Some(slot)) = self.slots.front()
                && stop(&slot.key)
            {
                break;
            }
            let Some(front) = self.slots.pop_front() else { break };
            let seq = self.front_seq;
            self.front_seq = self.front_seq.wrapping_add(1);
            if let Some(slot) = front {
                self.index_remove(slot.hash, seq);
                self.live -= 1;
                out.push((slot.key, slot.op));
            }
        }
        self.skip_holes();
        out
    }

    /// Gives back a batch whose L3 write failed, for a retry. Keys written
    /// again meanwhile keep their newer op; the rest go to the front, in order.
    pub fn requeue(&mut self, batch: Vec<(K, PendingOp<V>)>, now: Instant) {
        // Given-back writes stay together at the front, so one bound marks
        // them all (with those of an earlier requeue still pending).
        if !seq_before(self.front_seq, self.requeued_until) {
            self.requeued_until = self.front_seq;
        }
        for (key, op) in batch.into_iter().rev() {
            let hash = self.hasher.hash_one(&key);
            if self.find(hash, &key).is_some() {
                continue;
            }
            self.front_seq = self.front_seq.wrapping_sub(1);
            self.slots.push_front(Some(Slot { key, hash, op, since: now }));
            self.index_insert(hash, self.front_seq);
            self.live += 1;
        }
    }

    /// Gives back writes that L3 refused one by one, behind every pending
    /// write, so that they do not hold up the writes queued after them
    /// (a key L3 will never take must not block the queue). Keys written
    /// again meanwhile keep their newer op. Like [`Self::requeue`], it may
    /// take the queue past its capacity: nothing given back is dropped.
    pub fn requeue_back(&mut self, writes: Vec<(K, PendingOp<V>)>, now: Instant) {
        for (key, op) in writes {
            let hash = self.hasher.hash_one(&key);
            if self.find(hash, &key).is_none() {
                self.append(key, hash, op, now);
            }
        }
    }

    /// Pending keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether nothing is pending.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Whether a new key would be refused.
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.live >= self.capacity
    }

    /// Whether a write of `key` would be queued now: there is room, or the
    /// key is pending (it coalesces).
    #[must_use]
    pub fn accepts<Q>(&self, key: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        !self.is_full() || self.get(key).is_some()
    }

    /// The key limit.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The batch size.
    #[must_use]
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Writes absorbed by coalescing so far.
    #[must_use]
    pub fn coalesced(&self) -> u64 {
        self.coalesced
    }

    /// Every pending key (for `Unflushed` reports), oldest first.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.slots.iter().flatten().map(|s| &s.key)
    }
}

#[cfg(test)]
mod tests;
