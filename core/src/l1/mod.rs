//! The in-process tier: synchronous, clock-driven, generic over the policy.

mod hash;
mod key;
mod sharded;
mod store;

pub use hash::{KeyHash, KeyHasher, engine_key, hash_key, key_hasher};
pub use key::{ByteKey, InlineBytes};
pub use sharded::{L1Hit, MAX_SHARDS, ShardedL1};
pub use store::{Entry, InsertOutcome, L1Store, StoreCounters};
