//! What a queued `delete` returns and what it costs L3: it answers whether
//! the key existed from its pending write or L1 when they know, and
//! otherwise asks L3 — a read that the L3 statistics count like any other.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use strata_core::config::{CacheConfig, WriteStrategy};
use strata_core::{CachedStateBackend, MemoryStateBackend, StateBackend};
use support::Faulty;

const QUEUED: [WriteStrategy; 2] = [WriteStrategy::WriteBack, WriteStrategy::WriteBehind];

fn cache(
    strategy: WriteStrategy,
    l3: Faulty<MemoryStateBackend>,
) -> CachedStateBackend<Faulty<MemoryStateBackend>> {
    let mut c = CacheConfig::default();
    c.write.strategy = strategy;
    c.write.flush_interval = Duration::from_secs(3600);
    CachedStateBackend::builder(l3).config(c).build().unwrap()
}

#[tokio::test]
async fn existence_checks_in_l3_are_counted_as_l3_reads() {
    for strategy in QUEUED {
        let memory = MemoryStateBackend::new();
        memory.put(b"stored", Bytes::from_static(b"v")).await.unwrap();
        let (l3, _faults) = Faulty::new(memory);
        let cache = cache(strategy, l3);

        assert!(cache.delete(b"stored").await.unwrap(), "{strategy:?}");
        assert!(!cache.delete(b"never").await.unwrap(), "{strategy:?}");
        let l3 = cache.stats().l3;
        assert_eq!((l3.hits, l3.misses), (1, 1), "{strategy:?}: one existence check each");
        assert_eq!(l3.latency.count, 2, "{strategy:?}: both timed");

        // Known without L3: a key pending in the queue, and a key in L1.
        cache.put(b"pending", Bytes::from_static(b"p")).await.unwrap();
        assert!(cache.delete(b"pending").await.unwrap(), "{strategy:?}");
        assert!(!cache.delete(b"pending").await.unwrap(), "{strategy:?}: its pending delete answers");
        cache.flush().await.unwrap();
        cache.put(b"cached", Bytes::from_static(b"c")).await.unwrap();
        cache.flush().await.unwrap();
        assert!(cache.delete(b"cached").await.unwrap(), "{strategy:?}");
        let l3 = cache.stats().l3;
        assert_eq!((l3.hits, l3.misses), (1, 1), "{strategy:?}: no further L3 read");
        cache.shutdown(Duration::from_secs(5)).await.unwrap();
    }
}

#[tokio::test]
async fn a_failed_existence_check_is_an_l3_error_and_deletes_nothing() {
    for strategy in QUEUED {
        let memory = MemoryStateBackend::new();
        memory.put(b"stored", Bytes::from_static(b"v")).await.unwrap();
        let (l3, faults) = Faulty::new(memory);
        let cache = cache(strategy, l3);
        faults.fail.store(true, Ordering::Relaxed);
        assert!(cache.delete(b"stored").await.is_err(), "{strategy:?}");
        assert_eq!(cache.stats().l3.errors, 1, "{strategy:?}");
        assert_eq!(cache.stats().pending_writes, 0, "{strategy:?}: nothing queued");
        faults.fail.store(false, Ordering::Relaxed);
        assert_eq!(cache.get(b"stored").await.unwrap().as_deref(), Some(&b"v"[..]), "{strategy:?}");
        cache.shutdown(Duration::from_secs(5)).await.unwrap();
    }
}
