//! Negative caching (`l1.negative_ttl_ms`): a key found absent is
//! remembered in L1 for the negative TTL, so its reads stop reaching L3;
//! every write strategy replaces the marker on a write, deletes and
//! expiry end it, and it is never handed out as a value.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use strata_core::config::{CacheConfig, WriteStrategy};
use strata_core::{CachedStateBackend, ManualClock, MemoryStateBackend, StateBackend};
use support::{Faults, Faulty};

type Cache = CachedStateBackend<Faulty<MemoryStateBackend>>;

fn cache(
    strategy: WriteStrategy,
    allocate: bool,
    negative_ms: Option<u64>,
) -> (Cache, Arc<Faults>, ManualClock) {
    let clock = ManualClock::new();
    let (l3, faults) = Faulty::new(MemoryStateBackend::new());
    let mut c = CacheConfig::default();
    c.write.strategy = strategy;
    c.write.allocate = allocate;
    c.write.flush_interval = Duration::from_secs(3600);
    c.l1.negative_ttl = negative_ms.map(Duration::from_millis);
    let cache = CachedStateBackend::builder(l3).config(c).clock(clock.clone()).build().unwrap();
    (cache, faults, clock)
}

fn gets(f: &Faults) -> u64 {
    f.gets.load(Ordering::Relaxed)
}

#[tokio::test]
async fn absent_keys_are_remembered_for_the_negative_ttl_only() {
    let (cache, faults, clock) = cache(WriteStrategy::WriteThrough, true, Some(1000));
    for _ in 0..10 {
        assert_eq!(cache.get(b"nobody").await.unwrap(), None);
    }
    assert_eq!(gets(&faults), 1, "one L3 read, then L1 knows");
    let s = cache.stats();
    assert_eq!((s.l1.hits, s.negative_hits, s.l3.misses), (9, 9, 1));
    clock.advance(Duration::from_millis(999));
    assert_eq!(cache.get(b"nobody").await.unwrap(), None);
    assert_eq!(gets(&faults), 1);
    clock.advance(Duration::from_millis(1));
    assert_eq!(cache.get(b"nobody").await.unwrap(), None);
    assert_eq!(gets(&faults), 2, "expired: asked again");
    // The key appears in L3 behind the cache's back: seen once the marker expires.
    cache.backend().inner.put(b"nobody", Bytes::from_static(b"here")).await.unwrap();
    assert_eq!(cache.get(b"nobody").await.unwrap(), None, "still marked absent");
    clock.advance(Duration::from_millis(1000));
    assert_eq!(cache.get(b"nobody").await.unwrap().as_deref(), Some(&b"here"[..]));
}

#[tokio::test]
async fn off_by_default_every_read_of_an_absent_key_asks_l3() {
    let (cache, faults, _clock) = cache(WriteStrategy::WriteThrough, true, None);
    for _ in 0..5 {
        assert_eq!(cache.get(b"nobody").await.unwrap(), None);
    }
    assert_eq!(gets(&faults), 5);
    assert_eq!(cache.stats().negative_hits, 0);
    assert_eq!(CacheConfig::default().l1.negative_ttl, None);
}

#[tokio::test]
async fn a_write_replaces_the_marker_in_every_strategy() {
    for strategy in WriteStrategy::ALL {
        for allocate in [true, false] {
            let (cache, faults, _clock) = cache(strategy, allocate, Some(60_000));
            assert_eq!(cache.get(b"k").await.unwrap(), None);
            cache.put(b"k", Bytes::from_static(b"v")).await.unwrap();
            assert_eq!(cache.get(b"k").await.unwrap().as_deref(), Some(&b"v"[..]), "{strategy:?} {allocate}");
            assert_eq!(gets(&faults), 1, "{strategy:?} {allocate}: the value came from L1");
            cache.flush().await.unwrap();
            assert_eq!(cache.backend().inner.get(b"k").await.unwrap().as_deref(), Some(&b"v"[..]));
            // put_batch too
            assert_eq!(cache.get(b"b").await.unwrap(), None);
            cache.put_batch(vec![(Bytes::from_static(b"b"), Bytes::from_static(b"w"))]).await.unwrap();
            assert_eq!(cache.get(b"b").await.unwrap().as_deref(), Some(&b"w"[..]), "{strategy:?} {allocate}");
        }
    }
}

