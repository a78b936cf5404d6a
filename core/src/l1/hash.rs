//! The one key hasher of Strata: fast, and fixed-seeded so that every policy
//! decision that depends on a hash (sketches, ghosts, shard choice) is the
//! same on every run and machine.

use std::hash::{BuildHasher, Hash};

/// The hasher builder used by the L1 store and the policies.
pub type KeyHasher = foldhash::fast::FixedState;

/// The builder with Strata's fixed seed.
#[inline]
#[must_use]
pub fn key_hasher() -> KeyHasher {
    foldhash::fast::FixedState::with_seed(0x5757_a7a5_c0de_cafe)
}

/// The 64-bit hash of `key`.
#[inline]
#[must_use]
pub fn hash_key<Q: Hash + ?Sized>(key: &Q) -> u64 {
    key_hasher().hash_one(key)
}
