//! Write-behind: puts update L1 at once and reach L3 later, in coalesced
//! batches. The book's chapter on write strategies shows this file.
//!
//! `cargo run --example write_behind`

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use strata::core::config::{CacheConfig, WriteConfig, WriteStrategy};
use strata::core::{CachedStateBackend, MemoryStateBackend, StateBackend};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let l3 = Arc::new(MemoryStateBackend::new());

    // ANCHOR: config
    let config = CacheConfig {
        write: WriteConfig {
            strategy: WriteStrategy::WriteBehind,
            batch_size: 1_000,                       // flush when 1,000 keys are pending,
            flush_interval: Duration::from_secs(10), // or when the oldest is 10 s old
            ..WriteConfig::default()
        },
        ..CacheConfig::default()
    };
    let cache = CachedStateBackend::builder(Arc::clone(&l3)).config(config).build()?;
    // ANCHOR_END: config

    // ANCHOR: coalesce
    // 10 keys written 100 times each: 1,000 puts, all answered by L1 at once.
    for round in 0..100u32 {
        for key in 0..10u32 {
            cache.put(format!("counter:{key}").as_bytes(), Bytes::from(round.to_string())).await?;
        }
    }
    // Every read sees its own writes, before L3 has them.
    assert_eq!(cache.get(b"counter:3").await?.as_deref(), Some(&b"99"[..]));
    assert_eq!(l3.count().await?, 0);

    // `flush` writes what is pending now: one batch of 10 keys, the latest
    // value of each; the other 990 writes were coalesced away.
    cache.flush().await?;
    let stats = cache.stats();
    assert_eq!((stats.writes, stats.batches, stats.batched_writes), (1_000, 1, 10));
    assert_eq!(stats.coalesced_writes, 990);
    assert_eq!(l3.get(b"counter:3").await?.as_deref(), Some(&b"99"[..]));
    // ANCHOR_END: coalesce

    cache.shutdown(Duration::from_secs(5)).await?;
    Ok(())
}
