//! Fault injection around a real backend: delays, failures and a gate that
//! holds calls until opened. Used only to inject faults; the data lives in the
//! wrapped backend.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use strata_core::StateBackend;
use strata_core::backend::BatchOp;
use strata_core::error::{Result, StateError, Tier};

#[derive(Default)]
pub struct Faults {
    pub fail: AtomicBool,
    pub delay_ms: AtomicU64,
    /// Writes wait this long after the wrapped backend applied them
    /// before they return (an answer that is late, not a write that is).
    pub ack_delay_ms: AtomicU64,
    /// `clear` waits this long before it empties the wrapped backend.
    pub clear_delay_ms: AtomicU64,
    /// Single `put`s and `delete`s yield to the runtime before they write,
    /// so that concurrent writes interleave.
    pub yield_writes: AtomicBool,
    /// A key L3 refuses: every write call that holds it fails (as
    /// PostgreSQL fails a batch holding a key too long for its index).
    pub refused_key: parking_lot::Mutex<Option<Bytes>>,
    pub gets: AtomicU64,
    pub writes: AtomicU64,
    /// Of `writes`: `apply_batch_background` calls.
    pub background_batches: AtomicU64,
    pub gate: tokio::sync::RwLock<()>,
    /// Single `put`s and `delete`s in progress, and the most at once.
    pub writes_in_flight: AtomicU64,
    pub max_writes_in_flight: AtomicU64,
}

/// One single write in progress (see `Faults::writes_in_flight`).
struct InFlight<'a>(&'a Faults);

impl<'a> InFlight<'a> {
    fn enter(f: &'a Faults) -> Self {
        let now = f.writes_in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        f.max_writes_in_flight.fetch_max(now, Ordering::Relaxed);
        Self(f)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.writes_in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

pub struct Faulty<B> {
    pub inner: B,
    pub faults: Arc<Faults>,
}

impl Faults {
    fn refuses<'k>(&self, mut keys: impl Iterator<Item = &'k [u8]>) -> Result<()> {
        let refused = self.refused_key.lock();
        match refused.as_deref() {
            Some(r) if keys.any(|k| k == r) => {
                Err(StateError::backend(Tier::L3, "faulty", "write", "key refused"))
            }
            _ => Ok(()),
        }
    }
}

impl<B> Faulty<B> {
    pub fn new(inner: B) -> (Self, Arc<Faults>) {
        let faults = Arc::new(Faults::default());
        (Self { inner, faults: Arc::clone(&faults) }, faults)
    }

    async fn enter(&self, op: &'static str) -> Result<()> {
        let _g = self.faults.gate.read().await;
        let d = self.faults.delay_ms.load(Ordering::Relaxed);
        if d > 0 {
            tokio::time::sleep(Duration::from_millis(d)).await;
        }
        if self.faults.fail.load(Ordering::Relaxed) {
            return Err(StateError::backend(Tier::L3, "faulty", op, "injected failure"));
        }
        Ok(())
    }

    async fn maybe_yield(&self) {
        if self.faults.yield_writes.load(Ordering::Relaxed) {
            tokio::task::yield_now().await;
        }
    }

    async fn ack(&self) {
        let d = self.faults.ack_delay_ms.load(Ordering::Relaxed);
        if d > 0 {
            tokio::time::sleep(Duration::from_millis(d)).await;
        }
    }
}

#[async_trait]
impl<B: StateBackend> StateBackend for Faulty<B> {
    async fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        self.faults.gets.fetch_add(1, Ordering::Relaxed);
        self.enter("get").await?;
        self.inner.get(key).await
    }
    async fn put(&self, key: &[u8], value: Bytes) -> Result<()> {
        self.faults.writes.fetch_add(1, Ordering::Relaxed);
        let _in_flight = InFlight::enter(&self.faults);
        self.enter("put").await?;
        self.faults.refuses(std::iter::once(key))?;
        self.maybe_yield().await;
        self.inner.put(key, value).await?;
        self.ack().await;
        Ok(())
    }
    async fn delete(&self, key: &[u8]) -> Result<bool> {
        self.faults.writes.fetch_add(1, Ordering::Relaxed);
        let _in_flight = InFlight::enter(&self.faults);
        self.enter("delete").await?;
        self.faults.refuses(std::iter::once(key))?;
        self.maybe_yield().await;
        let existed = self.inner.delete(key).await?;
        self.ack().await;
        Ok(existed)
    }
    async fn list_keys(&self, prefix: &[u8]) -> Result<Vec<Bytes>> {
        self.enter("list_keys").await?;
        self.inner.list_keys(prefix).await
    }
    async fn clear(&self) -> Result<()> {
        self.enter("clear").await?;
        let d = self.faults.clear_delay_ms.load(Ordering::Relaxed);
        if d > 0 {
            tokio::time::sleep(Duration::from_millis(d)).await;
        }
        self.inner.clear().await
    }
    async fn count(&self) -> Result<u64> {
        self.enter("count").await?;
        self.inner.count().await
    }
    async fn contains(&self, key: &[u8]) -> Result<bool> {
        self.enter("contains").await?;
        self.inner.contains(key).await
    }
    async fn get_many(&self, keys: &[Bytes]) -> Result<Vec<Option<Bytes>>> {
        self.faults.gets.fetch_add(1, Ordering::Relaxed);
        self.enter("get_many").await?;
        self.inner.get_many(keys).await
    }
    async fn put_many(&self, entries: Vec<(Bytes, Bytes)>) -> Result<()> {
        self.faults.writes.fetch_add(1, Ordering::Relaxed);
        self.enter("put_many").await?;
        self.faults.refuses(entries.iter().map(|(k, _)| &k[..]))?;
        self.inner.put_many(entries).await?;
        self.ack().await;
        Ok(())
    }
    async fn apply_batch(&self, ops: Vec<BatchOp>) -> Result<()> {
        self.faults.writes.fetch_add(1, Ordering::Relaxed);
        self.enter("apply_batch").await?;
        self.faults.refuses(ops.iter().map(|(k, _)| &k[..]))?;
        self.inner.apply_batch(ops).await
    }
    async fn apply_batch_background(&self, ops: Vec<BatchOp>) -> Result<()> {
        self.faults.writes.fetch_add(1, Ordering::Relaxed);
        self.faults.background_batches.fetch_add(1, Ordering::Relaxed);
        self.enter("apply_batch").await?;
        self.faults.refuses(ops.iter().map(|(k, _)| &k[..]))?;
        self.inner.apply_batch_background(ops).await
    }
    fn name(&self) -> &'static str {
        "faulty"
    }
}
