//! Engine behaviour: TTL and refresh-ahead on a manual clock, single-flight,
//! concurrency, write failures, backpressure, durability on sled, odd keys
//! and large values.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use strata_core::config::{CacheConfig, Capacity, RefreshConfig, WriteStrategy};
use strata_core::{
    CachedStateBackend, ManualClock, MemoryStateBackend, SledStateBackend, StateBackend, StateError,
};
use support::Faulty;

fn cfg(strategy: WriteStrategy) -> CacheConfig {
    let mut c = CacheConfig::default();
    c.write.strategy = strategy;
    c
}

#[tokio::test]
async fn ttl_expiry_goes_back_to_l3() {
    let clock = ManualClock::new();
    let (backend, faults) = Faulty::new(MemoryStateBackend::new());
    let mut c = cfg(WriteStrategy::WriteThrough);
    c.l1.ttl = Some(Duration::from_secs(10));
    let cache = CachedStateBackend::builder(backend).config(c).clock(clock.clone()).build().unwrap();
    cache.put(b"k", Bytes::from_static(b"v1")).await.unwrap();
    assert_eq!(cache.get(b"k").await.unwrap().as_deref(), Some(&b"v1"[..]));
    assert_eq!(faults.gets.load(Ordering::Relaxed), 0, "served by L1");
    clock.advance(Duration::from_millis(9_999));
    cache.get(b"k").await.unwrap();
    assert_eq!(faults.gets.load(Ordering::Relaxed), 0, "still fresh");
    clock.advance(Duration::from_millis(1));
    assert_eq!(cache.get(b"k").await.unwrap().as_deref(), Some(&b"v1"[..]));
    assert_eq!(faults.gets.load(Ordering::Relaxed), 1, "expired: loaded from L3");
    assert_eq!(cache.stats().l1.expirations, 1);
    // per-entry TTL overrides the default
    cache.put_with_ttl(b"short", Bytes::from_static(b"s"), Duration::from_secs(1)).await.unwrap();
    clock.advance(Duration::from_secs(1));
    cache.get(b"short").await.unwrap();
    assert_eq!(faults.gets.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn refresh_ahead_reloads_once_in_background() {
    let clock = ManualClock::new();
    let l3 = Arc::new(MemoryStateBackend::new());
    let (backend, faults) = Faulty::new(Arc::clone(&l3));
    let mut c = cfg(WriteStrategy::WriteThrough);
    c.l1.ttl = Some(Duration::from_secs(10));
    c.refresh = RefreshConfig { enabled: true, threshold: 0.8 };
    let cache = CachedStateBackend::builder(backend).config(c).clock(clock.clone()).build().unwrap();
    cache.put(b"k", Bytes::from_static(b"old")).await.unwrap();
    l3.put(b"k", Bytes::from_static(b"new")).await.unwrap(); // changed behind the cache's back
    clock.advance(Duration::from_millis(7_999));
    assert_eq!(cache.get(b"k").await.unwrap().as_deref(), Some(&b"old"[..]));
    assert_eq!(cache.stats().refresh_ahead, 0, "not yet due");
    clock.advance(Duration::from_millis(1));
    // Hold L3 so the reload stays in flight while we hit again.
    let gate = faults.gate.write().await;
    for _ in 0..10 {
        assert_eq!(cache.get(b"k").await.unwrap().as_deref(), Some(&b"old"[..]), "hit returns at once");
    }
    assert_eq!(cache.stats().refresh_ahead, 1, "one reload in flight per key");
    drop(gate);
    for _ in 0..200 {
        if cache.get(b"k").await.unwrap().as_deref() == Some(&b"new"[..]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(cache.get(b"k").await.unwrap().as_deref(), Some(&b"new"[..]));
    assert_eq!(faults.gets.load(Ordering::Relaxed), 1, "exactly one background load");
    // The reload restarted the entry's age: not due again right away.
    cache.get(b"k").await.unwrap();
    assert_eq!(cache.stats().refresh_ahead, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_flight_one_load_for_100_concurrent_misses() {
    let l3 = Arc::new(MemoryStateBackend::new());
    l3.put(b"hot", Bytes::from_static(b"value")).await.unwrap();
    let (backend, faults) = Faulty::new(Arc::clone(&l3));
    faults.delay_ms.store(50, Ordering::Relaxed);
    let cache =
        CachedStateBackend::builder(backend).config(cfg(WriteStrategy::WriteThrough)).build().unwrap();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let c = cache.clone();
            tokio::spawn(async move { c.get(b"hot").await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().as_deref(), Some(&b"value"[..]));
    }
    assert_eq!(faults.gets.load(Ordering::Relaxed), 1, "one L3 load");
    assert_eq!(cache.stats().coalesced_loads, 99);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_tasks_mixed_ops_lose_no_writes() {
    for strategy in WriteStrategy::ALL {
        let l3 = Arc::new(MemoryStateBackend::new());
        let mut c = cfg(strategy);
        c.l1.capacity = Capacity::Entries(300); // smaller than the key space: evictions
        c.write.batch_size = 64;
        c.write.flush_interval = Duration::from_millis(5);
        let cache = CachedStateBackend::builder(Arc::clone(&l3)).config(c).build().unwrap();
        let tasks: Vec<_> = (0..16u32)
            .map(|t| {
                let c = cache.clone();
                tokio::spawn(async move {
                    let mut last = std::collections::BTreeMap::new();
                    let mut x = u64::from(t) * 7919 + 1;
                    for i in 0..1000u32 {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        // Each task writes its own keys, and reads everyone's.
                        let own = format!("t{t}:k{}", x % 40).into_bytes();
                        let any = format!("t{}:k{}", x % 16, (x >> 8) % 40).into_bytes();
                        match x % 10 {
                            0..=4 => {
                                let v = Bytes::from(format!("{t}-{i}"));
                                c.put(&own, v.clone()).await.unwrap();
                                last.insert(own, Some(v));
                            }
                            5 => {
                                c.delete(&own).await.unwrap();
                                last.insert(own.clone(), None);
                            }
                            6 => {
                                let got = c.get(&own).await.unwrap();
                                assert_eq!(got, last.get(&own).cloned().flatten(), "read-your-writes");
                            }
                            _ => {
                                c.get(&any).await.unwrap();
                            }
                        }
                    }
                    last
                })
            })
            .collect();
        let mut expected = std::collections::BTreeMap::new();
        for t in tasks {
            expected.extend(t.await.unwrap());
        }
        cache.flush().await.unwrap();
        let snap = l3.snapshot();
        for (k, v) in &expected {
            assert_eq!(snap.get(&k[..]), v.as_ref(), "{strategy:?}: key {}", String::from_utf8_lossy(k));
        }
        assert_eq!(snap.len(), expected.values().filter(|v| v.is_some()).count(), "{strategy:?}");
        cache.shutdown(Duration::from_secs(5)).await.unwrap();
    }
}

#[tokio::test]
async fn write_through_failure_leaves_no_cached_value() {
    let (backend, faults) = Faulty::new(MemoryStateBackend::new());
    let cache =
        CachedStateBackend::builder(backend).config(cfg(WriteStrategy::WriteThrough)).build().unwrap();
    cache.put(b"k", Bytes::from_static(b"persisted")).await.unwrap();
    faults.fail.store(true, Ordering::Relaxed);
    let err = cache.put(b"k", Bytes::from_static(b"lost")).await.unwrap_err();
    assert!(err.to_string().contains("L3 (faulty) put failed"), "{err}");
    faults.fail.store(false, Ordering::Relaxed);
    assert_eq!(cache.get(b"k").await.unwrap().as_deref(), Some(&b"persisted"[..]));
    assert_eq!(cache.stats().write_errors, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_behind_backpressure_then_clear_error_and_nothing_lost() {
    let l3 = Arc::new(MemoryStateBackend::new());
    let (backend, faults) = Faulty::new(Arc::clone(&l3));
    let mut c = cfg(WriteStrategy::WriteBehind);
    c.write.batch_size = 4;
    c.write.queue_capacity = 8;
    c.write.flush_interval = Duration::from_millis(1);
    c.write.backpressure_timeout = Duration::from_millis(100);
    let cache = CachedStateBackend::builder(backend).config(c).build().unwrap();
    faults.fail.store(true, Ordering::Relaxed); // L3 down: the queue fills
    let mut accepted = Vec::new();
    let mut refused = None;
    for i in 0..20u32 {
        match cache.put(format!("k{i}").as_bytes(), Bytes::from(format!("v{i}"))).await {
            Ok(()) => accepted.push(i),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let err = refused.expect("a full queue must refuse");
    assert!(matches!(err, StateError::QueueFull { limit: 8, .. }), "{err}");
    assert!(err.to_string().contains("write queue full"), "{err}");
    // The limit bounds the queue; one batch may be out being written besides.
    assert!((8..=12).contains(&accepted.len()), "{}", accepted.len());
    // Reads still see the accepted writes.
    assert_eq!(cache.get(b"k3").await.unwrap().as_deref(), Some(&b"v3"[..]));
    faults.fail.store(false, Ordering::Relaxed); // L3 back: retries land everything
    cache.shutdown(Duration::from_secs(10)).await.unwrap();
    for i in accepted {
        assert_eq!(l3.get(format!("k{i}").as_bytes()).await.unwrap(), Some(Bytes::from(format!("v{i}"))));
    }
    assert!(matches!(cache.put(b"late", Bytes::new()).await, Err(StateError::ShutDown)));
}

/// `Duration::MAX` as a wait limit means "as long as it takes": a put into
/// a full queue and `shutdown` wait (they used to overflow `Instant + limit`
/// and panic).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbounded_waits_wait_instead_of_overflowing() {
    let l3 = Arc::new(MemoryStateBackend::new());
    let (backend, faults) = Faulty::new(Arc::clone(&l3));
    let mut c = cfg(WriteStrategy::WriteBehind);
    c.write.batch_size = 1;
    c.write.queue_capacity = 1;
    c.write.flush_interval = Duration::from_millis(1);
    c.write.backpressure_timeout = Duration::MAX;
    let cache = Arc::new(CachedStateBackend::builder(backend).config(c).build().unwrap());
    faults.fail.store(true, Ordering::Relaxed); // L3 down: the queue fills
    let mut i = 0u32;
    let waiting = loop {
        let c = Arc::clone(&cache);
        let put =
            tokio::spawn(
                async move { c.put(format!("k{i}").as_bytes(), Bytes::from(format!("v{i}"))).await },
            );
        tokio::time::sleep(Duration::from_millis(50)).await;
        if !put.is_finished() {
            break put; // waiting for room
        }
        put.await.unwrap().unwrap();
        i += 1;
        assert!(i < 10, "a queue of 1 (and one batch out) must fill");
    };
    faults.fail.store(false, Ordering::Relaxed); // L3 back: room again
    waiting.await.unwrap().unwrap();
    cache.shutdown(Duration::MAX).await.unwrap();
    for k in 0..=i {
        assert_eq!(l3.get(format!("k{k}").as_bytes()).await.unwrap(), Some(Bytes::from(format!("v{k}"))));
    }
}

#[tokio::test]
async fn shutdown_reports_what_could_not_be_written() {
    let (backend, faults) = Faulty::new(MemoryStateBackend::new());
    let mut c = cfg(WriteStrategy::WriteBehind);
    c.write.flush_interval = Duration::from_secs(3600);
    let cache = CachedStateBackend::builder(backend).config(c).build().unwrap();
    cache.put(b"a", Bytes::from_static(b"1")).await.unwrap();
    cache.put(b"b", Bytes::from_static(b"2")).await.unwrap();
    faults.fail.store(true, Ordering::Relaxed);
    match cache.shutdown(Duration::from_millis(200)).await {
        Err(StateError::Unflushed { keys, last_error }) => {
            assert_eq!(keys, vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")]);
            assert!(last_error.unwrap_or_default().contains("injected failure"));
        }
        other => panic!("expected Unflushed, got {other:?}"),
    }
}

#[tokio::test]
async fn batches_make_one_l3_call() {
    let l3 = Arc::new(MemoryStateBackend::new());
    let cache = CachedStateBackend::builder(Arc::clone(&l3))
        .config(cfg(WriteStrategy::WriteThrough))
        .build()
        .unwrap();
    let entries: Vec<(Bytes, Bytes)> =
        (0..100u32).map(|i| (Bytes::from(format!("k{i}")), Bytes::from(format!("v{i}")))).collect();
    let before = l3.calls();
    cache.put_batch(entries.clone()).await.unwrap();
    assert_eq!(l3.calls() - before, 1, "put_batch: one L3 call");
    cache.clear_cache().await;
    let keys: Vec<Bytes> =
        entries.iter().map(|(k, _)| k.clone()).chain([Bytes::from_static(b"absent")]).collect();
    let before = l3.calls();
    let got = cache.get_batch(&keys).await.unwrap();
    assert_eq!(l3.calls() - before, 1, "get_batch: one L3 call for the misses");
    assert_eq!(got[7].as_deref(), Some(&b"v7"[..]));
    assert_eq!(got[100], None);
    let before = l3.calls();
    cache.get_batch(&keys[..100]).await.unwrap();
    assert_eq!(l3.calls(), before, "all L1 hits now");
    cache.clear_cache().await;
    let before = l3.calls();
    assert_eq!(cache.warm_cache(&keys).await.unwrap(), 100);
    assert_eq!(l3.calls() - before, 1, "warm_cache: one L3 call");
    let before = l3.calls();
    cache.get(b"k42").await.unwrap();
    assert_eq!(l3.calls(), before, "warmed");
}

#[tokio::test]
async fn write_behind_coalesces_and_batches() {
    let l3 = Arc::new(MemoryStateBackend::new());
    let mut c = cfg(WriteStrategy::WriteBehind);
    c.write.batch_size = 50;
    c.write.flush_interval = Duration::from_secs(3600);
    let cache = CachedStateBackend::builder(Arc::clone(&l3)).config(c).build().unwrap();
    for round in 0..3u32 {
        for i in 0..10u32 {
            cache.put(format!("k{i}").as_bytes(), Bytes::from(format!("{round}"))).await.unwrap();
        }
    }
    assert_eq!(l3.calls(), 0, "nothing written yet");
    cache.flush().await.unwrap();
    let s = cache.stats();
    assert_eq!((s.writes, s.coalesced_writes, s.batched_writes, s.batches), (30, 20, 10, 1));
    assert_eq!(l3.get(b"k3").await.unwrap().as_deref(), Some(&b"2"[..]));
}

/// The flusher's batches reach L3 as background work (a backend may run
/// them at a lower priority); a caller's `flush()` writes as the caller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flusher_writes_as_background_work_and_flush_as_the_caller() {
    let l3 = Arc::new(MemoryStateBackend::new());
    let (backend, faults) = Faulty::new(Arc::clone(&l3));
    let mut c = cfg(WriteStrategy::WriteBehind);
    c.write.batch_size = 4;
    c.write.flush_interval = Duration::from_secs(3600);
    let cache = CachedStateBackend::builder(backend).config(c).build().unwrap();
    for i in 0..4u32 {
        cache.put(format!("k{i}").as_bytes(), Bytes::from(format!("{i}"))).await.unwrap();
    }
    // A full batch is due at once: the flusher writes it.
    for _ in 0..500 {
        if l3.get(b"k3").await.unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(l3.get(b"k3").await.unwrap().as_deref(), Some(&b"3"[..]), "the flusher wrote the batch");
    assert_eq!(faults.background_batches.load(Ordering::Relaxed), 1);
    assert_eq!(faults.writes.load(Ordering::Relaxed), 1);
    // Less than a batch, an hour's interval: only flush() writes it.
    cache.put(b"k9", Bytes::from_static(b"9")).await.unwrap();
    cache.flush().await.unwrap();
    assert_eq!(l3.get(b"k9").await.unwrap().as_deref(), Some(&b"9"[..]));
    assert_eq!(faults.writes.load(Ordering::Relaxed), 2);
    assert_eq!(faults.background_batches.load(Ordering::Relaxed), 1, "flush() wrote as the caller");
}

/// `write.allocate = false`: a put of a key L1 does not hold leaves L1 as
/// it was (nothing evicted), yet every read sees it; a put of a key L1
/// holds replaces the cached value (read without L3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_write_allocate_leaves_l1_to_reads() {
    for strategy in WriteStrategy::ALL {
        let l3 = Arc::new(MemoryStateBackend::new());
        l3.put(b"a", Bytes::from_static(b"a0")).await.unwrap();
        l3.put(b"b", Bytes::from_static(b"b0")).await.unwrap();
        let (backend, faults) = Faulty::new(Arc::clone(&l3));
        let mut c = cfg(strategy);
        c.l1.capacity = Capacity::Entries(2);
        c.l1.shards = 1;
        c.write.allocate = false;
        c.write.flush_interval = Duration::from_secs(3600);
        let cache = CachedStateBackend::builder(backend).config(c).build().unwrap();
        assert_eq!(cache.get(b"a").await.unwrap().as_deref(), Some(&b"a0"[..]));
        assert_eq!(cache.get(b"b").await.unwrap().as_deref(), Some(&b"b0"[..]));
        let gets = faults.gets.load(Ordering::Relaxed);
        for i in 0..10u32 {
            cache.put(format!("new{i}").as_bytes(), Bytes::from(format!("{i}"))).await.unwrap();
        }
        let s = cache.stats();
        assert_eq!((s.l1.size, s.l1.evictions), (2, 0), "{strategy}: the writes evicted nothing");
        cache.put(b"a", Bytes::from_static(b"a1")).await.unwrap();
        assert_eq!(cache.get(b"a").await.unwrap().as_deref(), Some(&b"a1"[..]), "{strategy}");
        assert_eq!(cache.get(b"b").await.unwrap().as_deref(), Some(&b"b0"[..]), "{strategy}");
        assert_eq!(faults.gets.load(Ordering::Relaxed), gets, "{strategy}: a and b served by L1");
        // Written keys are read back (from the queue or L3), then cached by the read.
        assert_eq!(cache.get(b"new7").await.unwrap().as_deref(), Some(&b"7"[..]), "{strategy}");
        assert_eq!(cache.get(b"new7").await.unwrap().as_deref(), Some(&b"7"[..]), "{strategy}");
        cache.flush().await.unwrap();
        assert_eq!(l3.get(b"new9").await.unwrap().as_deref(), Some(&b"9"[..]), "{strategy}");
        assert_eq!(l3.get(b"a").await.unwrap().as_deref(), Some(&b"a1"[..]), "{strategy}");
    }
}

#[tokio::test]
async fn odd_keys_and_large_values() {
    let l3 = Arc::new(MemoryStateBackend::new());
    for strategy in WriteStrategy::ALL {
        let mut c = cfg(strategy);
        c.l1.capacity = Capacity::Bytes(4 << 20);
        let cache = CachedStateBackend::builder(Arc::clone(&l3)).config(c).build().unwrap();
        let big = Bytes::from((0..(3 << 19)).map(|i: u32| (i % 251) as u8).collect::<Vec<u8>>()); // 1.5 MiB
        let too_big = Bytes::from(vec![7u8; 5 << 20]); // larger than L1: stored in L3 only
        cache.put(b"", Bytes::new()).await.unwrap();
        cache.put(&[0xff, 0xfe, 0x00], big.clone()).await.unwrap();
        cache.put(b"huge", too_big.clone()).await.unwrap();
        assert_eq!(cache.get(b"").await.unwrap(), Some(Bytes::new()));
        assert_eq!(cache.get(&[0xff, 0xfe, 0x00]).await.unwrap(), Some(big.clone()));
        assert_eq!(cache.get(b"huge").await.unwrap(), Some(too_big.clone()));
        cache.flush().await.unwrap();
        assert_eq!(l3.get(&[0xff, 0xfe, 0x00]).await.unwrap(), Some(big));
        assert_eq!(l3.get(b"huge").await.unwrap(), Some(too_big));
        assert_eq!(l3.get(b"").await.unwrap(), Some(Bytes::new()));
        assert!(cache.stats().l1.weight <= 4 << 20);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sled_write_behind_shutdown_then_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let sled = SledStateBackend::open(dir.path()).await.unwrap();
        let mut c = cfg(WriteStrategy::WriteBehind);
        c.write.flush_interval = Duration::from_secs(3600);
        let cache = CachedStateBackend::builder(sled).config(c).build().unwrap();
        for i in 0..1000u32 {
            cache.put(&i.to_be_bytes(), Bytes::from(format!("value {i}"))).await.unwrap();
        }
        cache.delete(&7u32.to_be_bytes()).await.unwrap();
        cache.shutdown(Duration::from_secs(10)).await.unwrap();
    }
    let sled = SledStateBackend::open(dir.path()).await.unwrap();
    assert_eq!(sled.count().await.unwrap(), 999);
    assert_eq!(sled.get(&999u32.to_be_bytes()).await.unwrap().as_deref(), Some(&b"value 999"[..]));
    assert_eq!(sled.get(&7u32.to_be_bytes()).await.unwrap(), None);
}

#[tokio::test]
async fn per_entry_ttl_without_a_default_expires() {
    // No default TTL: hits read no clock until an entry with a TTL exists;
    // from then on that entry expires on time and the others never do.
    let clock = ManualClock::new();
    let (backend, faults) = Faulty::new(MemoryStateBackend::new());
    let cache = CachedStateBackend::builder(backend)
        .config(cfg(WriteStrategy::WriteThrough))
        .clock(clock.clone())
        .build()
        .unwrap();
    cache.put(b"forever", Bytes::from_static(b"f")).await.unwrap();
    clock.advance(Duration::from_secs(3600));
    assert_eq!(cache.get(b"forever").await.unwrap().as_deref(), Some(&b"f"[..]));
    cache.put_with_ttl(b"short", Bytes::from_static(b"s"), Duration::from_secs(1)).await.unwrap();
    clock.advance(Duration::from_millis(999));
    assert_eq!(cache.get(b"short").await.unwrap().as_deref(), Some(&b"s"[..]));
    assert_eq!(faults.gets.load(Ordering::Relaxed), 0, "both served by L1");
    clock.advance(Duration::from_millis(1));
    assert_eq!(cache.get(b"short").await.unwrap().as_deref(), Some(&b"s"[..]));
    assert_eq!(faults.gets.load(Ordering::Relaxed), 1, "expired: loaded from L3");
    clock.advance(Duration::from_secs(3600));
    assert_eq!(cache.get(b"forever").await.unwrap().as_deref(), Some(&b"f"[..]));
    assert_eq!(faults.gets.load(Ordering::Relaxed), 1, "no TTL: still in L1");
    assert_eq!(cache.stats().l1.expirations, 1);
}

#[tokio::test]
async fn get_does_nothing_until_polled() {
    let cache = CachedStateBackend::builder(MemoryStateBackend::new()).build().unwrap();
    cache.put(b"k", Bytes::from_static(b"old")).await.unwrap();
    let read = cache.get(b"k");
    let hits = cache.stats().l1.hits;
    // The read was created before this write but is first polled after it.
    let writer = cache.clone();
    tokio::spawn(async move { writer.put(b"k", Bytes::from_static(b"new")).await.unwrap() }).await.unwrap();
    assert_eq!(cache.stats().l1.hits, hits, "creating the future read nothing");
    assert_eq!(read.await.unwrap().as_deref(), Some(&b"new"[..]));
    assert_eq!(cache.get(b"absent").await.unwrap(), None, "a miss goes through the boxed path");
}

/// A put made while a load of the key is in flight: the load may answer
/// its own caller with the older value, but must not leave it cached; the
/// next read sees the put. (Queued puts take the engine's one-lock fast
/// path, write-through the ticketed one.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_during_a_load_wins_over_the_loaded_value() {
    for strategy in WriteStrategy::ALL {
        let l3 = Arc::new(MemoryStateBackend::new());
        l3.put(b"k", Bytes::from_static(b"old")).await.unwrap();
        let (backend, faults) = Faulty::new(Arc::clone(&l3));
        let cache = CachedStateBackend::builder(backend).config(cfg(strategy)).build().unwrap();
        let gate = faults.gate.write().await;
        let load = {
            let c = cache.clone();
            tokio::spawn(async move { c.get(b"k").await })
        };
        while faults.gets.load(Ordering::Relaxed) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let put = {
            let c = cache.clone();
            tokio::spawn(async move { c.put(b"k", Bytes::from_static(b"new")).await })
        };
        if strategy != WriteStrategy::WriteThrough {
            put.await.unwrap().unwrap(); // queued: done without L3
            assert_eq!(
                cache.get(b"k").await.unwrap().as_deref(),
                Some(&b"new"[..]),
                "{strategy}: read your write"
            );
            drop(gate);
        } else {
            drop(gate);
            put.await.unwrap().unwrap();
        }
        let loaded = load.await.unwrap().unwrap();
        assert!(loaded.is_some(), "{strategy}: the load answers");
        assert_eq!(
            cache.get(b"k").await.unwrap().as_deref(),
            Some(&b"new"[..]),
            "{strategy}: nothing stale cached"
        );
        cache.flush().await.unwrap();
        assert_eq!(l3.get(b"k").await.unwrap().as_deref(), Some(&b"new"[..]), "{strategy}");
    }
}

/// Write-back writes each write of a batch with an L3 call of its own,
/// `WRITE_BACK_CONCURRENCY` (16) at a time (a batch holds a key at most
/// once, so their order does not matter), not one after another; a failed
/// one is queued again, the rest land.
#[tokio::test]
async fn write_back_writes_a_batch_concurrently() {
    let l3 = Arc::new(MemoryStateBackend::new());
    let (backend, faults) = Faulty::new(Arc::clone(&l3));
    let cache = CachedStateBackend::builder(backend).config(cfg(WriteStrategy::WriteBack)).build().unwrap();
    faults.delay_ms.store(20, Ordering::Relaxed);
    // A current-thread runtime: the flusher has not run yet, so one
    // flush takes all 20.
    for i in 0..20u8 {
        cache.put(&[i], Bytes::from(vec![i])).await.unwrap();
    }
    cache.flush().await.unwrap();
    let most = faults.max_writes_in_flight.load(Ordering::Relaxed);
    assert_eq!(most, strata_core::policy::WRITE_BACK_CONCURRENCY as u64, "at once, up to the bound");
    assert_eq!(l3.count().await.unwrap(), 20);
    let s = cache.stats();
    assert_eq!((s.batches, s.batched_writes, s.write_errors), (20, 20, 0));

    // A failure: the write goes back to the queue and lands on the next try.
    faults.fail.store(true, Ordering::Relaxed);
    cache.put(b"late", Bytes::from_static(b"v")).await.unwrap();
    assert!(cache.flush().await.is_err());
    assert_eq!(l3.get(b"late").await.unwrap(), None);
    faults.fail.store(false, Ordering::Relaxed);
    cache.flush().await.unwrap();
    assert_eq!(l3.get(b"late").await.unwrap().as_deref(), Some(&b"v"[..]));
}

/// A refresh-ahead reload keeps the entry's own TTL: an entry written with
/// `put_with_ttl(1 s)` and refreshed still expires a second after its
/// reload (it used to get the L1 default, or with no default never
/// expire, so a changed L3 value was never seen again).
#[tokio::test]
async fn a_refresh_keeps_the_entrys_own_ttl() {
    for default_ttl in [None, Some(Duration::from_secs(60))] {
        let clock = ManualClock::new();
        let l3 = Arc::new(MemoryStateBackend::new());
        let mut c = cfg(WriteStrategy::WriteThrough);
        c.l1.ttl = default_ttl;
        c.refresh = RefreshConfig { enabled: true, threshold: 0.5 };
        let cache =
            CachedStateBackend::builder(Arc::clone(&l3)).config(c).clock(clock.clone()).build().unwrap();
        cache.put_with_ttl(b"k", Bytes::from_static(b"v1"), Duration::from_secs(1)).await.unwrap();
        clock.advance(Duration::from_millis(600));
        assert_eq!(cache.get(b"k").await.unwrap().as_deref(), Some(&b"v1"[..])); // due: reloads
        cache.settle().await;
        assert_eq!(cache.stats().refresh_ahead, 1);
        l3.put(b"k", Bytes::from_static(b"v2")).await.unwrap(); // behind the cache's back
        clock.advance(Duration::from_millis(1_001));
        assert_eq!(
            cache.get(b"k").await.unwrap().as_deref(),
            Some(&b"v2"[..]),
            "default TTL {default_ttl:?}"
        );
    }
}
