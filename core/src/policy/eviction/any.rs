//! [`AnyPolicy`]: the built-in policies behind one type, dispatched by `match`.

use super::{Clock, EvictionPolicy, Fifo, Lfu, Lru, S3Fifo, Sieve, Slot, TinyLfu};

/// Any of the built-in policies, chosen at run time (see
/// [`super::EvictionConfig::build`]), dispatched by `match` (no vtable).
#[derive(Debug)]
#[non_exhaustive]
// An explicit tag: the dispatch is one byte load and a jump table, not the
// niche decoding (six more instructions) the compiler otherwise picks.
#[repr(u8)]
pub enum AnyPolicy {
    /// See [`Lru`].
    Lru(Lru),
    /// See [`Lfu`].
    Lfu(Lfu),
    /// See [`Fifo`].
    Fifo(Fifo),
    /// See [`Clock`].
    Clock(Clock),
    /// See [`Sieve`].
    Sieve(Sieve),
    /// See [`S3Fifo`].
    S3Fifo(S3Fifo),
    /// See [`TinyLfu`].
    TinyLfu(TinyLfu),
}

macro_rules! dispatch {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            AnyPolicy::Lru($p) => $e,
            AnyPolicy::Lfu($p) => $e,
            AnyPolicy::Fifo($p) => $e,
            AnyPolicy::Clock($p) => $e,
            AnyPolicy::Sieve($p) => $e,
            AnyPolicy::S3Fifo($p) => $e,
            AnyPolicy::TinyLfu($p) => $e,
        }
    };
}

impl EvictionPolicy for AnyPolicy {
    fn name(&self) -> &'static str {
        dispatch!(self, p => p.name())
    }
    #[inline]
    fn on_hit(&mut self, slot: Slot) {
        dispatch!(self, p => p.on_hit(slot))
    }
    #[inline]
    fn on_miss(&mut self, hash: u64) {
        dispatch!(self, p => p.on_miss(hash))
    }
    #[inline]
    fn on_insert(&mut self, slot: Slot, hash: u64, weight: u64) {
        dispatch!(self, p => p.on_insert(slot, hash, weight))
    }
    #[inline]
    fn on_update(&mut self, slot: Slot, weight: u64) {
        dispatch!(self, p => p.on_update(slot, weight))
    }
    #[inline]
    fn on_remove(&mut self, slot: Slot) {
        dispatch!(self, p => p.on_remove(slot))
    }
    #[inline]
    fn evict(&mut self) -> Option<Slot> {
        dispatch!(self, p => p.evict())
    }
    fn victim_hints(&self) -> [Option<Slot>; 2] {
        dispatch!(self, p => p.victim_hints())
    }
    fn clear(&mut self) {
        dispatch!(self, p => p.clear())
    }
}
