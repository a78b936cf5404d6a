//! # strata-inspector
//!
//! The Strata simulator compiled to WebAssembly, behind a static page.

#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod bindings;
pub mod chart;
pub mod charts;
pub mod curves;
pub mod error;
pub mod loaded;
pub mod params;
pub mod session;
pub mod stats;

pub use error::InspectError;

/// A progress report: `(phase, done, total)`; `total` 0 when unknown.
pub type Progress<'a> = dyn FnMut(&str, u64, u64) + 'a;
