//! S3-FIFO (Yang et al., SOSP '23): a small FIFO that filters one-hit
//! wonders, a main FIFO with a 2-bit clock, and a ghost FIFO of hashes.

use super::config::S3FifoConfig;
use super::ghost::Ghost;
use super::{EvictionPolicy, Links, List, Pending, Slot, ensure_slot, share};

const SMALL: u8 = 0;
const MAIN: u8 = 1;
/// Accesses counted per entry (2 bits).
const MAX_FREQ: u8 = 3;
/// An entry leaving the small queue with at least this many accesses since
/// its insert moves to main (libCacheSim's `move-to-main-threshold`).
const MOVE_TO_MAIN: u8 = 2;

#[derive(Debug, Clone, Copy, Default)]
struct Meta {
    hash: u64,
    weight: u64,
    freq: u8,
    queue: u8,
    /// Pending only: the key was found in the ghost queue.
    ghost_hit: bool,
}

/// S3-FIFO as in the paper and libCacheSim's `S3FIFO.c` (before its
/// December 2024 warm-up change; this version reproduces the reference miss
/// counts of traces/README.md exactly):
///
/// - a new entry goes to the head of the small queue, or to the main queue
///   when its hash is in the ghost queue (removed from it then);
/// - a hit adds one to the entry's counter (at most 3); entries never move
///   on a hit;
/// - eviction takes from the main queue when it is over its share or the
///   small queue is empty, else from the small queue;
/// - small queue tail: with ≥ 2 accesses it moves to the main head
///   (counter reset), else it is evicted and its hash enters the ghost;
/// - main queue tail: with a counter > 0 it is reinserted at the head with
///   the counter lowered by one, else evicted.
///
/// All shares are in weight units. The entry just inserted joins its queue
/// after the evictions its insert caused (evict, then insert).
#[derive(Debug)]
pub struct S3Fifo {
    links: Links,
    small: List,
    main: List,
    meta: Vec<Meta>,
    ghost: Ghost,
    small_weight: u64,
    main_weight: u64,
    main_target: u64,
    pending: Pending,
    capacity: u64,
    config: S3FifoConfig,
}

/// The state of an [`S3Fifo`], for exact-state tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3FifoDump {
    /// `(slot, counter)` of the small queue, head (newest) first.
    pub small: Vec<(Slot, u8)>,
    /// `(slot, counter)` of the main queue, head first.
    pub main: Vec<(Slot, u8)>,
    /// Hashes in the ghost queue, newest first.
    pub ghost: Vec<u64>,
}

impl S3Fifo {
    /// An S3-FIFO for `capacity` weight units with the default shares.
    #[must_use]
    pub fn new(capacity: u64) -> Self {
        Self::with_config(capacity, S3FifoConfig::default())
    }

    /// An S3-FIFO for `capacity` weight units with `config`'s shares
    /// (clamped to `[0, 1]`).
    #[must_use]
    pub fn with_config(capacity: u64, config: S3FifoConfig) -> Self {
        let small_target = share(capacity, config.small_ratio);
        Self {
            links: Links::default(),
            small: List::default(),
            main: List::default(),
            meta: Vec::new(),
            ghost: Ghost::new(share(capacity, config.ghost_ratio)),
            small_weight: 0,
            main_weight: 0,
            main_target: capacity - small_target,
            pending: Pending::default(),
            capacity,
            config,
        }
    }

    /// The queues with counters, and the ghost.
    #[must_use]
    pub fn dump(&self) -> S3FifoDump {
        let with_freq = |l: &List| -> Vec<(Slot, u8)> {
            l.to_vec(&self.links).into_iter().map(|s| (s, self.meta[s as usize].freq)).collect()
        };
        let (mut small, mut main) = (with_freq(&self.small), with_freq(&self.main));
        if let Some(p) = self.pending.get() {
            let q = if self.goes_to_main(p) { &mut main } else { &mut small };
            q.insert(0, (p, 0));
        }
        S3FifoDump { small, main, ghost: self.ghost.to_vec() }
    }

