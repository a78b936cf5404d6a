//! The shared tier (L2): the [`L2Tier`] trait and its Redis implementation
//! (`RedisTier`, feature `redis`).
//!
//! L2 is an optimisation shared by every instance of a cache. Its errors are
//! never the caller's problem: the engine counts an `Err` from any method as
//! an L2 miss (or a skipped write) and goes on to L3. Implementations bound
//! every call with a timeout and put a [`CircuitBreaker`] in front of the
//! server, so a failing L2 costs at most one timeout per call until the
//! breaker opens, and nothing while it is open.
//!
//! # Keys and namespaces
//!
//! Keys are raw bytes. An implementation stores them under its namespace
//! (Redis: `namespace ":" key`), so two caches with different namespaces on
//! one server never see each other's keys, and [`L2Tier::clear`] removes only
//! its own namespace.
//!
//! # Coherence
//!
//! After a write or delete, the engine calls
//! [`L2Tier::publish_invalidation`]; every *other* instance receives the keys
//! from [`L2Tier::subscribe_invalidations`] and drops them from its L1. When
//! the subscription was interrupted (the server restarted, the connection was
//! cut), messages may have been lost, so the receiver gets
//! [`Invalidation::All`] once it is subscribed again: drop the whole L1.
//!
//! [`CircuitBreaker`]: crate::policy::breaker::CircuitBreaker

#[cfg(feature = "redis")]
mod notice;
#[cfg(feature = "redis")]
mod redis;

#[cfg(feature = "redis")]
pub use self::redis::{
    MIN_CONNECT_TIMEOUT, PUBSUB_PING_INTERVAL, RESUBSCRIBE_MAX_BACKOFF, RESUBSCRIBE_MIN_BACKOFF, RedisTier,
    SCAN_BATCH,
};

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::error::Result;
pub use crate::policy::breaker::BreakerState;

/// A notice from another instance: what to drop from L1.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Invalidation {
    /// Another instance wrote or deleted this key.
    Key(Bytes),
    /// Drop everything: another instance cleared the cache, or this
    /// instance's subscription was interrupted and notices may have been lost.
    All,
}

/// A shared cache tier. Object-safe: the engine holds a `dyn L2Tier`.
///
/// Every method returns `Err` on a server error, a timeout, or at once while
/// the breaker is open ([`StateError::Backend`] / [`StateError::Timeout`]
/// with `tier: Tier::L2`).
///
/// [`StateError::Backend`]: crate::StateError::Backend
/// [`StateError::Timeout`]: crate::StateError::Timeout
#[async_trait]
pub trait L2Tier: Send + Sync + 'static {
    /// A short name for errors and stats (`"redis"`).
    fn name(&self) -> &'static str;

    /// The value of `key`, if present.
    async fn get(&self, key: &[u8]) -> Result<Option<Bytes>>;

    /// The values of `keys`, in order (`None` for a miss), in one round trip.
    async fn get_many(&self, keys: &[Bytes]) -> Result<Vec<Option<Bytes>>>;

    /// Stores `key → value`, expiring after `ttl` (`None`: never).
    async fn put(&self, key: &[u8], value: Bytes, ttl: Option<Duration>) -> Result<()>;

    /// Stores every pair with the same `ttl`, in one round trip (a later
    /// duplicate key wins).
    async fn put_many(&self, entries: &[(Bytes, Bytes)], ttl: Option<Duration>) -> Result<()>;

    /// Stores `key → value` only if the key is absent (Redis `SET NX`):
    /// how a read populates L2, so it never overwrites a newer write.
    /// The default is a plain `put`, for tiers without conditional writes.
    async fn populate(&self, key: &[u8], value: Bytes, ttl: Option<Duration>) -> Result<()> {
        self.put(key, value, ttl).await
    }

    /// [`L2Tier::populate`] for many entries, in one round trip where the tier can.
    async fn populate_many(&self, entries: &[(Bytes, Bytes)], ttl: Option<Duration>) -> Result<()> {
        for (k, v) in entries {
            self.populate(k, v.clone(), ttl).await?;
        }
        Ok(())
    }

    /// Removes `key` (absent is not an error).
    async fn delete(&self, key: &[u8]) -> Result<()>;

    /// Removes `keys`, in one round trip.
    async fn delete_many(&self, keys: &[Bytes]) -> Result<()>;

    /// Removes every key of this namespace, and nothing else; returns how many
    /// were removed.
    async fn clear(&self) -> Result<u64>;

    /// Tells the other instances that `keys` changed (they receive
    /// [`Invalidation::Key`] for each).
    async fn publish_invalidation(&self, keys: &[Bytes]) -> Result<()>;

    /// Tells the other instances to drop their whole L1 (they receive
    /// [`Invalidation::All`]); used after [`L2Tier::clear`].
    async fn publish_clear(&self) -> Result<()>;

    /// Starts receiving invalidations published by *other* instances of this
    /// namespace (this instance's own notices are filtered out). The
    /// subscription survives server restarts and connection cuts by itself;
    /// after each reconnection it delivers [`Invalidation::All`]. It ends
    /// (the receiver yields `None`) when the tier is dropped.
    ///
    /// Returns once the subscription is active, so a notice published after
    /// this returns is delivered.
    async fn subscribe_invalidations(&self) -> Result<UnboundedReceiver<Invalidation>>;

    /// This instance's id, as carried in its notices.
    fn instance_id(&self) -> u64;

    /// The breaker's current state.
    fn breaker_state(&self) -> BreakerState;

    /// Calls that failed at the server (error or timeout) since the tier was
    /// created; calls rejected by the open breaker are not counted.
    fn error_count(&self) -> u64;
}
