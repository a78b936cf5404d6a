//! The simulator's error type.

use thiserror::Error;

/// Everything that can go wrong configuring or running a simulation.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SimError {
    /// A simulator or latency setting is invalid.
    #[error("{field}: {reason}")]
    Config {
        /// The setting, as a dotted path (`latency.l2.p99_us`), prefixed by
        /// the file (and line) when it came from one.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The cache configuration was rejected by `strata-core`.
    #[error(transparent)]
    Cache(#[from] strata_core::StateError),
}

impl SimError {
    /// A [`SimError::Config`] for `field`.
    pub fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        SimError::Config { field: field.into(), reason: reason.into() }
    }
}

/// `Result` with [`SimError`].
pub type Result<T, E = SimError> = std::result::Result<T, E>;