#[tokio::test]
async fn deletes_and_batches_see_the_marker_as_absent() {
    for strategy in WriteStrategy::ALL {
        let (cache, faults, _clock) = cache(strategy, true, Some(60_000));
        cache.put(b"present", Bytes::from_static(b"p")).await.unwrap();
        cache.flush().await.unwrap();
        assert_eq!(cache.get(b"gone").await.unwrap(), None);
        let l3_reads = cache.stats().l3.hits + cache.stats().l3.misses;
        // A queued delete of a key L1 marks absent asks L3 nothing and says so.
        assert!(!cache.delete(b"gone").await.unwrap(), "{strategy:?}");
        if strategy != WriteStrategy::WriteThrough {
            assert_eq!(
                cache.stats().l3.hits + cache.stats().l3.misses,
                l3_reads,
                "{strategy:?}: no existence check"
            );
        }
        // A read served by a pending delete remembers the key is absent too.
        assert!(cache.delete(b"present").await.unwrap(), "{strategy:?}");
        let before = gets(&faults);
        assert_eq!(cache.get(b"present").await.unwrap(), None, "{strategy:?}");
        assert_eq!(cache.get(b"present").await.unwrap(), None, "{strategy:?}");
        assert!(gets(&faults) <= before + 1, "{strategy:?}: at most one load");
        // get_batch and contains answer absent for marked keys, values for the rest.
        cache.put(b"v", Bytes::from_static(b"x")).await.unwrap();
        let keys = [Bytes::from_static(b"gone"), Bytes::from_static(b"v"), Bytes::from_static(b"new")];
        let got = cache.get_batch(&keys).await.unwrap();
        assert_eq!(got, vec![None, Some(Bytes::from_static(b"x")), None], "{strategy:?}");
        let got = cache.get_batch(&keys).await.unwrap();
        assert_eq!(got, vec![None, Some(Bytes::from_static(b"x")), None], "{strategy:?}");
        assert!(!StateBackend::contains(&cache, b"new").await.unwrap());
        assert!(StateBackend::contains(&cache, b"v").await.unwrap());
        cache.flush().await.unwrap();
    }
}

#[tokio::test]
async fn markers_start_no_refresh_ahead() {
    let clock = ManualClock::new();
    let (l3, faults) = Faulty::new(MemoryStateBackend::new());
    let mut c = CacheConfig::default();
    c.l1.negative_ttl = Some(Duration::from_millis(1000));
    c.refresh.enabled = true;
    let cache = CachedStateBackend::builder(l3).config(c).clock(clock.clone()).build().unwrap();
    assert_eq!(cache.get(b"nobody").await.unwrap(), None);
    clock.advance(Duration::from_millis(900));
    assert_eq!(cache.get(b"nobody").await.unwrap(), None);
    let keys = [Bytes::from_static(b"nobody")];
    assert_eq!(cache.get_batch(&keys).await.unwrap(), vec![None]);
    tokio::task::yield_now().await;
    assert_eq!(cache.stats().refresh_ahead, 0);
    assert_eq!(gets(&faults), 1);
}

#[test]
fn the_setting_round_trips_and_zero_is_refused() {
    let cfg = CacheConfig::from_toml_str("[l1]\nnegative_ttl_ms = 250\n", "c.toml").unwrap();
    assert_eq!(cfg.l1.negative_ttl, Some(Duration::from_millis(250)));
    let back = CacheConfig::from_toml_str(&cfg.to_toml_string().unwrap(), "back").unwrap();
    assert_eq!(back, cfg);
    let e = CacheConfig::from_toml_str("[l1]\nnegative_ttl_ms = 0\n", "c.toml").unwrap_err().to_string();
    assert!(e.contains("c.toml line 2: l1.negative_ttl_ms"), "{e}");
}
