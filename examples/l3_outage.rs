//! What callers see while L3 is down, under write-through and under
//! write-behind: an L3 that can be switched off wraps the in-memory backend.
//! The book's chapter on failure behaviour shows this file.
//!
//! `cargo run --example l3_outage`

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use strata::core::config::{CacheConfig, WriteConfig, WriteStrategy};
use strata::core::{CachedStateBackend, MemoryStateBackend, StateBackend, StateError, Tier};

/// The in-memory backend behind a switch: while `down`, every call fails.
#[derive(Default)]
struct Switchable {
    inner: MemoryStateBackend,
    down: AtomicBool,
}

impl Switchable {
    fn check(&self, op: &'static str) -> strata::core::Result<()> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StateError::backend(Tier::L3, "switchable", op, "connection refused"));
        }
        Ok(())
    }
}

#[async_trait]
impl StateBackend for Switchable {
    async fn get(&self, key: &[u8]) -> strata::core::Result<Option<Bytes>> {
        self.check("get")?;
        self.inner.get(key).await
    }
    async fn put(&self, key: &[u8], value: Bytes) -> strata::core::Result<()> {
        self.check("put")?;
        self.inner.put(key, value).await
    }
    async fn delete(&self, key: &[u8]) -> strata::core::Result<bool> {
        self.check("delete")?;
        self.inner.delete(key).await
    }
    async fn list_keys(&self, prefix: &[u8]) -> strata::core::Result<Vec<Bytes>> {
        self.check("list_keys")?;
        self.inner.list_keys(prefix).await
    }
    async fn clear(&self) -> strata::core::Result<()> {
        self.check("clear")?;
        self.inner.clear().await
    }
    async fn count(&self) -> strata::core::Result<u64> {
        self.check("count")?;
        self.inner.count().await
    }
    fn name(&self) -> &'static str {
        "switchable"
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    write_through().await?;
    write_behind().await?;
    Ok(())
}

async fn write_through() -> anyhow::Result<()> {
    let l3 = Arc::new(Switchable::default());
    let cache = CachedStateBackend::builder(Arc::clone(&l3)).config(CacheConfig::default()).build()?;
    cache.put(b"a", Bytes::from_static(b"1")).await?;

    // ANCHOR: write_through
    l3.down.store(true, Ordering::SeqCst);
    // A cached key is still served by L1.
    assert_eq!(cache.get(b"a").await?.as_deref(), Some(&b"1"[..]));
    // A put fails, and no tier keeps the value L3 does not have: the key
    // leaves the caches, so the next read goes to L3, which fails too.
    let err = cache.put(b"a", Bytes::from_static(b"2")).await.unwrap_err();
    assert!(matches!(err, StateError::Backend { tier: Tier::L3, op: "put", .. }), "{err}");
    assert!(cache.get(b"a").await.is_err());
    // Once L3 is back, the last acknowledged value is there.
    l3.down.store(false, Ordering::SeqCst);
    assert_eq!(cache.get(b"a").await?.as_deref(), Some(&b"1"[..]));
    // ANCHOR_END: write_through
    Ok(())
}

async fn write_behind() -> anyhow::Result<()> {
    let l3 = Arc::new(Switchable::default());
    // ANCHOR: write_behind_config
    let config = CacheConfig {
        write: WriteConfig {
            strategy: WriteStrategy::WriteBehind,
            batch_size: 4,
            flush_interval: Duration::from_millis(10),
            queue_capacity: 8, // pending keys before puts wait,
            backpressure_timeout: Duration::from_millis(200), // then fail with QueueFull
            ..WriteConfig::default()
        },
        ..CacheConfig::default()
    };
    // ANCHOR_END: write_behind_config
    let cache = CachedStateBackend::builder(Arc::clone(&l3)).config(config).build()?;

    // ANCHOR: write_behind
    l3.down.store(true, Ordering::SeqCst);
    // Puts are accepted while the queue has room (the failed batches are
    // kept and retried with backoff), then wait for room, then fail.
    let mut accepted = 0;
    let full = loop {
        match cache.put(format!("k{accepted}").as_bytes(), Bytes::from_static(b"v")).await {
            Ok(()) => accepted += 1,
            Err(e) => break e,
        }
        assert!(accepted <= 12, "the queue never filled");
    };
    assert!(matches!(full, StateError::QueueFull { limit: 8, .. }), "{full}");
    // Every accepted write is still readable from L1.
    assert_eq!(cache.get(b"k0").await?.as_deref(), Some(&b"v"[..]));

    // L3 comes back: `flush` writes everything that was accepted.
    l3.down.store(false, Ordering::SeqCst);
    cache.flush().await?;
    assert_eq!(l3.count().await?, accepted);

    // Down again at shutdown: after the deadline, `shutdown` names the
    // writes that did not reach L3 instead of dropping them silently.
    l3.down.store(true, Ordering::SeqCst);
    cache.put(b"late", Bytes::from_static(b"v")).await?;
    match cache.shutdown(Duration::from_millis(300)).await {
        Err(StateError::Unflushed { keys, last_error }) => {
            assert_eq!(keys, vec![Bytes::from_static(b"late")]);
            assert!(last_error.is_some_and(|e| e.contains("connection refused")));
        }
        other => anyhow::bail!("expected Unflushed, got {other:?}"),
    }
    // ANCHOR_END: write_behind
    Ok(())
}
