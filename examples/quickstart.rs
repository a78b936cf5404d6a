//! Quick start: a tiered cache on the embedded default (L1 in-process, L3
//! sled on disk), no server needed. The book's quick start shows this file.
//!
//! `cargo run --example quickstart`

use std::time::Duration;

use bytes::Bytes;
use strata::core::CachedStateBackend;
use strata::core::config::{CacheConfig, L3Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("strata-data").to_string_lossy().into_owned();

    // ANCHOR: open
    // The defaults: L1 of 10,000 entries with LRU, no L2, L3 on sled,
    // write-through. Here only the sled directory changes.
    let config = CacheConfig { l3: L3Config::sled(path), ..CacheConfig::default() };
    let cache = CachedStateBackend::open(config).await?;
    // ANCHOR_END: open

    // ANCHOR: use
    // Write-through: L3 has the value before `put` returns.
    cache.put(b"user:1", Bytes::from_static(b"Ada")).await?;
    // Served by L1.
    assert_eq!(cache.get(b"user:1").await?.as_deref(), Some(&b"Ada"[..]));
    // Drop the key from the caches: the next read loads it from L3 and
    // copies it back into L1.
    cache.invalidate(b"user:1").await;
    assert_eq!(cache.get(b"user:1").await?.as_deref(), Some(&b"Ada"[..]));
    // A key nobody wrote: a miss in every tier.
    assert_eq!(cache.get(b"user:2").await?, None);

    let stats = cache.stats();
    assert_eq!((stats.l1.hits, stats.l1.misses), (1, 2));
    assert_eq!((stats.l3.hits, stats.l3.misses), (1, 1));
    println!("{}", serde_json::to_string_pretty(&stats)?);

    // Drains pending writes (none under write-through) and syncs sled.
    cache.shutdown(Duration::from_secs(5)).await?;
    // ANCHOR_END: use
    Ok(())
}
