//! CLOCK (second chance) with an n-bit counter, as libCacheSim's `Clock.c`:
//! a FIFO queue whose tail entry, if it was used since it last passed the
//! hand, goes back to the head instead of leaving.

use super::config::ClockConfig;
use super::{EvictionPolicy, Links, List, Pending, Slot, ensure_slot};

/// CLOCK. New entries go to the head with a counter of 0; a hit raises the
/// counter (saturating at `2^bits − 1`; 1 with the default single bit). To
/// evict, the tail entry with a counter above 0 is moved to the head with
/// the counter lowered by one, until the tail has 0 and leaves.
///
/// Evict-then-insert: the entry just inserted joins the head only after
/// the evictions its insert caused.
#[derive(Debug, Default)]
pub struct Clock {
    links: Links,
    /// Front = head (newest), back = tail.
    queue: List,
    counter: Vec<u8>,
    max: u8,
    pending: Pending,
    config: ClockConfig,
}

impl Clock {
    /// A CLOCK with one reference bit per entry.
    #[must_use]
    pub fn new() -> Self {
        Self::with_config(ClockConfig::default())
    }

    /// A CLOCK with `config.bits` bits per entry (clamped to 1..=8).
    #[must_use]
    pub fn with_config(config: ClockConfig) -> Self {
        let bits = u32::from(config.bits.clamp(1, 8));
        let max = u8::try_from((1u32 << bits) - 1).unwrap_or(u8::MAX);
        Self { max, config, ..Self::default() }
    }

    /// `(slot, counter)` from head (newest) to tail (next to examine).
    #[must_use]
    pub fn dump(&self) -> Vec<(Slot, u8)> {
        let mut out: Vec<(Slot, u8)> =
            self.queue.to_vec(&self.links).into_iter().map(|s| (s, self.counter[s as usize])).collect();
        if let Some(p) = self.pending.get() {
            out.insert(0, (p, 0));
        }
        out
    }

    #[inline]
    fn settle(&mut self) {
        self.pending.release_to_front(&mut self.queue, &mut self.links);
    }
}

impl EvictionPolicy for Clock {
    fn name(&self) -> &'static str {
        "clock"
    }
    #[inline]
    fn on_hit(&mut self, slot: Slot) {
        self.settle();
        let c = &mut self.counter[slot as usize];
        *c = (*c + 1).min(self.max);
    }
    #[inline]
    fn on_insert(&mut self, slot: Slot, _hash: u64, _weight: u64) {
        self.settle();
        ensure_slot(&mut self.counter, slot, 0);
        self.counter[slot as usize] = 0;
        self.pending.set(slot);
    }
    #[inline]
    fn on_update(&mut self, slot: Slot, _weight: u64) {
        self.on_hit(slot);
    }
    #[inline]
    fn on_remove(&mut self, slot: Slot) {
        if self.pending.forget(slot) {
            return;
        }
        self.settle();
        self.queue.unlink(&mut self.links, slot);
    }
    fn evict(&mut self) -> Option<Slot> {
        while let Some(tail) = self.queue.back() {
            let c = &mut self.counter[tail as usize];
            if *c == 0 {
                self.queue.unlink(&mut self.links, tail);
                return Some(tail);
            }
            *c -= 1;
            self.queue.move_to_front(&mut self.links, tail);
        }
        self.pending.take()
    }
    #[inline]
    fn victim_hints(&self) -> [Option<Slot>; 2] {
        // Where the hand looks next (it may pass over referenced entries).
        self.queue.back_two(&self.links)
    }
    fn clear(&mut self) {
        *self = Self::with_config(self.config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_chance_then_eviction() {
        let mut p = Clock::new();
        for s in 0..4 {
            p.on_insert(s, 0, 1);
        }
        p.on_hit(0);
        p.on_hit(0);
        p.on_hit(1);
        // 0 and 1 get a second chance (to the head, bit cleared), 2 leaves.
        p.on_insert(4, 0, 1);
        assert_eq!(p.evict(), Some(2));
        assert_eq!(p.dump(), vec![(4, 0), (1, 0), (0, 0), (3, 0)]);
        assert_eq!(p.evict(), Some(3));
        p.on_remove(4);
        assert_eq!(p.evict(), Some(0));
        assert_eq!(p.evict(), Some(1));
        assert_eq!(p.evict(), None);
    }

    #[test]
    fn two_bit_counters_give_more_chances() {
        let mut p = Clock::with_config(ClockConfig { bits: 2 });
        for s in 0..3 {
            p.on_insert(s, 0, 1);
        }
        for _ in 0..5 {
            p.on_hit(0);
        }
        p.on_hit(1);
        // 0 (3) → head with 2; 1 (1) → head with 0; 2 leaves.
        assert_eq!(p.evict(), Some(2));
        assert_eq!(p.dump(), vec![(1, 0), (0, 2)]);
        // 0 (2) → 1, 1 leaves.
        assert_eq!(p.evict(), Some(1));
        assert_eq!(p.dump(), vec![(0, 1)]);
    }

    #[test]
    fn all_referenced_still_spares_the_newcomer() {
        let mut p = Clock::new();
        for s in 0..3 {
            p.on_insert(s, 0, 1);
        }
        for s in 0..3 {
            p.on_hit(s);
        }
        p.on_insert(3, 0, 1);
        assert_eq!(p.evict(), Some(0));
        assert_eq!(p.dump(), vec![(3, 0), (2, 0), (1, 0)]);
    }
}
