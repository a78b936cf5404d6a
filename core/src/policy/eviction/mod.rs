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
//! - All operations are O(1) amortised and deterministic: the same call
//!   sequence gives the same victims on every run and every machine.
//!
//! Runtime choice is the serde enum [`EvictionConfig`]; [`AnyPolicy`] maps it
//! onto the concrete types with a `match` (static dispatch, no vtable).

mod list;
mod lru;

pub use list::{Links, List};
pub use lru::Lru;

use serde::{Deserialize, Serialize};

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
}

/// Which eviction policy to use, with its parameters. Serialised in
/// `CacheConfig` as e.g. `eviction = { policy = "s3fifo" }`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "policy", rename_all = "lowercase", deny_unknown_fields)]
#[non_exhaustive]
pub enum EvictionConfig {
    /// Least recently used.
    #[default]
    Lru,
}

impl EvictionConfig {
    /// Every policy with default parameters, for comparisons.
    #[must_use]
    pub fn all() -> Vec<EvictionConfig> {
        vec![EvictionConfig::Lru]
    }

    /// The policy's short name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            EvictionConfig::Lru => "lru",
        }
    }

    /// Builds the policy for a store of `capacity` weight units.
    #[must_use]
    pub fn build(&self, capacity: u64) -> AnyPolicy {
        let _ = capacity;
        match self {
            EvictionConfig::Lru => AnyPolicy::Lru(Lru::new()),
        }
    }
}

/// Any of the built-in policies, chosen at run time, dispatched by `match`.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnyPolicy {
    /// See [`Lru`].
    Lru(Lru),
}

macro_rules! dispatch {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            AnyPolicy::Lru($p) => $e,
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
    fn clear(&mut self) {
        dispatch!(self, p => p.clear())
    }
}
