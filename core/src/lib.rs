//! # strata-core
//!
//! A tiered cache engine (L1 in-process, L2 shared, L3 durable) built on
//! sans-IO policies that the simulator (`strata-sim`) drives too.
//!
//! ## Architecture
//!
//! - Decisions (synchronous, `now` passed in, deterministic): [`l1`] (the
//!   in-process store and its sharded form), [`policy`] (eviction, write,
//!   refresh-ahead, the L2 circuit breaker), [`config`], [`clock`].
//! - Execution (async, feature `engine`): the backends in `backend`, the
//!   shared tier in `l2` and the engine `CachedStateBackend`.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `engine` | yes | the async engine, `StateBackend`, `MemoryStateBackend`, `SystemClock` (tokio) |
//! | `sled` | yes | `SledStateBackend`, the embedded durable default |
//! | `redis` | yes | `l2::RedisTier`, the shared L2 tier on Redis (`redis://`, `rediss://`) |
//! | `postgres` | yes | `PostgresStateBackend`, L3 in a PostgreSQL table (sqlx) |
//!
//! With `default-features = false` the crate depends on no runtime and no
//! I/O crate, and builds for `wasm32-unknown-unknown`.

#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod clock;
pub mod config;
pub mod error;
pub mod l1;
pub mod policy;
pub mod prefetch;
pub mod stats;

#[cfg(feature = "engine")]
pub mod backend;
#[cfg(feature = "engine")]
pub mod engine;
#[cfg(feature = "engine")]
pub mod l2;

pub use clock::{Clock, Instant, ManualClock};
pub use config::CacheConfig;
pub use error::{Result, StateError, Tier};

#[cfg(feature = "postgres")]
pub use backend::PostgresStateBackend;
#[cfg(feature = "sled")]
pub use backend::SledStateBackend;
#[cfg(feature = "engine")]
pub use backend::{MemoryStateBackend, StateBackend};
#[cfg(feature = "engine")]
pub use clock::SystemClock;
#[cfg(feature = "engine")]
pub use engine::{CacheBuilder, CachedStateBackend};
