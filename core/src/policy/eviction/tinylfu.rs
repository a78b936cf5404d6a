//! W-TinyLFU (Einziger, Friedman and Manes, 2017) as in Caffeine: an LRU
//! admission window, a segmented-LRU main space, and a count-min sketch
//! that decides whether a window victim may displace a main-space victim.

use super::config::TinyLfuConfig;
use super::sketch::FrequencySketch;
use super::{EvictionPolicy, Links, List, NIL, Slot, ensure_slot, share};

const WINDOW: u8 = 0;
const PROBATION: u8 = 1;
const PROTECTED: u8 = 2;
/// The sketch is first sized for at most this many entries and grows with
/// the number of live entries (so a byte-weighted capacity does not
/// allocate a sketch per byte).
const INITIAL_SKETCH_ENTRIES: u64 = 1 << 16;

#[derive(Debug, Clone, Copy, Default)]
struct Meta {
    hash: u64,
    weight: u64,
    queue: u8,
}

/// W-TinyLFU with a fixed window (Caffeine's policy without its hill
/// climber):
///
/// - capacity splits into a window (`window_ratio`, 1%: Caffeine's
///   `max − ⌊0.99·max⌋`) and a main space, itself split into protected
///   (`protected_ratio`, 80%) and probation;
/// - every access (hit, insert, update) increments the key's count in a
///   4-bit count-min sketch sized for the capacity, halved every 10× that
///   many increments;
/// - new entries enter the window (LRU); window overflow moves its LRU
///   entries to the probation head as *candidates*;
/// - a hit in probation promotes to protected; protected overflow demotes
///   its LRU entries to the probation head;
/// - each eviction compares the newest remaining candidate with the
///   probation LRU *victim* (then protected's, then the window's when
///   probation is empty): the candidate is admitted (the victim leaves)
///   only if its estimated frequency is strictly greater; otherwise the
///   candidate leaves. So a one-hit wonder never displaces a frequent entry.
#[derive(Debug)]
pub struct TinyLfu {
    links: Links,
    window: List,
    probation: List,
    protected: List,
    meta: Vec<Meta>,
    window_weight: u64,
    protected_weight: u64,
    window_max: u64,
    protected_max: u64,
    sketch: FrequencySketch,
    live: u64,
    /// Window entries moved to probation by the current operation and not
    /// yet judged.
    candidates: u32,
    /// The next candidate to judge (`NIL`: none left).
    candidate: Slot,
    capacity: u64,
    config: TinyLfuConfig,
}

/// The state of a [`TinyLfu`], for exact-state tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TinyLfuDump {
    /// Window, most recently used first.
    pub window: Vec<Slot>,
    /// Probation segment, most recently used first (victims from the end).
    pub probation: Vec<Slot>,
    /// Protected segment, most recently used first.
    pub protected: Vec<Slot>,
}

impl TinyLfu {
    /// A W-TinyLFU for `capacity` weight units with the default shares.
    #[must_use]
    pub fn new(capacity: u64) -> Self {
        Self::with_config(capacity, TinyLfuConfig::default())
    }

    /// A W-TinyLFU for `capacity` weight units with `config`'s shares
    /// (clamped to `[0, 1]`).
    #[must_use]
    pub fn with_config(capacity: u64, config: TinyLfuConfig) -> Self {
        let main = share(capacity, 1.0 - config.window_ratio);
        Self {
            links: Links::default(),
            window: List::default(),
            probation: List::default(),
            protected: List::default(),
            meta: Vec::new(),
            window_weight: 0,
            protected_weight: 0,
            window_max: capacity - main,
            protected_max: share(main, config.protected_ratio),
            sketch: FrequencySketch::new(capacity.min(INITIAL_SKETCH_ENTRIES)),
            live: 0,
            candidates: 0,
            candidate: NIL,
            capacity,
            config,
        }
    }

    /// The three segments.
    #[must_use]
    pub fn dump(&self) -> TinyLfuDump {
        TinyLfuDump {
            window: self.window.to_vec(&self.links),
            probation: self.probation.to_vec(&self.links),
            protected: self.protected.to_vec(&self.links),
        }
    }

