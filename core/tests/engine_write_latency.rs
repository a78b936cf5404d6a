//! `stats().write_latency`: every L3 write call is timed once, whatever it
//! holds (a write-through write, a write-back write, a write-behind batch),
//! failed ones included.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use strata_core::config::{CacheConfig, WriteStrategy};
use strata_core::{CachedStateBackend, MemoryStateBackend};
use support::Faulty;

fn cache(
    strategy: WriteStrategy,
) -> (CachedStateBackend<Faulty<MemoryStateBackend>>, std::sync::Arc<support::Faults>) {
    let (l3, faults) = Faulty::new(MemoryStateBackend::new());
    let mut c = CacheConfig::default();
    c.write.strategy = strategy;
    c.write.flush_interval = Duration::from_secs(3600);
    (CachedStateBackend::builder(l3).config(c).build().unwrap(), faults)
}

fn v() -> Bytes {
    Bytes::from_static(b"v")
}

#[tokio::test]
async fn each_l3_write_call_is_one_timed_sample() {
    for strategy in WriteStrategy::ALL {
        let (cache, faults) = cache(strategy);
        faults.delay_ms.store(20, Ordering::Relaxed);
        cache.put(b"a", v()).await.unwrap();
        cache.put(b"a", v()).await.unwrap();
        cache
            .put_batch(vec![(Bytes::from_static(b"b"), v()), (Bytes::from_static(b"c"), v())])
            .await
            .unwrap();
        cache.delete(b"b").await.unwrap();
        cache.flush().await.unwrap();
        let w = cache.stats().write_latency;
        let calls = faults.writes.load(Ordering::Relaxed);
        let want = match strategy {
            // put, put, put_many, delete
            WriteStrategy::WriteThrough => 4,
            // a (coalesced), c and b's delete: one write each
            WriteStrategy::WriteBack => 3,
            // one batch
            WriteStrategy::WriteBehind => 1,
        };
        assert_eq!((w.count, calls), (want, want), "{strategy:?}");
        assert!(w.p50_ns >= 20_000_000 && w.max_ns >= 20_000_000, "{strategy:?}: {w:?}");
        assert_eq!(cache.stats().l3.latency.count, 0, "{strategy:?}: writes are not reads");
    }
}

#[tokio::test]
async fn failed_writes_are_timed_too() {
    let (cache, faults) = cache(WriteStrategy::WriteThrough);
    faults.fail.store(true, Ordering::Relaxed);
    assert!(cache.put(b"a", v()).await.is_err());
    let s = cache.stats();
    assert_eq!((s.write_latency.count, s.write_errors), (1, 1));
}
