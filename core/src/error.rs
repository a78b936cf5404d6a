//! The one error type of `strata-core`.

use std::fmt;
use std::time::Duration;

/// A boxed error from a tier's client library.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`StateError`].
pub type Result<T, E = StateError> = std::result::Result<T, E>;

/// Which tier an error comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    /// The in-process cache.
    L1,
    /// The shared cache (Redis).
    L2,
    /// The durable source of truth.
    L3,
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tier::L1 => "L1",
            Tier::L2 => "L2",
            Tier::L3 => "L3",
        })
    }
}

/// Every error Strata's core returns. Variants name the tier and the operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// A tier's backend failed an operation.
    #[error("{tier} ({backend}) {op} failed: {source}")]
    Backend {
        /// The tier.
        tier: Tier,
        /// The backend's name (`"sled"`, `"postgres"`, `"redis"`, ...).
        backend: &'static str,
        /// The operation (`"get"`, `"put_many"`, ...).
        op: &'static str,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// A tier did not answer in time.
    #[error("{tier} ({backend}) {op} timed out after {after:?}")]
    Timeout {
        /// The tier.
        tier: Tier,
        /// The backend's name.
        backend: &'static str,
        /// The operation.
        op: &'static str,
        /// The deadline that passed.
        after: Duration,
    },
    /// A configuration value is invalid.
    #[error("invalid configuration: `{field}`: {reason}")]
    Config {
        /// The field, as a dotted path (`l1.capacity`).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The write queue (write-behind or write-back) stayed full for the
    /// whole backpressure wait.
    #[error(
        "write queue full: {pending} writes pending (limit {limit}, `write.queue_capacity`) after waiting {waited:?}; L3 is not keeping up"
    )]
    QueueFull {
        /// Writes pending.
        pending: usize,
        /// The queue's limit.
        limit: usize,
        /// How long the put waited for room.
        waited: Duration,
    },
    /// The cache was shut down; no further writes are accepted.
    #[error("the cache is shut down")]
    ShutDown,
    /// `shutdown()` hit its deadline with writes still unwritten.
    #[error("shutdown deadline passed with {} writes not persisted to L3{}{}", keys.len(), first_key(keys), last_error.as_deref().map(|e| format!("; last error: {e}")).unwrap_or_default())]
    Unflushed {
        /// The keys whose latest write did not reach L3.
        keys: Vec<bytes::Bytes>,
        /// The last error seen while flushing, if any.
        last_error: Option<String>,
    },
}

/// A server tier's error with the server it came from: displays as
/// `server: cause`, its [`source`](std::error::Error::source) is the cause.
/// Connect errors of Redis and PostgreSQL carry it, so that they say where;
/// `server` is built from the parsed address, never the URL's credentials.
#[cfg(any(feature = "redis", feature = "postgres"))]
#[derive(Debug)]
pub(crate) struct AtServer<E> {
    pub(crate) server: std::sync::Arc<str>,
    pub(crate) error: E,
}

#[cfg(any(feature = "redis", feature = "postgres"))]
impl<E> AtServer<E> {
    pub(crate) fn new(server: &std::sync::Arc<str>, error: E) -> Self {
        Self { server: server.clone(), error }
    }
}

#[cfg(any(feature = "redis", feature = "postgres"))]
impl<E: fmt::Display> fmt::Display for AtServer<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.server, self.error)
    }
}

#[cfg(any(feature = "redis", feature = "postgres"))]
impl<E: std::error::Error + 'static> std::error::Error for AtServer<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// `; first key: "…"` for an `Unflushed` message (nothing without keys).
fn first_key(keys: &[bytes::Bytes]) -> String {
    keys.first().map(|k| format!("; first key: {:?}", String::from_utf8_lossy(k))).unwrap_or_default()
}

impl StateError {
    /// A [`StateError::Backend`] for `tier`/`backend`/`op` wrapping `source`.
    pub fn backend(tier: Tier, backend: &'static str, op: &'static str, source: impl Into<BoxError>) -> Self {
        StateError::Backend { tier, backend, op, source: source.into() }
    }

    /// A [`StateError::Config`] for `field`.
    pub fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        StateError::Config { field: field.into(), reason: reason.into() }
    }
}
