//! SIEVE (Zhang et al., NSDI '24): a FIFO queue, one visited bit per entry
//! and a hand that sweeps from the tail (oldest) towards the head.

use super::{EvictionPolicy, Links, List, NIL, Pending, Slot, ensure_slot};

/// SIEVE. New entries go to the head unvisited; a hit sets the visited
/// bit. To evict, the hand starts where it stopped last (at the tail the
/// first time or after reaching the head), clears visited bits while moving
/// towards the head, evicts the first unvisited entry and stays just above
/// it. Entries never move in the queue.
///
/// Evict-then-insert as in the paper: the entry just inserted joins the
/// head only after the evictions its insert caused.
#[derive(Debug, Default)]
pub struct Sieve {
    links: Links,
    /// Front = head (newest), back = tail (oldest).
    queue: List,
    visited: Vec<bool>,
    /// Next slot the hand examines; `NIL`: the tail.
    hand: Slot,
    pending: Pending,
}

/// The state of a [`Sieve`], for exact-state tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SieveDump {
    /// `(slot, visited)` from head (newest) to tail (oldest).
    pub queue: Vec<(Slot, bool)>,
    /// The slot the hand examines next; `None`: the tail.
    pub hand: Option<Slot>,
}

impl Sieve {
    /// An empty SIEVE.
    #[must_use]
    pub fn new() -> Self {
        Self { hand: NIL, ..Self::default() }
    }

    /// The queue with visited bits and the hand.
    #[must_use]
    pub fn dump(&self) -> SieveDump {
        let mut queue: Vec<(Slot, bool)> =
            self.queue.to_vec(&self.links).into_iter().map(|s| (s, self.visited[s as usize])).collect();
        if let Some(p) = self.pending.get() {
            queue.insert(0, (p, false));
        }
        SieveDump { queue, hand: (self.hand != NIL).then_some(self.hand) }
    }

    #[inline]
    fn settle(&mut self) {
        self.pending.release_to_front(&mut self.queue, &mut self.links);
    }
}

impl EvictionPolicy for Sieve {
    fn name(&self) -> &'static str {
        "sieve"
    }
    #[inline]
    fn on_hit(&mut self, slot: Slot) {
        self.settle();
        self.visited[slot as usize] = true;
    }
    #[inline]
    fn on_insert(&mut self, slot: Slot, _hash: u64, _weight: u64) {
        self.settle();
        ensure_slot(&mut self.visited, slot, false);
        self.visited[slot as usize] = false;
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
        if self.hand == slot {
            self.hand = self.queue.newer(&self.links, slot).unwrap_or(NIL);
        }
        self.queue.unlink(&mut self.links, slot);
    }
    fn evict(&mut self) -> Option<Slot> {
        let Some(tail) = self.queue.back() else {
            return self.pending.take();
        };
        let mut cur = if self.hand == NIL { tail } else { self.hand };
        while self.visited[cur as usize] {
            self.visited[cur as usize] = false;
            cur = self.queue.newer(&self.links, cur).unwrap_or(tail);
        }
        self.hand = self.queue.newer(&self.links, cur).unwrap_or(NIL);
        self.queue.unlink(&mut self.links, cur);
        Some(cur)
    }
    #[inline]
    fn victim_hints(&self) -> [Option<Slot>; 2] {
        // Where the hand looks next (it may pass over visited entries).
        let Some(tail) = self.queue.back() else { return [None, None] };
        let at = if self.hand == NIL { tail } else { self.hand };
        [Some(at), self.queue.newer(&self.links, at)]
    }
    fn clear(&mut self) {
        *self = Self::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(n: Slot) -> Sieve {
        let mut p = Sieve::new();
        for s in 0..n {
            p.on_insert(s, 0, 1);
        }
        p
    }

    #[test]
    fn hand_sweeps_from_tail_and_remembers_its_place() {
        // Queue (head→tail) 4 3 2 1 0; 0, 1 and 3 visited.
        let mut p = filled(5);
        for s in [0, 1, 3] {
            p.on_hit(s);
        }
        // First eviction: the hand clears 0 and 1 and evicts 2, staying at 3.
        assert_eq!(p.evict(), Some(2));
        assert_eq!(
            p.dump(),
            SieveDump { queue: vec![(4, false), (3, true), (1, false), (0, false)], hand: Some(3) }
        );
        // Insert 5 (joins the head after this insert's eviction): the hand
        // clears 3 and evicts 4.
        p.on_insert(5, 0, 1);
        assert_eq!(p.evict(), Some(4));
        // 5 is now at the head; the hand fell off the head, back to the tail.
        assert_eq!(
            p.dump(),
            SieveDump { queue: vec![(5, false), (3, false), (1, false), (0, false)], hand: None }
        );
        assert_eq!(p.evict(), Some(0));
        assert_eq!(p.dump().hand, Some(1));
    }

    #[test]
    fn all_visited_wraps_around_to_the_tail() {
        let mut p = filled(3);
        for s in 0..3 {
            p.on_hit(s);
        }
        p.on_insert(3, 0, 1);
        // Every resident is visited: the hand clears all, wraps, evicts the
        // tail; the newcomer (not yet in the queue) is not a candidate.
        assert_eq!(p.evict(), Some(0));
        assert_eq!(p.dump(), SieveDump { queue: vec![(3, false), (2, false), (1, false)], hand: Some(1) });
    }

    #[test]
    fn removing_the_hand_moves_it_up() {
        let mut p = filled(4);
        p.on_hit(0);
        assert_eq!(p.evict(), Some(1));
        assert_eq!(p.dump().hand, Some(2));
        p.on_remove(2);
        assert_eq!(p.dump().hand, Some(3));
        p.on_remove(3);
        assert_eq!(p.dump().hand, None);
        assert_eq!(p.evict(), Some(0));
        assert_eq!(p.evict(), None);
    }
}
