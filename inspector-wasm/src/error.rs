//! The inspector's error type; it reaches JavaScript as an `Error` whose
//! message names what went wrong and where.

use strata_core::StateError;

/// Anything the inspector API can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InspectError {
    /// A setting from the page is missing or invalid.
    #[error("setting {field}: {reason}")]
    Param {
        /// Which setting.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// `strata-core` rejected the configuration.
    #[error(transparent)]
    Config(#[from] StateError),
    /// The simulator rejected its settings.
    #[error(transparent)]
    Sim(#[from] strata_sim::SimError),
    /// The trace could not be read.
    #[error(transparent)]
    Trace(#[from] strata_sim::trace::TraceError),
    /// The trace holds no request.
    #[error("{file}: no requests in this trace")]
    EmptyTrace {
        /// The file.
        file: String,
    },
    /// The trace holds more requests than the inspector keeps in memory.
    #[error(
        "{file}: more than {max} requests, the most the inspector holds in memory; replay longer traces with `strata replay`, which streams them"
    )]
    TooManyRequests {
        /// The file.
        file: String,
        /// [`crate::loaded::MAX_LOADED_REQUESTS`].
        max: usize,
    },
    /// No trace is loaded yet.
    #[error("no trace loaded: call load() first")]
    NoTrace,
}
