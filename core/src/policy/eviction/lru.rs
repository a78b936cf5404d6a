//! LRU: evict the entry read or written least recently.

use super::{EvictionPolicy, Links, List, Slot};

/// Least recently used: one list, hits move to the front, victims from the back.
#[derive(Debug, Default)]
pub struct Lru {
    links: Links,
    list: List,
}

impl Lru {
    /// An empty LRU.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Slots from most to least recently used (tests, dumps).
    #[must_use]
    pub fn dump(&self) -> Vec<Slot> {
        self.list.to_vec(&self.links)
    }
}

impl EvictionPolicy for Lru {
    fn name(&self) -> &'static str {
        "lru"
    }
    #[inline]
    fn on_hit(&mut self, slot: Slot) {
        self.list.move_to_front(&mut self.links, slot);
    }
    #[inline]
    fn on_insert(&mut self, slot: Slot, _hash: u64, _weight: u64) {
        self.list.push_front(&mut self.links, slot);
    }
    #[inline]
    fn on_update(&mut self, slot: Slot, _weight: u64) {
        self.list.move_to_front(&mut self.links, slot);
    }
    #[inline]
    fn on_remove(&mut self, slot: Slot) {
        self.list.unlink(&mut self.links, slot);
    }
    #[inline]
    fn evict(&mut self) -> Option<Slot> {
        self.list.pop_back(&mut self.links)
    }
    #[inline]
    fn victim_hints(&self) -> [Option<Slot>; 2] {
        self.list.back_two(&self.links)
    }
    fn clear(&mut self) {
        *self = Self::default();
    }
}
