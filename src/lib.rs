//! # strata
//!
//! Facade over [`strata_core`] (the tiered cache engine) and [`strata_sim`]
//! (the simulator).

pub use strata_core as core;
pub use strata_sim as sim;
