//! An in-memory backend: a `BTreeMap` behind a lock. For tests and examples.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::RwLock;

use super::{BatchOp, StateBackend};
use crate::error::Result;

/// An in-memory [`StateBackend`]. It counts calls, so tests can prove
/// batching and single-flight (`calls()`).
#[derive(Debug, Default)]
pub struct MemoryStateBackend {
    map: RwLock<BTreeMap<Bytes, Bytes>>,
    calls: AtomicU64,
}

impl MemoryStateBackend {
    /// An empty backend.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many trait calls it has served (a batch counts once).
    #[must_use]
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// A copy of the whole content, in key order.
    #[must_use]
    pub fn snapshot(&self) -> BTreeMap<Bytes, Bytes> {
        self.map.read().clone()
    }

    fn tick(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }
}

#[async_trait]
impl StateBackend for MemoryStateBackend {
    async fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        self.tick();
        Ok(self.map.read().get(key).cloned())
    }
    async fn put(&self, key: &[u8], value: Bytes) -> Result<()> {
        self.tick();
        self.map.write().insert(Bytes::copy_from_slice(key), value);
        Ok(())
    }
    async fn delete(&self, key: &[u8]) -> Result<bool> {
        self.tick();
        Ok(self.map.write().remove(key).is_some())
    }
    async fn list_keys(&self, prefix: &[u8]) -> Result<Vec<Bytes>> {
        self.tick();
        let map = self.map.read();
        let start = Bound::Included(Bytes::copy_from_slice(prefix));
        Ok(map
            .range((start, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect())
    }
    async fn clear(&self) -> Result<()> {
        self.tick();
        self.map.write().clear();
        Ok(())
    }
    async fn count(&self) -> Result<u64> {
        self.tick();
        Ok(self.map.read().len() as u64)
    }
    async fn contains(&self, key: &[u8]) -> Result<bool> {
        self.tick();
        Ok(self.map.read().contains_key(key))
    }
    async fn get_many(&self, keys: &[Bytes]) -> Result<Vec<Option<Bytes>>> {
        self.tick();
        let map = self.map.read();
        Ok(keys.iter().map(|k| map.get(k).cloned()).collect())
    }
    async fn put_many(&self, entries: Vec<(Bytes, Bytes)>) -> Result<()> {
        self.tick();
        self.map.write().extend(entries);
        Ok(())
    }
    async fn delete_many(&self, keys: &[Bytes]) -> Result<u64> {
        self.tick();
        let mut map = self.map.write();
        Ok(keys.iter().map(|k| u64::from(map.remove(k).is_some())).sum())
    }
    async fn apply_batch(&self, ops: Vec<BatchOp>) -> Result<()> {
        self.tick();
        let mut map = self.map.write();
        for (k, v) in ops {
            match v {
                Some(v) => {
                    map.insert(k, v);
                }
                None => {
                    map.remove(&k);
                }
            }
        }
        Ok(())
    }
    fn name(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryStateBackend;
    use crate::backend::conformance;

    #[tokio::test]
    async fn conformance() {
        conformance::crud(&MemoryStateBackend::new()).await;
        conformance::batches(&MemoryStateBackend::new()).await;
        conformance::binary_keys(&MemoryStateBackend::new()).await;
        conformance::list_keys_prefixes(&MemoryStateBackend::new()).await;
        conformance::large_values(&MemoryStateBackend::new()).await;
    }
}