    /// Where the pending entry `slot` is queued once this round is over.
    fn goes_to_main(&self, slot: Slot) -> bool {
        self.meta[slot as usize].ghost_hit
    }

    #[inline]
    fn settle(&mut self) {
        if self.pending.is_held() {
            self.settle_pending();
        }
    }

    /// The slow half of `settle` (once per insert), kept out of the hit path.
    #[inline(never)]
    fn settle_pending(&mut self) {
        let Some(slot) = self.pending.take() else { return };
        let to_main = self.goes_to_main(slot);
        let m = &mut self.meta[slot as usize];
        m.ghost_hit = false;
        if to_main {
            m.queue = MAIN;
            self.main_weight += m.weight;
            self.main.push_front(&mut self.links, slot);
        } else {
            m.queue = SMALL;
            self.small_weight += m.weight;
            self.small.push_front(&mut self.links, slot);
        }
    }

    #[inline]
    fn access(&mut self, slot: Slot) {
        let m = &mut self.meta[slot as usize];
        m.freq = (m.freq + 1).min(MAX_FREQ);
    }

    /// Scans the small queue's tail: promotes accessed entries to main and
    /// evicts the first that was not; `None` when the queue emptied first.
    fn evict_small(&mut self) -> Option<Slot> {
        while let Some(tail) = self.small.pop_back(&mut self.links) {
            let m = &mut self.meta[tail as usize];
            self.small_weight -= m.weight;
            if m.freq >= MOVE_TO_MAIN {
                m.freq = 0;
                m.queue = MAIN;
                self.main_weight += m.weight;
                self.main.push_front(&mut self.links, tail);
            } else {
                let (hash, weight) = (m.hash, m.weight);
                self.ghost.insert(hash, weight);
                return Some(tail);
            }
        }
        None
    }

    /// Second-chance scan of the main queue's tail (2-bit clock).
    fn evict_main(&mut self) -> Option<Slot> {
        while let Some(tail) = self.main.back() {
            let m = &mut self.meta[tail as usize];
            if m.freq > 0 {
                m.freq -= 1;
                self.main.move_to_front(&mut self.links, tail);
            } else {
                self.main.unlink(&mut self.links, tail);
                self.main_weight -= m.weight;
                return Some(tail);
            }
        }
        None
    }
}