    /// The frequency sketch (to inspect estimates).
    #[must_use]
    pub fn sketch(&self) -> &FrequencySketch {
        &self.sketch
    }

    /// Ends the previous operation's eviction round.
    #[inline]
    fn begin(&mut self) {
        self.candidates = 0;
        self.candidate = NIL;
    }

    /// Moves window overflow to probation; they become the candidates.
    fn evict_from_window(&mut self) {
        while self.window_weight > self.window_max {
            let Some(c) = self.window.pop_back(&mut self.links) else { break };
            let m = &mut self.meta[c as usize];
            m.queue = PROBATION;
            self.window_weight -= m.weight;
            self.probation.push_front(&mut self.links, c);
            self.candidates += 1;
        }
        if self.candidates > 0 {
            self.candidate = self.probation.front().unwrap_or(NIL);
        }
    }

    /// Moves protected overflow to the probation head.
    fn demote(&mut self) {
        while self.protected_weight > self.protected_max {
            let Some(d) = self.protected.pop_back(&mut self.links) else { break };
            let m = &mut self.meta[d as usize];
            m.queue = PROBATION;
            self.protected_weight -= m.weight;
            self.probation.push_front(&mut self.links, d);
        }
    }

    #[inline]
    fn access(&mut self, slot: Slot) {
        let m = self.meta[slot as usize];
        self.sketch.increment(m.hash);
        match m.queue {
            WINDOW => self.window.move_to_front(&mut self.links, slot),
            PROTECTED => self.protected.move_to_front(&mut self.links, slot),
            _ if m.weight > self.protected_max => self.probation.move_to_front(&mut self.links, slot),
            _ => {
                self.probation.unlink(&mut self.links, slot);
                self.protected.push_front(&mut self.links, slot);
                self.meta[slot as usize].queue = PROTECTED;
                self.protected_weight += m.weight;
                self.demote();
            }
        }
    }

    /// Forgets a live slot.
    fn detach(&mut self, slot: Slot) {
        let m = self.meta[slot as usize];
        match m.queue {
            WINDOW => {
                self.window.unlink(&mut self.links, slot);
                self.window_weight -= m.weight;
            }
            PROTECTED => {
                self.protected.unlink(&mut self.links, slot);
                self.protected_weight -= m.weight;
            }
            _ => self.probation.unlink(&mut self.links, slot),
        }
        self.live -= 1;
    }

    fn grow_sketch(&mut self) {
        let sized = self.sketch.sized_for();
        if self.live > sized && sized < self.capacity {
            self.sketch = FrequencySketch::new(self.live.max(sized * 2).min(self.capacity));
        }
    }
}

