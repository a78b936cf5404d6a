//! FIFO: evict the entry inserted longest ago; reads change nothing.

use super::{EvictionPolicy, Links, List, Slot};

/// First in, first out: one queue, new entries at the front, victims from
/// the back; hits and updates do not move an entry.
#[derive(Debug, Default)]
pub struct Fifo {
    links: Links,
    queue: List,
}

impl Fifo {
    /// An empty FIFO.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Slots from newest to oldest (tests, dumps).
    #[must_use]
    pub fn dump(&self) -> Vec<Slot> {
        self.queue.to_vec(&self.links)
    }
}

impl EvictionPolicy for Fifo {
    fn name(&self) -> &'static str {
        "fifo"
    }
    #[inline]
    fn on_hit(&mut self, _slot: Slot) {}
    #[inline]
    fn on_insert(&mut self, slot: Slot, _hash: u64, _weight: u64) {
        self.queue.push_front(&mut self.links, slot);
    }
    #[inline]
    fn on_update(&mut self, _slot: Slot, _weight: u64) {}
    #[inline]
    fn on_remove(&mut self, slot: Slot) {
        self.queue.unlink(&mut self.links, slot);
    }
    #[inline]
    fn evict(&mut self) -> Option<Slot> {
        self.queue.pop_back(&mut self.links)
    }
    #[inline]
    fn victim_hints(&self) -> [Option<Slot>; 2] {
        self.queue.back_two(&self.links)
    }
    fn clear(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_do_not_reorder() {
        let mut p = Fifo::new();
        for s in 0..3 {
            p.on_insert(s, 0, 1);
        }
        p.on_hit(0);
        p.on_update(0, 1);
        assert_eq!(p.dump(), vec![2, 1, 0]);
        assert_eq!(p.evict(), Some(0));
        p.on_remove(2);
        assert_eq!(p.evict(), Some(1));
        assert_eq!(p.evict(), None);
    }
}
