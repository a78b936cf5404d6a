//! # strata-sim
//!
//! A deterministic discrete-event simulator that replays key traces through
//! Strata's policies (the very types of `strata-core`) with modelled tier
//! latencies.

#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod generate;
pub mod mrc;
pub mod trace;
mod unit;

pub use unit::Unit;