impl EvictionPolicy for TinyLfu {
    fn name(&self) -> &'static str {
        "tinylfu"
    }
    #[inline]
    fn on_hit(&mut self, slot: Slot) {
        self.begin();
        self.access(slot);
    }
    #[inline]
    fn on_insert(&mut self, slot: Slot, hash: u64, weight: u64) {
        self.begin();
        ensure_slot(&mut self.meta, slot, Meta::default());
        self.meta[slot as usize] = Meta { hash, weight, queue: WINDOW };
        self.window.push_front(&mut self.links, slot);
        self.window_weight += weight;
        self.live += 1;
        self.grow_sketch();
        self.sketch.increment(hash);
        self.evict_from_window();
    }
    #[inline]
    fn on_update(&mut self, slot: Slot, weight: u64) {
        self.begin();
        let m = &mut self.meta[slot as usize];
        let old = std::mem::replace(&mut m.weight, weight);
        match m.queue {
            WINDOW => self.window_weight = self.window_weight - old + weight,
            PROTECTED => self.protected_weight = self.protected_weight - old + weight,
            _ => {}
        }
        self.access(slot);
        self.demote();
        self.evict_from_window();
    }
    #[inline]
    fn on_remove(&mut self, slot: Slot) {
        self.begin();
        self.detach(slot);
    }
    fn evict(&mut self) -> Option<Slot> {
        let victim =
            self.probation.back().or_else(|| self.protected.back()).or_else(|| self.window.back())?;
        let candidate = if self.candidates > 0 {
            (self.candidate != NIL).then_some(self.candidate)
        } else {
            self.window.back()
        };
        let from_probation = self.candidates > 0;
        let Some(candidate) = candidate else {
            self.detach(victim);
            return Some(victim);
        };
        if candidate == victim {
            // Judged against itself: it goes, and no candidate is left.
            self.candidate = NIL;
            self.detach(victim);
            return Some(victim);
        }
        let admit = self.sketch.frequency(self.meta[candidate as usize].hash)
            > self.sketch.frequency(self.meta[victim as usize].hash);
        let out = if admit { victim } else { candidate };
        if from_probation {
            self.candidates -= 1;
            if !admit {
                self.candidate = self.probation.older(&self.links, candidate).unwrap_or(NIL);
            }
        }
        self.detach(out);
        if from_probation && admit {
            self.candidate = self.probation.older(&self.links, candidate).unwrap_or(NIL);
        }
        Some(out)
    }
    #[inline]
    fn victim_hints(&self) -> [Option<Slot>; 2] {
        // The probation victim and the window's next candidate: admission
        // drops one of them.
        [self.probation.back(), self.window.back()]
    }
    fn clear(&mut self) {
        *self = Self::with_config(self.capacity, self.config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l1::hash_key;

    #[test]
    fn one_hit_wonder_is_rejected_against_a_frequent_victim() {
        // Capacity 4: window 1, main 3 (protected 2).
        let mut p = TinyLfu::new(4);
        assert_eq!((p.window_max, p.protected_max), (1, 2));
        for s in 0..4 {
            p.on_insert(s, hash_key(&s), 1);
        }
        // 0, 1, 2 were pushed to probation by the window; 3 is in the window.
        assert_eq!(p.dump(), TinyLfuDump { window: vec![3], probation: vec![2, 1, 0], protected: vec![] });
        for _ in 0..5 {
            p.on_hit(0);
        }
        // 0 is protected now. The probation victim is 1 (count 1).
        assert_eq!(p.dump().protected, vec![0]);
        for _ in 0..3 {
            p.on_hit(1);
        }
        p.on_hit(2);
        // 1 and 2 promoted; protected max 2, so 0 (LRU there) is demoted.
        assert_eq!(p.dump(), TinyLfuDump { window: vec![3], probation: vec![0], protected: vec![2, 1] });
        // A one-hit wonder (4) pushes 3 out of the window as candidate: 3
        // (count 1) vs victim 0 (count 6): 3 is rejected.
        p.on_insert(4, hash_key(&4u32), 1);
        assert_eq!(p.evict(), Some(3));
        assert_eq!(p.dump(), TinyLfuDump { window: vec![4], probation: vec![0], protected: vec![2, 1] });
    }

    #[test]
    fn frequent_candidate_is_admitted() {
        let mut p = TinyLfu::new(4);
        for s in 0..4 {
            p.on_insert(s, hash_key(&s), 1);
        }
        for _ in 0..4 {
            p.on_hit(3);
        }
        // 3 (count 5) leaves the window as candidate against victim 0 (count 1).
        p.on_insert(4, hash_key(&4u32), 1);
        assert_eq!(p.evict(), Some(0));
        assert_eq!(p.dump(), TinyLfuDump { window: vec![4], probation: vec![3, 2, 1], protected: vec![] });
    }

    #[test]
    fn capacity_one_behaves_like_lru() {
        let mut p = TinyLfu::new(1);
        p.on_insert(0, hash_key(&0u32), 1);
        p.on_insert(1, hash_key(&1u32), 1);
        assert_eq!(p.evict(), Some(0));
        p.on_hit(1);
        p.on_insert(0, hash_key(&2u32), 1);
        assert_eq!(p.evict(), Some(1));
        p.on_remove(0);
        assert_eq!(p.evict(), None);
    }
}
