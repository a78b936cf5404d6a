//! The durable tier: the [`StateBackend`] trait and its implementations.
//!
//! A backend is the source of truth (L3). Keys and values are bytes. Batch
//! operations have default implementations in terms of the single ones;
//! real backends override them with one round trip per batch.

#[cfg(test)]
pub(crate) mod conformance;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sled")]
mod sled;

#[cfg(feature = "sled")]
pub use self::sled::{
    DEFAULT_BACKGROUND_NICE, DEFAULT_FLUSH_EVERY, INLINE_BYTES, INLINE_KEYS, OpenError, SledOptions,
    SledStateBackend,
};
pub use memory::MemoryStateBackend;
#[cfg(feature = "postgres")]
pub use postgres::{
    DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_OP_TIMEOUT, PostgresOptions,
    PostgresStateBackend, WRITE_ATTEMPTS,
};

use async_trait::async_trait;
use bytes::Bytes;

use crate::error::Result;

/// One write of a batch: `Some(value)` puts, `None` deletes.
pub type BatchOp = (Bytes, Option<Bytes>);

/// A key-value store used as a tier. Object-safe (`dyn StateBackend`).
#[async_trait]
pub trait StateBackend: Send + Sync + 'static {
    /// The value of `key`, if any.
    async fn get(&self, key: &[u8]) -> Result<Option<Bytes>>;
    /// Stores `key → value`.
    async fn put(&self, key: &[u8], value: Bytes) -> Result<()>;
    /// Removes `key`; returns whether it was present.
    async fn delete(&self, key: &[u8]) -> Result<bool>;
    /// Every key starting with `prefix` (binary-safe), in byte order.
    async fn list_keys(&self, prefix: &[u8]) -> Result<Vec<Bytes>>;
    /// Removes every key.
    async fn clear(&self) -> Result<()>;
    /// Number of keys.
    async fn count(&self) -> Result<u64>;

    /// Whether `key` is present.
    async fn contains(&self, key: &[u8]) -> Result<bool> {
        Ok(self.get(key).await?.is_some())
    }

    /// The values of `keys`, in order.
    async fn get_many(&self, keys: &[Bytes]) -> Result<Vec<Option<Bytes>>> {
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            out.push(self.get(k).await?);
        }
        Ok(out)
    }

    /// Stores every pair (a later duplicate key wins).
    async fn put_many(&self, entries: Vec<(Bytes, Bytes)>) -> Result<()> {
        for (k, v) in entries {
            self.put(&k, v).await?;
        }
        Ok(())
    }

    /// Removes `keys`; returns how many were present.
    async fn delete_many(&self, keys: &[Bytes]) -> Result<u64> {
        let mut n = 0;
        for k in keys {
            n += u64::from(self.delete(k).await?);
        }
        Ok(n)
    }

    /// Applies puts and deletes in order, atomically where the backend can
    /// (one transaction / one batch). Used by the write-behind flusher.
    async fn apply_batch(&self, ops: Vec<BatchOp>) -> Result<()> {
        for (k, v) in ops {
            match v {
                Some(v) => self.put(&k, v).await?,
                None => {
                    self.delete(&k).await?;
                }
            }
        }
        Ok(())
    }

    /// [`Self::apply_batch`] for background work that nobody but a write
    /// queue waits for (the write-behind flusher's batches): same contract
    /// and result, but a backend may run it at a lower CPU priority so that
    /// it yields to the requests being served (sled does). By default
    /// [`Self::apply_batch`].
    async fn apply_batch_background(&self, ops: Vec<BatchOp>) -> Result<()> {
        self.apply_batch(ops).await
    }

    /// Makes every write that has returned durable (fsync), for backends
    /// that buffer writes (sled). A no-op by default: a backend whose writes
    /// are durable when they return (PostgreSQL) or that is not durable at
    /// all (memory) has nothing to do.
    async fn persist(&self) -> Result<()> {
        Ok(())
    }

    /// A short name for errors and stats (`"memory"`, `"sled"`, ...).
    fn name(&self) -> &'static str;
}

#[async_trait]
impl<B: StateBackend + ?Sized> StateBackend for std::sync::Arc<B> {
    async fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        (**self).get(key).await
    }
    async fn put(&self, key: &[u8], value: Bytes) -> Result<()> {
        (**self).put(key, value).await
    }
    async fn delete(&self, key: &[u8]) -> Result<bool> {
        (**self).delete(key).await
    }
    async fn list_keys(&self, prefix: &[u8]) -> Result<Vec<Bytes>> {
        (**self).list_keys(prefix).await
    }
    async fn clear(&self) -> Result<()> {
        (**self).clear().await
    }
    async fn count(&self) -> Result<u64> {
        (**self).count().await
    }
    async fn contains(&self, key: &[u8]) -> Result<bool> {
        (**self).contains(key).await
    }
    async fn get_many(&self, keys: &[Bytes]) -> Result<Vec<Option<Bytes>>> {
        (**self).get_many(keys).await
    }
    async fn put_many(&self, entries: Vec<(Bytes, Bytes)>) -> Result<()> {
        (**self).put_many(entries).await
    }
    async fn delete_many(&self, keys: &[Bytes]) -> Result<u64> {
        (**self).delete_many(keys).await
    }
    async fn apply_batch(&self, ops: Vec<BatchOp>) -> Result<()> {
        (**self).apply_batch(ops).await
    }
    async fn apply_batch_background(&self, ops: Vec<BatchOp>) -> Result<()> {
        (**self).apply_batch_background(ops).await
    }
    async fn persist(&self) -> Result<()> {
        (**self).persist().await
    }
    fn name(&self) -> &'static str {
        (**self).name()
    }
}

/// Opens the backend `config` names (PostgreSQL: connects and migrates).
///
/// # Errors
/// When the backend cannot be opened, or its feature is not built in.
pub async fn open_backend(config: &crate::config::L3Config) -> Result<std::sync::Arc<dyn StateBackend>> {
    use crate::config::L3Config;
    match config {
        L3Config::Memory => Ok(std::sync::Arc::new(MemoryStateBackend::new())),
        #[cfg(feature = "sled")]
        L3Config::Sled { path, background_nice } => {
            let options = SledOptions { background_nice: Some(*background_nice), ..SledOptions::default() };
            Ok(std::sync::Arc::new(SledStateBackend::open_with(path, options).await?))
        }
        #[cfg(feature = "postgres")]
        L3Config::Postgres { url, table } => {
            let pg = PostgresStateBackend::connect(url, table).await?;
            pg.migrate().await?;
            Ok(std::sync::Arc::new(pg))
        }
        #[allow(unreachable_patterns)]
        other => Err(crate::error::StateError::config(
            "l3.backend",
            format!("{other:?} is not built into this binary (cargo feature missing)"),
        )),
    }
}
