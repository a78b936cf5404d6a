//! How the engine's L1 splits its capacity into shards and hashes keys:
//! automatic shard counts for byte capacities, values heavier than a shard,
//! and the per-cache hash seed that keeps keys from being aimed at a shard.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use strata_core::config::{CacheConfig, Capacity, WriteStrategy};
use strata_core::{CachedStateBackend, MemoryStateBackend, StateBackend};
use support::Faulty;

fn cfg(strategy: WriteStrategy) -> CacheConfig {
    let mut c = CacheConfig::default();
    c.write.strategy = strategy;
    c
}

/// With a capacity in bytes, automatic sharding leaves every shard at
/// least 4 MiB, so a 3 MiB value in a 4 MiB cache is kept (with 256 bytes
/// a shard, as for entry counts, it made 4 shards per CPU of 1 MiB or less,
/// and the value was never cached).
#[tokio::test]
async fn automatic_shards_keep_a_large_value_that_fits_the_byte_capacity() {
    let (backend, faults) = Faulty::new(MemoryStateBackend::new());
    let mut c = cfg(WriteStrategy::WriteThrough);
    c.l1.capacity = Capacity::Bytes(4 << 20);
    let cache = CachedStateBackend::builder(backend).config(c).build().unwrap();
    let big = Bytes::from(vec![7u8; 3 << 20]);
    cache.put(b"big", big.clone()).await.unwrap();
    let l3_reads = faults.gets.load(Ordering::Relaxed);
    assert_eq!(cache.get(b"big").await.unwrap(), Some(big));
    assert_eq!(faults.gets.load(Ordering::Relaxed), l3_reads, "served from L1");
    let s = cache.stats();
    assert_eq!((s.l1.hits, s.l1.too_large), (1, 0));
}

/// A value heavier than one shard's part of a byte capacity is not kept in
/// L1 (reads go on to L3) and is counted, so the refusal is visible.
#[tokio::test]
async fn a_value_heavier_than_a_shard_is_counted_as_too_large() {
    let l3 = Arc::new(MemoryStateBackend::new());
    let mut c = cfg(WriteStrategy::WriteThrough);
    c.l1.capacity = Capacity::Bytes(4 << 20);
    c.l1.shards = 4; // 1 MiB each
    let cache = CachedStateBackend::builder(Arc::clone(&l3)).config(c).build().unwrap();
    let big = Bytes::from(vec![7u8; 2 << 20]);
    cache.put(b"big", big.clone()).await.unwrap();
    assert_eq!(cache.get(b"big").await.unwrap(), Some(big.clone()), "from L3");
    let s = cache.stats();
    assert_eq!(s.l1.hits, 0);
    assert_eq!(s.l1.too_large, 2, "the put and the read's population");
    assert_eq!(l3.get(b"big").await.unwrap(), Some(big));
}

/// Keys chosen, with the public default seed, to land in one shard: a cache
/// pinned to that seed (`l1.hash_seed`) crowds them into one shard's part
/// of the capacity and evicts most of them; a cache with its own random
/// seed (the default) spreads them over every shard and keeps them all.
#[tokio::test]
async fn keys_aimed_with_the_public_seed_do_not_crowd_a_cache_with_its_own_seed() {
    use strata_core::l1::{DEFAULT_HASH_SEED, hash_key};
    // 8 shards of 256 entries; the shard is bits 32.. of the hash.
    let aimed: Vec<Vec<u8>> = (0u64..)
        .map(|i| format!("key:{i}").into_bytes())
        .filter(|k| (hash_key(&k[..]) >> 32) & 7 == 0)
        .take(1_000)
        .collect();
    let evictions = |seed: Option<u64>| {
        let aimed = aimed.clone();
        async move {
            let mut c = cfg(WriteStrategy::WriteThrough);
            c.l1.capacity = Capacity::Entries(2_048);
            c.l1.shards = 8;
            c.l1.hash_seed = seed;
            let cache = CachedStateBackend::builder(MemoryStateBackend::new()).config(c).build().unwrap();
            for k in &aimed {
                cache.put(k, Bytes::from_static(b"v")).await.unwrap();
            }
            cache.stats().l1.evictions
        }
    };
    assert_eq!(evictions(Some(DEFAULT_HASH_SEED)).await, 1_000 - 256, "aimed: one shard holds them");
    // 1,000 keys over 8 shards: about 125 ± 11 each, far below 256.
    assert_eq!(evictions(None).await, 0, "a seed of its own spreads them");
}

/// A cache reports the seed it hashes under: the pinned one, or a random
/// one of its own (two caches draw two seeds).
#[tokio::test]
async fn caches_report_their_hash_seed() {
    let build = |seed: Option<u64>| {
        let mut c = cfg(WriteStrategy::WriteThrough);
        c.l1.hash_seed = seed;
        CachedStateBackend::builder(MemoryStateBackend::new()).config(c).build().unwrap()
    };
    assert_eq!(build(Some(42)).hash_seed(), 42);
    let (a, b) = (build(None).hash_seed(), build(None).hash_seed());
    assert_ne!(a, b);
    assert_ne!(a, strata_core::l1::DEFAULT_HASH_SEED);
}