impl EvictionPolicy for S3Fifo {
    fn name(&self) -> &'static str {
        "s3fifo"
    }
    #[inline]
    fn on_hit(&mut self, slot: Slot) {
        self.settle();
        self.access(slot);
    }
    #[inline]
    fn on_insert(&mut self, slot: Slot, hash: u64, weight: u64) {
        self.settle();
        let ghost_hit = self.ghost.remove(hash);
        ensure_slot(&mut self.meta, slot, Meta::default());
        self.meta[slot as usize] = Meta { hash, weight, freq: 0, queue: SMALL, ghost_hit };
        self.pending.set(slot);
    }
    #[inline]
    fn on_update(&mut self, slot: Slot, weight: u64) {
        self.settle();
        let m = &mut self.meta[slot as usize];
        let total = if m.queue == MAIN { &mut self.main_weight } else { &mut self.small_weight };
        *total = *total - m.weight + weight;
        m.weight = weight;
        self.access(slot);
    }
    #[inline]
    fn on_remove(&mut self, slot: Slot) {
        if self.pending.forget(slot) {
            return;
        }
        self.settle();
        let m = self.meta[slot as usize];
        if m.queue == MAIN {
            self.main.unlink(&mut self.links, slot);
            self.main_weight -= m.weight;
        } else {
            self.small.unlink(&mut self.links, slot);
            self.small_weight -= m.weight;
        }
    }
    fn evict(&mut self) -> Option<Slot> {
        loop {
            if self.small.is_empty() && self.main.is_empty() {
                return self.pending.take();
            }
            let from_main = self.small.is_empty() || self.main_weight > self.main_target;
            let victim = if from_main { self.evict_main() } else { self.evict_small() };
            if victim.is_some() {
                return victim;
            }
        }
    }
    #[inline]
    fn victim_hints(&self) -> [Option<Slot>; 2] {
        // The tails of both queues: eviction takes from one of them.
        [self.small.back(), self.main.back()]
    }
    fn clear(&mut self) {
        *self = Self::with_config(self.capacity, self.config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inserts slot `s` with hash `100 + s`, weight 1.
    fn ins(p: &mut S3Fifo, s: Slot) {
        p.on_insert(s, 100 + u64::from(s), 1);
    }

    #[test]
    fn first_eviction_scans_small() {
        // Capacity 10: small share 1, main 9, ghost 9. Until the first
        // eviction every new entry waits in small.
        let mut p = S3Fifo::new(10);
        for s in 0..10 {
            ins(&mut p, s);
        }
        p.on_hit(0);
        p.on_hit(0);
        ins(&mut p, 10);
        // Small's tail 0 was read twice: it moves to main (counter reset);
        // 1 was not: it leaves and its hash enters the ghost.
        assert_eq!(p.evict(), Some(1));
        let d = p.dump();
        assert_eq!(d.small.iter().map(|e| e.0).collect::<Vec<_>>(), vec![10, 9, 8, 7, 6, 5, 4, 3, 2]);
        assert_eq!(d.main, vec![(0, 0)]);
        assert_eq!(d.ghost, vec![101]);
    }

    #[test]
    fn ghost_hit_promotes_straight_to_main() {
        let mut p = S3Fifo::new(10);
        for s in 0..11 {
            ins(&mut p, s);
        }
        assert_eq!(p.evict(), Some(0));
        // The key of slot 0 (hash 100) comes back in slot 11: a ghost hit,
        // so it goes to main; small's tail (1) makes room.
        p.on_insert(11, 100, 1);
        assert_eq!(p.evict(), Some(1));
        let d = p.dump();
        assert_eq!(d.main, vec![(11, 0)]);
        assert_eq!(d.small.len(), 9);
        assert_eq!(d.ghost, vec![101]);
    }

    #[test]
    fn small_promotes_on_two_hits_and_main_gives_second_chances() {
        let mut p = S3Fifo::new(10);
        for s in 0..10 {
            ins(&mut p, s);
        }
        for s in 0..9 {
            p.on_hit(s);
            p.on_hit(s);
        }
        // 0..=8 move to main, 9 is evicted.
        ins(&mut p, 10);
        assert_eq!(p.evict(), Some(9));
        for _ in 0..5 {
            p.on_hit(0);
        }
        p.on_hit(1);
        p.on_hit(10);
        p.on_hit(10);
        // 10 moves to main (10 > 9 there), small is empty: main's tail gets
        // second chances: 0 (3) → head with 2, 1 (1) → head with 0, 2 goes.
        ins(&mut p, 11);
        assert_eq!(p.evict(), Some(2));
        let d = p.dump();
        assert_eq!(d.small, vec![(11, 0)]);
        assert_eq!(&d.main[..3], &[(1, 0), (0, 2), (10, 0)]);
        assert_eq!(d.main.len(), 9);
        assert_eq!(d.ghost, vec![109]);
    }

    #[test]
    fn weights_count_against_the_shares() {
        let mut p = S3Fifo::new(100);
        p.on_insert(0, 1, 30);
        p.on_insert(1, 2, 50);
        p.on_insert(2, 3, 10);
        assert_eq!(p.dump().small, vec![(2, 0), (1, 0), (0, 0)]);
        p.on_update(1, 70);
        // 30 + 70 + 10 = 110 > 100: small's tail 0 (never read) goes.
        assert_eq!(p.evict(), Some(0));
        assert_eq!(p.dump().ghost, vec![1]);
        p.on_remove(2);
        // 1 was read once (the update): not enough to reach main.
        assert_eq!(p.evict(), Some(1));
        // The ghost holds 90 units: 1 (30) makes way for 2 (70).
        assert_eq!(p.dump().ghost, vec![2]);
        assert_eq!(p.evict(), None);
    }
}
