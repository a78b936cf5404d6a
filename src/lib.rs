#![doc = include_str!("../README.md")]
//!
//! ## Crates
//!
//! This facade re-exports [`strata_core`] (the tiered cache engine) as
//! [`core`] and [`strata_sim`] (the simulator) as [`sim`].

pub use strata_core as core;
pub use strata_sim as sim;

/// The examples the book shows (`examples/*.rs`, included into its chapters),
/// run as doc tests so that every line of Rust in the book is compiled and
/// executed by `cargo test --doc`.
#[cfg(doctest)]
mod book_examples {
    #[doc = concat!("```\n", include_str!("../examples/quickstart.rs"), "\n```")]
    struct Quickstart;

    #[doc = concat!("```\n", include_str!("../examples/write_behind.rs"), "\n```")]
    struct WriteBehind;

    #[doc = concat!("```\n", include_str!("../examples/l3_outage.rs"), "\n```")]
    struct L3Outage;
}

#[cfg(feature = "sled")]
pub mod demo;
#[cfg(all(feature = "sled", feature = "redis"))]
pub mod fleet;
