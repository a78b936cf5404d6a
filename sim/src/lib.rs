//! # strata-sim
//!
//! A deterministic discrete-event simulator that replays key traces through
//! Strata's policies — the very types of `strata-core` (`L1Store` with its
//! eviction policy, `WritePlan` and `WriteBehindQueue`, `RefreshPolicy`) —
//! with modelled tier latencies, to tune capacities, TTLs and policies
//! offline.
//!
//! ## Architecture
//!
//! - [`replay`]: the full engine. Virtual time in nanoseconds, an
//!   [`event::EventQueue`] ordered by (time, sequence), one master seed with
//!   a [`rng`] stream per component; tiers modelled in [`tier`] (L1 per
//!   instance, a shared L2 with capacity and TTL, an L3 with a concurrency
//!   limit and a FIFO queue); latencies from [`latency`].
//! - [`fast`]: the hit-ratio-only loop (no latencies, no event heap).
//! - [`report`]: the JSON/table report; [`stats`]: what runs measure.
//! - [`trace`]: streaming trace readers and the [`Request`] record;
//!   [`generate`]: synthetic traces.
//! - [`config`]: `SimConfig`, the simulator's own settings; the cache's are
//!   `strata_core::CacheConfig`.
//!
//! Same trace, configurations and seed give a byte-identical report.
//! Memory grows with the number of distinct keys, never with trace length.
//! The crate builds for `wasm32-unknown-unknown`.

#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod arrival;
pub mod config;
pub mod error;
pub mod event;
pub mod fast;
pub mod generate;
pub mod latency;
pub mod mrc;
pub mod replay;
pub mod report;
pub mod rng;
pub mod stats;
pub mod tier;
pub mod trace;
pub mod tune;
mod unit;

pub use config::SimConfig;
pub use error::{Result, SimError};
pub use report::Report;
pub use trace::{Op, Request};
pub use unit::Unit;
