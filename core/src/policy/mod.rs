//! The decision half of Strata: eviction, write and refresh-ahead policies.
//!
//! Everything here is synchronous, deterministic and takes `now` as an
//! argument; the engine and the simulator both execute these decisions.

pub mod absent;
pub mod backoff;
pub mod breaker;
pub mod eviction;
pub mod refresh;
pub mod tombstone;
pub mod write;

pub use backoff::next_flush_backoff;
pub use refresh::RefreshPolicy;
pub use tombstone::{TOMBSTONE_TTL, tombstone_ttl};
pub use write::{
    Enqueued, ISOLATE_DOWN_AFTER, Isolation, PendingOp, WRITE_BACK_CONCURRENCY, WriteBehindQueue, WritePlan,
};
