//! The in-process tier: synchronous, clock-driven, generic over the policy.

mod hash;
mod key;
mod sharded;
mod store;

pub use hash::{
    DEFAULT_HASH_SEED, KeyHash, KeyHasher, engine_key, hash_key, hash_key_with, key_hasher, key_hasher_with,
    random_hash_seed,
};
pub use key::{ByteKey, InlineBytes};
pub use sharded::{L1Hit, MAX_SHARDS, ShardedL1};
pub use store::{Entry, InsertOutcome, L1Store, StoreCounters};
