//! Eviction policies.
//!
//! A policy decides *which* entry leaves the L1 store; it never sees keys or
//! values, only [`Slot`]s (indices into the store's entry slab), the key's
//! 64-bit hash and each entry's weight. It is synchronous, takes `&mut self`,
//! holds no locks and allocates nothing per access, so one implementation
//! serves the sharded engine and the single-shard simulator alike.
//!
//! # Contract between the store and a policy
//!
//! - `on_insert(slot, hash, weight)` for every new entry, `on_hit(slot)` for
//!   every read that found an entry, `on_miss(hash)` for every read that
//!   did not, `on_update(slot, weight)` when a present entry gets a new
//!   value, `on_remove(slot)` when the store drops an entry itself
//!   (explicit removal, expiry).
//! - While the store's total weight exceeds its capacity it calls
//!   [`EvictionPolicy::evict`], which forgets and returns one slot (possibly
//!   the entry just inserted: that is how admission policies reject).
//! - Policies that model "evict, then insert" (LFU, CLOCK, SIEVE, S3-FIFO) keep
//!   the entry just inserted out of their queues until the next call that
//!   is not `evict`, so it is never its own insert's victim unless nothing
//!   else is left; LRU and FIFO give the same victims either way, and
//!   W-TinyLFU judges the new entry as Caffeine does (window first, then
//!   admission against the main space's victim).
//! - All operations are O(1) amortised and deterministic: the same call
//!   sequence gives the same victims on every run and every machine.
//!
//! Runtime choice is the serde enum [`EvictionConfig`]; [`AnyPolicy`] maps it
//! onto the concrete types with a `match` (static dispatch, no vtable).

mod any;
mod clock;
mod config;
mod fifo;
mod ghost;
mod lfu;
mod list;
mod lru;
mod s3fifo;
mod sieve;
mod sketch;
mod tinylfu;

pub use any::AnyPolicy;
pub use clock::Clock;
pub use config::{
    ClockConfig, DEFAULT_S3FIFO_GHOST_RATIO, DEFAULT_S3FIFO_SMALL_RATIO, DEFAULT_TINYLFU_PROTECTED_RATIO,
    DEFAULT_TINYLFU_WINDOW_RATIO, EvictionConfig, S3FifoConfig, TinyLfuConfig,
};
pub use fifo::Fifo;
pub use lfu::Lfu;
pub use list::{Links, List};
pub use lru::Lru;
pub use s3fifo::{S3Fifo, S3FifoDump};
pub use sieve::{Sieve, SieveDump};
pub use sketch::FrequencySketch;
pub use tinylfu::{TinyLfu, TinyLfuDump};

/// Index of an entry in the L1 store's slab; policies index their metadata by it.
pub type Slot = u32;

/// An eviction policy. See the module docs for the contract.
pub trait EvictionPolicy: Send + 'static {
    /// A short lower-case name (`"lru"`, `"s3fifo"`, ...).
    fn name(&self) -> &'static str;
    /// A read found the entry in `slot`.
    fn on_hit(&mut self, slot: Slot);
    /// A read for a key with `hash` found nothing.
    fn on_miss(&mut self, hash: u64) {
        let _ = hash;
    }
    /// A new entry of `weight` was stored in `slot`.
    fn on_insert(&mut self, slot: Slot, hash: u64, weight: u64);
    /// The entry in `slot` got a new value of `weight` (counts as an access).
    fn on_update(&mut self, slot: Slot, weight: u64);
    /// The store removed the entry in `slot` by itself: forget it.
    fn on_remove(&mut self, slot: Slot);
    /// Chooses a victim, forgets it and returns its slot; `None` when empty.
    fn evict(&mut self) -> Option<Slot>;
    /// Forgets everything.
    fn clear(&mut self);
    /// The slots [`Self::evict`] would most likely return next, best guess
    /// first, as far as the policy knows them in O(1) without changing its
    /// state. The store prefetches their entries after an eviction, so that
    /// the next one finds them in the CPU's caches (see `crate::prefetch`).
    /// A hint: it may be wrong, and changes no decision. The default knows
    /// none.
    fn victim_hints(&self) -> [Option<Slot>; 2] {
        [None, None]
    }
}

/// "No slot": the end of a list, an empty hand, no pending entry.
pub(crate) const NIL: Slot = Slot::MAX;

/// The entry an evict-then-insert policy has been told about but not yet
/// queued (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pending(Slot);

impl Default for Pending {
    fn default() -> Self {
        Pending(NIL)
    }
}

impl Pending {
    /// Holds `slot` back.
    #[inline]
    pub(crate) fn set(&mut self, slot: Slot) {
        self.0 = slot;
    }

    /// The held slot, if any.
    #[inline]
    pub(crate) fn get(self) -> Option<Slot> {
        (self.0 != NIL).then_some(self.0)
    }

    /// Whether a slot is held (the hit path's one check: nothing is held
    /// except between an insert and the next call).
    #[inline]
    pub(crate) fn is_held(self) -> bool {
        self.0 != NIL
    }

    /// Releases and returns the held slot.
    #[inline]
    pub(crate) fn take(&mut self) -> Option<Slot> {
        if self.0 == NIL {
            return None;
        }
        Some(std::mem::replace(&mut self.0, NIL))
    }

    /// Releases the held slot, if any, to the front of `list`.
    #[inline]
    pub(crate) fn release_to_front(&mut self, list: &mut List, links: &mut Links) {
        if let Some(slot) = self.take() {
            list.push_front(links, slot);
        }
    }

    /// If `slot` is the one held, drops it and returns true.
    #[inline]
    pub(crate) fn forget(&mut self, slot: Slot) -> bool {
        let held = self.0 == slot && slot != NIL;
        if held {
            self.0 = NIL;
        }
        held
    }
}

/// Grows a per-slot metadata vector so that `slot` indexes it (amortised
/// doubling, new cells set to `fill`).
#[inline]
pub(crate) fn ensure_slot<T: Clone>(v: &mut Vec<T>, slot: Slot, fill: T) {
    let need = slot as usize + 1;
    if v.len() < need {
        let grow = need.max(v.len() * 2).max(16);
        v.resize(grow, fill);
    }
}

/// `capacity × ratio`, rounded down, for splitting a capacity into segments;
/// a ratio outside `[0, 1]` (or NaN) is clamped.
#[inline]
pub(crate) fn share(capacity: u64, ratio: f64) -> u64 {
    let r = if ratio.is_nan() { 0.0 } else { ratio.clamp(0.0, 1.0) };
    // Truncation is the intent (libCacheSim and Caffeine size segments so).
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let v = (capacity as f64 * r) as u64;
    v.min(capacity)
}
