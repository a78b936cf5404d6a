//! The engine with a real Redis L2 (`REDIS_URL`): reads served by L2, L2
//! populated without overwriting newer writes, cross-instance coherence (with
//! the measured delay), and clear_cache limited to the namespace.
#![allow(clippy::unwrap_used)]

#[path = "support/proxy.rs"]
mod proxy;
#[path = "support/redis_env.rs"]
mod redis_env;
#[path = "../core/tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use redis::AsyncCommands;
use redis_env::{clock, config, raw, redis_addr, redis_url};
use strata::core::config::{CacheConfig, L2Config, WriteStrategy};
use strata::core::l2::RedisTier;
use strata::core::{CachedStateBackend, MemoryStateBackend, StateBackend};

type Cache = CachedStateBackend<Arc<MemoryStateBackend>>;

async fn instance(l3: &Arc<MemoryStateBackend>, l2: &L2Config, strategy: WriteStrategy) -> Cache {
    instance_flushing_every(l3, l2, strategy, Duration::from_millis(5)).await
}

async fn instance_flushing_every(
    l3: &Arc<MemoryStateBackend>,
    l2: &L2Config,
    strategy: WriteStrategy,
    flush_interval: Duration,
) -> Cache {
    let mut cfg = CacheConfig { l2: Some(l2.clone()), ..CacheConfig::default() };
    cfg.write.strategy = strategy;
    cfg.write.flush_interval = flush_interval;
    let tier = RedisTier::connect(l2, clock()).await.unwrap();
    let cache = CachedStateBackend::builder(Arc::clone(l3)).config(cfg).l2(Arc::new(tier)).build().unwrap();
    assert!(cache.ready(Duration::from_secs(5)).await, "subscribed");
    cache
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_instance_reads_from_l2_not_l3() {
    let l3 = Arc::new(MemoryStateBackend::new());
    let l2 = config(&redis_url(), "engine-l2-read");
    let a = instance(&l3, &l2, WriteStrategy::WriteThrough).await;
    let b = instance(&l3, &l2, WriteStrategy::WriteThrough).await;
    a.put(b"k", Bytes::from_static(b"v")).await.unwrap();
    // Let A's notice for `k` reach B first: arriving after B's read, it would
    // (correctly, harmlessly) drop the entry B just cached, and the L1 hit
    // checked below would be a miss.
    for _ in 0..200 {
        if b.stats().remote_invalidations >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(b.stats().remote_invalidations, 1);
    let l3_calls = l3.calls();
    assert_eq!(b.get(b"k").await.unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(l3.calls(), l3_calls, "served by L2");
    let s = b.stats();
    assert_eq!((s.l1.misses, s.l2.hits, s.l3.hits + s.l3.misses), (1, 1, 0));
    assert_eq!(b.get(b"k").await.unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(b.stats().l1.hits, 1, "then from L1");
    assert_eq!(s.l2_breaker.as_deref(), Some("closed"));
    a.clear_cache().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l3_loads_populate_l2_and_batches_use_l2() {
    let l3 = Arc::new(MemoryStateBackend::new());
    for i in 0..50u32 {
        l3.put(format!("k{i}").as_bytes(), Bytes::from(format!("v{i}"))).await.unwrap();
    }
    let l2 = config(&redis_url(), "engine-l2-populate");
    let a = instance(&l3, &l2, WriteStrategy::WriteThrough).await;
    let keys: Vec<Bytes> = (0..50u32).map(|i| Bytes::from(format!("k{i}"))).collect();
    let mut conn = raw().await;
    assert_eq!(a.get_batch(&keys).await.unwrap()[9].as_deref(), Some(&b"v9"[..]));
    // Population is in the background: `settle` waits until it is done.
    a.settle().await;
    let raw_keys: Vec<Vec<u8>> = keys.iter().map(|k| [l2.namespace.as_bytes(), b":", k].concat()).collect();
    assert_eq!(conn.exists::<_, usize>(&raw_keys).await.unwrap(), 50, "every key in L2 once settled");
    let b = instance(&l3, &l2, WriteStrategy::WriteThrough).await;
    let calls = l3.calls();
    let got = b.get_batch(&keys).await.unwrap();
    assert_eq!(got[49].as_deref(), Some(&b"v49"[..]));
    assert_eq!(l3.calls(), calls, "the whole batch came from L2 in one MGET");
    assert_eq!(b.stats().l2.hits, 50);
    a.clear_cache().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_on_one_instance_reach_the_others_l1_quickly() {
    for strategy in [WriteStrategy::WriteThrough, WriteStrategy::WriteBehind] {
        let l3 = Arc::new(MemoryStateBackend::new());
        let l2 = config(&redis_url(), "engine-l2-coherence");
        let a = instance(&l3, &l2, strategy).await;
        let b = instance(&l3, &l2, strategy).await;
        let mut delays = Vec::new();
        for round in 0..40u32 {
            let key = format!("k{}", round % 4);
            a.put(key.as_bytes(), Bytes::from(format!("old{round}"))).await.unwrap();
            // B holds the current value in L1 (once the previous round's
            // invalidation has reached it).
            let old = Some(Bytes::from(format!("old{round}")));
            for _ in 0..1000 {
                if b.get(key.as_bytes()).await.unwrap() == old {
                    break;
                }
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
            assert_eq!(b.get(key.as_bytes()).await.unwrap(), old);
            let new = Bytes::from(format!("new{round}"));
            #[allow(clippy::disallowed_methods)] // measuring real delivery delay
            let start = std::time::Instant::now();
            a.put(key.as_bytes(), new.clone()).await.unwrap();
            loop {
                if b.get(key.as_bytes()).await.unwrap() == Some(new.clone()) {
                    break;
                }
                assert!(
                    start.elapsed() < Duration::from_millis(100),
                    "{strategy:?}: B saw the new value too late"
                );
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
            delays.push(start.elapsed());
        }
        delays.sort();
        println!(
            "{strategy:?}: invalidation delay p50 {:?}, max {:?} over {} writes",
            delays[delays.len() / 2],
            delays[delays.len() - 1],
            delays.len()
        );
        assert!(b.stats().remote_invalidations >= 40);
        a.shutdown(Duration::from_secs(5)).await.unwrap();
        b.shutdown(Duration::from_secs(5)).await.unwrap();
        a.clear_cache().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_cache_touches_only_its_namespace_and_never_l3() {
    let l3 = Arc::new(MemoryStateBackend::new());
    let mine = config(&redis_url(), "engine-l2-clear-a");
    let other = config(&redis_url(), "engine-l2-clear-b");
    let a = instance(&l3, &mine, WriteStrategy::WriteThrough).await;
    let o = instance(&l3, &other, WriteStrategy::WriteThrough).await;
    let a2 = instance(&l3, &mine, WriteStrategy::WriteThrough).await;
    a.put(b"x", Bytes::from_static(b"1")).await.unwrap();
    o.put(b"y", Bytes::from_static(b"2")).await.unwrap();
    assert!(a2.get(b"x").await.unwrap().is_some()); // a2 holds x in L1
    a.clear_cache().await;
    let mut conn = raw().await;
    let key = |ns: &str, k: &str| [ns.as_bytes(), b":", k.as_bytes()].concat();
    assert!(!conn.exists::<_, bool>(key(&mine.namespace, "x")).await.unwrap());
    assert!(conn.exists::<_, bool>(key(&other.namespace, "y")).await.unwrap());
    assert_eq!(l3.get(b"x").await.unwrap().as_deref(), Some(&b"1"[..]), "L3 untouched");
    // The clear reached the other instance of the namespace.
    for _ in 0..100 {
        if a2.stats().l1.size == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(a2.stats().l1.size, 0);
    o.clear_cache().await;
}

/// Two instances write one key with write-behind; their puts write L2 in
/// one order and their batches land in L3 in the other. Each landed batch
/// is written to L2 again, so L2 (and both L1s, told by the flush's notice)
/// end with L3's value rather than keeping the losing put's until L2's TTL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_behind_l2_ends_with_the_value_l3_ends_with() {
    let l3 = Arc::new(MemoryStateBackend::new());
    let l2 = config(&redis_url(), "engine-l2-flush-order");
    // No background flush during the test: the batches land when flushed.
    let open = || instance_flushing_every(&l3, &l2, WriteStrategy::WriteBehind, Duration::from_secs(600));
    let (a, b) = (open().await, open().await);
    let mut conn = raw().await;
    let raw_key = |k: &str| [l2.namespace.as_bytes(), b":", k.as_bytes()].concat();

    // Puts: A then B, so L2 holds B's value; batches: B's then A's, so L3
    // ends with A's.
    a.put(b"k", Bytes::from_static(b"from-a")).await.unwrap();
    b.put(b"k", Bytes::from_static(b"from-b")).await.unwrap();
    assert_eq!(conn.get::<_, Vec<u8>>(raw_key("k")).await.unwrap(), b"\0from-b");
    b.flush().await.unwrap();
    a.flush().await.unwrap();
    assert_eq!(l3.get(b"k").await.unwrap().as_deref(), Some(&b"from-a"[..]));
    assert_eq!(conn.get::<_, Vec<u8>>(raw_key("k")).await.unwrap(), b"\0from-a", "L2 = L3");
    // B held its own value in L1; A's flush told it to drop it.
    let mut seen = None;
    for _ in 0..400 {
        seen = b.get(b"k").await.unwrap();
        if seen.as_deref() == Some(&b"from-a"[..]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(seen.as_deref(), Some(&b"from-a"[..]), "B reads L3's value");

    // A delete on B, then a put on A (L2 holds A's value); the put lands
    // first, the delete last: L2 gets the delete's tombstone again.
    b.delete(b"d").await.unwrap();
    a.put(b"d", Bytes::from_static(b"from-a")).await.unwrap();
    assert_eq!(conn.get::<_, Vec<u8>>(raw_key("d")).await.unwrap(), b"\0from-a");
    a.flush().await.unwrap();
    b.flush().await.unwrap();
    assert_eq!(l3.get(b"d").await.unwrap(), None);
    assert_eq!(conn.get::<_, Vec<u8>>(raw_key("d")).await.unwrap(), [1u8], "a tombstone, as L3 has no value");
    let c = open().await;
    assert_eq!(c.get(b"d").await.unwrap(), None, "a third instance reads no value");

    a.clear_cache().await;
}

/// A key put again while its batch is being written is left to its newer
/// batch: the landed (older) value does not overwrite the newer one in L2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_landed_batch_leaves_l2_to_a_newer_queued_write() {
    let (l3, faults) = support::Faulty::new(MemoryStateBackend::new());
    let l2 = config(&redis_url(), "engine-l2-landed-newer");
    let mut cfg = CacheConfig { l2: Some(l2.clone()), ..CacheConfig::default() };
    cfg.write.strategy = WriteStrategy::WriteBehind;
    cfg.write.flush_interval = Duration::from_secs(600);
    let tier = RedisTier::connect(&l2, clock()).await.unwrap();
    let a = Arc::new(CachedStateBackend::builder(l3).config(cfg).l2(Arc::new(tier)).build().unwrap());
    let mut conn = raw().await;
    let raw_key = [l2.namespace.as_bytes(), b":k"].concat();

    a.put(b"k", Bytes::from_static(b"v1")).await.unwrap();
    // Hold L3's writes: the flush takes the batch [k = v1] and waits.
    let gate = faults.gate.write().await;
    let flushing = tokio::spawn({
        let a = Arc::clone(&a);
        async move { a.flush().await }
    });
    for _ in 0..1000 {
        if faults.writes.load(std::sync::atomic::Ordering::Relaxed) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(faults.writes.load(std::sync::atomic::Ordering::Relaxed), 1, "the batch is being written");
    a.put(b"k", Bytes::from_static(b"v2")).await.unwrap();
    assert_eq!(conn.get::<_, Vec<u8>>(&raw_key).await.unwrap(), b"\0v2");
    // Let the first batch land: the flush ends with it (v2 was put after
    // the flush began), its L2 step done.
    drop(gate);
    flushing.await.unwrap().unwrap();
    assert_eq!(faults.writes.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert_eq!(conn.get::<_, Vec<u8>>(&raw_key).await.unwrap(), b"\0v2", "v1 landed, v2 is queued");
    a.flush().await.unwrap();
    assert_eq!(faults.writes.load(std::sync::atomic::Ordering::Relaxed), 2);
    assert_eq!(conn.get::<_, Vec<u8>>(&raw_key).await.unwrap(), b"\0v2");
    assert_eq!(a.get(b"k").await.unwrap().as_deref(), Some(&b"v2"[..]));
    a.clear_cache().await;
}

/// `put_with_ttl` gives the entry its TTL in L2 too (replacing `[l2]
/// ttl_ms`, as it replaces `[l1] ttl_ms` in L1), also when write-back and
/// write-behind write L2 again after the batch lands; a plain put keeps
/// the default, and a zero TTL expires at once rather than never.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_with_ttl_gives_l2_its_ttl_in_every_strategy() {
    let mut r = raw().await;
    for strategy in WriteStrategy::ALL {
        let l3 = Arc::new(MemoryStateBackend::new());
        let mut l2 = config(&redis_url(), &format!("engine-l2-ttl-{strategy}"));
        l2.ttl = Some(Duration::from_secs(300));
        let cache = instance(&l3, &l2, strategy).await;
        cache.put_with_ttl(b"short", Bytes::from_static(b"s"), Duration::from_secs(2)).await.unwrap();
        cache.put_with_ttl(b"zero", Bytes::from_static(b"z"), Duration::ZERO).await.unwrap();
        cache.put(b"default", Bytes::from_static(b"d")).await.unwrap();
        // Queued strategies write L2 again once the batch has landed.
        cache.flush().await.unwrap();
        assert_eq!(l3.get(b"short").await.unwrap().as_deref(), Some(&b"s"[..]), "{strategy}");
        let key = |k: &str| format!("{}:{k}", l2.namespace);
        let short: i64 = r.pttl(key("short")).await.unwrap();
        assert!(short > 0 && short <= 2_000, "{strategy}: PTTL of the 2 s entry {short}");
        let zero: i64 = r.pttl(key("zero")).await.unwrap();
        assert!(zero == -2 || (0..=1).contains(&zero), "{strategy}: PTTL of the zero-TTL entry {zero}");
        let default: i64 = r.pttl(key("default")).await.unwrap();
        assert!(default > 290_000 && default <= 300_000, "{strategy}: PTTL of the default entry {default}");
        cache.clear_cache().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_instance_write_ends_a_remembered_absence() {
    let l3 = Arc::new(MemoryStateBackend::new());
    let l2 = config(&redis_url(), "engine-l2-negative");
    for strategy in WriteStrategy::ALL {
        let start = |l3: Arc<MemoryStateBackend>| {
            let l2 = l2.clone();
            async move {
                let mut cfg = CacheConfig { l2: Some(l2.clone()), ..CacheConfig::default() };
                cfg.write.strategy = strategy;
                cfg.write.flush_interval = Duration::from_millis(5);
                cfg.l1.negative_ttl = Some(Duration::from_secs(3600));
                let tier = RedisTier::connect(&l2, clock()).await.unwrap();
                let cache = CachedStateBackend::builder(l3).config(cfg).l2(Arc::new(tier)).build().unwrap();
                assert!(cache.ready(Duration::from_secs(5)).await, "subscribed");
                cache
            }
        };
        let (a, b) = (start(Arc::clone(&l3)).await, start(Arc::clone(&l3)).await);
        let key = format!("absent-{strategy}");
        assert_eq!(b.get(key.as_bytes()).await.unwrap(), None);
        assert_eq!(b.get(key.as_bytes()).await.unwrap(), None);
        assert_eq!(b.stats().negative_hits, 1, "{strategy}: B remembers the key is absent");
        a.put(key.as_bytes(), Bytes::from_static(b"now here")).await.unwrap();
        a.flush().await.unwrap();
        let mut seen = None;
        for _ in 0..400 {
            seen = b.get(key.as_bytes()).await.unwrap();
            if seen.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(
            seen.as_deref(),
            Some(&b"now here"[..]),
            "{strategy}: A's invalidation reached B's marker"
        );
        a.shutdown(Duration::from_secs(5)).await.unwrap();
        b.shutdown(Duration::from_secs(5)).await.unwrap();
    }
}

/// `settle` waits for the background copies of loaded values into L2:
/// with every Redis call delayed 200 ms by a proxy, `get_batch` returns
/// before its copies land, and once settled they are all there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settle_waits_for_the_copies_into_l2() {
    let l3 = Arc::new(MemoryStateBackend::new());
    let keys: Vec<Bytes> = (0..20u32).map(|i| Bytes::from(format!("k{i}"))).collect();
    for k in &keys {
        l3.put(k, Bytes::from_static(b"v")).await.unwrap();
    }
    let proxy = proxy::Proxy::start(redis_addr()).await.unwrap();
    let direct = config(&redis_url(), "engine-l2-settle");
    let via = L2Config { url: format!("redis://{}", proxy.addr()), ..direct.clone() };
    let a = instance(&l3, &via, WriteStrategy::WriteThrough).await;
    let mut conn = raw().await;
    let raw_keys: Vec<Vec<u8>> =
        keys.iter().map(|k| [direct.namespace.as_bytes(), b":", k].concat()).collect();
    proxy.set_delay(Duration::from_millis(200));
    assert_eq!(a.get_batch(&keys).await.unwrap().iter().flatten().count(), 20);
    assert_eq!(conn.exists::<_, usize>(&raw_keys).await.unwrap(), 0, "the copies are still on their way");
    a.settle().await;
    assert_eq!(conn.exists::<_, usize>(&raw_keys).await.unwrap(), 20, "every copy landed once settled");
    proxy.heal();
    a.clear_cache().await;
}

/// A write-through put whose caller gives up after L3 applied it (a
/// `timeout` around it expired) still reaches the other instances: the
/// dropped write removes the key from L2 and publishes it, so instance B
/// stops serving the old value from its L1 (it kept it for good before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_write_through_put_still_reaches_the_other_instances() {
    let (l3, faults) = support::Faulty::new(MemoryStateBackend::new());
    let l3 = Arc::new(l3);
    let l2 = config(&redis_url(), "engine-l2-dropped-put");
    let open = || async {
        let tier = RedisTier::connect(&l2, clock()).await.unwrap();
        let c = CachedStateBackend::builder(Arc::clone(&l3))
            .config(CacheConfig { l2: Some(l2.clone()), ..CacheConfig::default() })
            .l2(Arc::new(tier))
            .build()
            .unwrap();
        assert!(c.ready(Duration::from_secs(5)).await, "subscribed");
        c
    };
    let (a, b) = (open().await, open().await);
    a.put(b"k", Bytes::from_static(b"v1")).await.unwrap();
    for _ in 0..500 {
        if b.stats().remote_invalidations >= a.stats().published_invalidations {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await; // A's notice of v1
    }
    assert_eq!(b.get(b"k").await.unwrap().as_deref(), Some(&b"v1"[..]));
    b.settle().await;
    let l1_hits = b.stats().l1.hits;
    assert_eq!(b.get(b"k").await.unwrap().as_deref(), Some(&b"v1"[..]));
    assert_eq!(b.stats().l1.hits, l1_hits + 1, "B holds v1 in L1");

    faults.ack_delay_ms.store(200, std::sync::atomic::Ordering::Relaxed);
    let given_up =
        tokio::time::timeout(Duration::from_millis(50), a.put(b"k", Bytes::from_static(b"v2"))).await;
    assert!(given_up.is_err(), "the caller gave up");
    faults.ack_delay_ms.store(0, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(l3.inner.get(b"k").await.unwrap().as_deref(), Some(&b"v2"[..]), "L3 applied it");

    let mut seen = None;
    for _ in 0..200 {
        seen = b.get(b"k").await.unwrap();
        if seen.as_deref() == Some(&b"v2"[..]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(seen.as_deref(), Some(&b"v2"[..]), "B still served the old value after 2 s");
    assert_eq!(a.get(b"k").await.unwrap().as_deref(), Some(&b"v2"[..]));
    a.clear_cache().await;
}
