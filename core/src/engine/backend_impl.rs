//! `CachedStateBackend` is itself a [`StateBackend`], so caches compose.
//!
//! `list_keys` and `count` flush pending writes first, so their answer is
//! exact; `clear` empties every tier including L3 and drops pending writes.

use async_trait::async_trait;
use bytes::Bytes;

use super::CachedStateBackend;
use crate::backend::StateBackend;
use crate::error::Result;
use crate::l1::ByteKey;

#[async_trait]
impl<B: StateBackend> StateBackend for CachedStateBackend<B> {
    async fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        CachedStateBackend::get(self, key).await
    }
    async fn put(&self, key: &[u8], value: Bytes) -> Result<()> {
        CachedStateBackend::put(self, key, value).await
    }
    async fn delete(&self, key: &[u8]) -> Result<bool> {
        CachedStateBackend::delete(self, key).await
    }
    async fn list_keys(&self, prefix: &[u8]) -> Result<Vec<Bytes>> {
        self.flush().await?;
        self.inner.l3.list_keys(prefix).await
    }
    async fn clear(&self) -> Result<()> {
        {
            let mut w = self.inner.writes.lock();
            let keys: Vec<ByteKey> = w.queue.keys().cloned().collect();
            for k in keys {
                w.queue.cancel(&k);
            }
        }
        self.inner.space.notify_waiters();
        // A batch being written while we clear may land after; flush waits for it.
        self.flush().await?;
        let cleared = self.inner.l3.clear().await;
        // The caches after L3: a read made before L3 is empty would put
        // its rows back into L1 and L2 (and this marks loads in flight
        // stale, so none of them caches what it read).
        self.clear_cache().await;
        cleared
    }
    async fn count(&self) -> Result<u64> {
        self.flush().await?;
        self.inner.l3.count().await
    }
    async fn contains(&self, key: &[u8]) -> Result<bool> {
        Ok(CachedStateBackend::get(self, key).await?.is_some())
    }
    async fn get_many(&self, keys: &[Bytes]) -> Result<Vec<Option<Bytes>>> {
        self.get_batch(keys).await
    }
    async fn put_many(&self, entries: Vec<(Bytes, Bytes)>) -> Result<()> {
        self.put_batch(entries).await
    }
    async fn delete_many(&self, keys: &[Bytes]) -> Result<u64> {
        let mut n = 0;
        for k in keys {
            n += u64::from(CachedStateBackend::delete(self, k).await?);
        }
        Ok(n)
    }
    async fn persist(&self) -> Result<()> {
        self.flush().await?;
        self.inner.l3.persist().await
    }
    fn name(&self) -> &'static str {
        "strata"
    }
}
