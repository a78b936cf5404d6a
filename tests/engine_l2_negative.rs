//! Negative caching in L2 (`[l2] negative_ttl_ms`) with a real Redis: a
//! read that finds a key absent in L3 leaves a marker every instance reads
//! as "absent" without asking L3, for the marker's own TTL, until a write
//! replaces it; a delete's tombstone then says "absent" too.
#![allow(clippy::unwrap_used)]

#[path = "support/redis_env.rs"]
mod redis_env;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use redis::AsyncCommands;
use redis_env::{clock, config, raw, redis_url};
use strata::core::config::{CacheConfig, L2Config, WriteStrategy};
use strata::core::l2::RedisTier;
use strata::core::{CachedStateBackend, MemoryStateBackend, StateBackend};

type Cache = CachedStateBackend<Arc<MemoryStateBackend>>;

/// What the engine stores in L2 for an absent key (`engine::l2_value`).
const MARKER: &[u8] = &[2];
/// A delete's tombstone.
const TOMBSTONE: &[u8] = &[1];

async fn instance(
    l3: &Arc<MemoryStateBackend>,
    l2: &L2Config,
    strategy: WriteStrategy,
    l1_negative: bool,
) -> Cache {
    let mut cfg = CacheConfig { l2: Some(l2.clone()), ..CacheConfig::default() };
    cfg.write.strategy = strategy;
    cfg.write.flush_interval = Duration::from_millis(5);
    if l1_negative {
        cfg.l1.negative_ttl = Some(Duration::from_secs(3600));
    }
    let tier = RedisTier::connect(l2, clock()).await.unwrap();
    let cache = CachedStateBackend::builder(Arc::clone(l3)).config(cfg).l2(Arc::new(tier)).build().unwrap();
    assert!(cache.ready(Duration::from_secs(5)).await, "subscribed");
    cache
}

/// Two instances on one L3 and one L2 namespace.
async fn pair(
    l3: &Arc<MemoryStateBackend>,
    l2: &L2Config,
    strategy: WriteStrategy,
    l1_negative: bool,
) -> (Cache, Cache) {
    (instance(l3, l2, strategy, l1_negative).await, instance(l3, l2, strategy, l1_negative).await)
}

async fn shutdown(caches: [Cache; 2]) {
    for c in caches {
        c.shutdown(Duration::from_secs(5)).await.unwrap();
    }
}

fn with_markers(name: &str, ttl: Duration) -> L2Config {
    L2Config { negative_ttl: Some(ttl), ..config(&redis_url(), name) }
}

/// The raw L2 entry of `key` once it equals `want` (markers are written in
/// the background), or what it holds after 2 s.
async fn raw_entry_once(l2: &L2Config, key: &[u8], want: Option<&[u8]>) -> Option<Vec<u8>> {
    let mut conn = raw().await;
    let k = [l2.namespace.as_bytes(), b":", key].concat();
    let mut got: Option<Vec<u8>> = None;
    for _ in 0..400 {
        got = conn.get(&k).await.unwrap();
        if got.as_deref() == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    got
}

async fn pttl_ms(l2: &L2Config, key: &[u8]) -> i64 {
    let k = [l2.namespace.as_bytes(), b":", key].concat();
    redis::cmd("PTTL").arg(&k).query_async(&mut raw().await).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_marker_answers_every_instance_without_l3_for_its_own_ttl() {
    let l3 = Arc::new(MemoryStateBackend::new());
    let l2 = L2Config {
        ttl: Some(Duration::from_secs(300)),
        ..with_markers("l2-neg-read", Duration::from_secs(60))
    };
    let (a, b) = pair(&l3, &l2, WriteStrategy::WriteThrough, false).await;
    assert_eq!(a.get(b"gone").await.unwrap(), None);
    assert_eq!(l3.calls(), 1, "A asked L3");
    assert_eq!(raw_entry_once(&l2, b"gone", Some(MARKER)).await.as_deref(), Some(MARKER), "A left a marker");
    let pttl = pttl_ms(&l2, b"gone").await;
    assert!(pttl > 50_000 && pttl <= 60_000, "the marker's own TTL, not the tier's 300 s: {pttl} ms");
    for n in 1..=2 {
        assert_eq!(b.get(b"gone").await.unwrap(), None);
        let s = b.stats();
        assert_eq!((s.l2.hits, s.l2_negative_hits, s.l2.misses), (n, n, 0), "B read {n}: from the marker");
        assert_eq!(s.negative_hits, 0, "no L1 marker without l1.negative_ttl_ms");
    }
    assert_eq!(l3.calls(), 1, "B never asked L3");
    shutdown([a, b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_l2_marker_leaves_an_l1_marker_when_both_are_on() {
    let l3 = Arc::new(MemoryStateBackend::new());
    let l2 = with_markers("l2-neg-l1", Duration::from_secs(60));
    let (a, b) = pair(&l3, &l2, WriteStrategy::WriteThrough, true).await;
    assert_eq!(a.get(b"gone").await.unwrap(), None);
    assert_eq!(raw_entry_once(&l2, b"gone", Some(MARKER)).await.as_deref(), Some(MARKER));
    assert_eq!(b.get(b"gone").await.unwrap(), None);
    assert_eq!(b.get(b"gone").await.unwrap(), None);
    let s = b.stats();
    assert_eq!((s.l2_negative_hits, s.negative_hits, s.l1.hits), (1, 1, 1), "L2's marker, then L1's");
    assert_eq!(l3.calls(), 1);
    shutdown([a, b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_replaces_the_marker_in_every_strategy() {
    let l3 = Arc::new(MemoryStateBackend::new());
    let l2 = with_markers("l2-neg-write", Duration::from_secs(60));
    for strategy in WriteStrategy::ALL {
        let (a, b) = pair(&l3, &l2, strategy, false).await;
        let key = format!("k-{strategy}");
        assert_eq!(a.get(key.as_bytes()).await.unwrap(), None);
        assert_eq!(
            raw_entry_once(&l2, key.as_bytes(), Some(MARKER)).await.as_deref(),
            Some(MARKER),
            "{strategy}"
        );
        b.put(key.as_bytes(), Bytes::from_static(b"here")).await.unwrap();
        b.flush().await.unwrap();
        let value = [&[0u8][..], b"here"].concat();
        assert_eq!(raw_entry_once(&l2, key.as_bytes(), Some(&value)).await, Some(value), "{strategy}");
        assert_eq!(a.get(key.as_bytes()).await.unwrap().as_deref(), Some(&b"here"[..]), "{strategy}");
        shutdown([a, b]).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_reads_leave_and_read_markers() {
    let l3 = Arc::new(MemoryStateBackend::new());
    let l2 = with_markers("l2-neg-batch", Duration::from_secs(60));
    let (a, b) = pair(&l3, &l2, WriteStrategy::WriteThrough, false).await;
    l3.put(b"here", Bytes::from_static(b"v")).await.unwrap();
    let keys = [Bytes::from_static(b"x"), Bytes::from_static(b"here"), Bytes::from_static(b"y")];
    assert_eq!(a.get_batch(&keys).await.unwrap(), vec![None, Some(Bytes::from_static(b"v")), None]);
    for k in [&b"x"[..], b"y"] {
        assert_eq!(raw_entry_once(&l2, k, Some(MARKER)).await.as_deref(), Some(MARKER));
    }
    let calls = l3.calls();
    assert_eq!(b.get_batch(&keys).await.unwrap(), vec![None, Some(Bytes::from_static(b"v")), None]);
    assert_eq!(l3.calls(), calls, "B's batch was answered by L2");
    assert_eq!((b.stats().l2.hits, b.stats().l2_negative_hits), (3, 2));
    shutdown([a, b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tombstone_says_absent_markers_expire_and_off_means_nothing() {
    let l3 = Arc::new(MemoryStateBackend::new());
    // A delete's tombstone answers "absent" too (L2 markers on): B reads
    // nothing from L3, and the tombstone is not replaced.
    let l2 = with_markers("l2-neg-tomb", Duration::from_millis(300));
    let (a, b) = pair(&l3, &l2, WriteStrategy::WriteThrough, false).await;
    a.put(b"k", Bytes::from_static(b"v")).await.unwrap();
    a.delete(b"k").await.unwrap();
    let calls = l3.calls();
    assert_eq!(b.get(b"k").await.unwrap(), None);
    assert_eq!(l3.calls(), calls, "answered by the tombstone");
    assert_eq!((b.stats().l2.hits, b.stats().l2_negative_hits), (1, 1));
    assert_eq!(raw_entry_once(&l2, b"k", Some(TOMBSTONE)).await.as_deref(), Some(TOMBSTONE));

    // A marker expires with its TTL (300 ms); the read after it asks L3.
    assert_eq!(a.get(b"other").await.unwrap(), None);
    assert_eq!(raw_entry_once(&l2, b"other", Some(MARKER)).await.as_deref(), Some(MARKER));
    assert_eq!(raw_entry_once(&l2, b"other", None).await, None, "expired");
    let calls = l3.calls();
    assert_eq!(a.get(b"other").await.unwrap(), None);
    assert_eq!(l3.calls(), calls + 1);
    shutdown([a, b]).await;

    // Off (the default): L2 holds nothing for an absent key, and a
    // tombstone is a miss.
    let off = config(&redis_url(), "l2-neg-off");
    let c = instance(&l3, &off, WriteStrategy::WriteThrough, false).await;
    assert_eq!(c.get(b"gone").await.unwrap(), None);
    c.put(b"k", Bytes::from_static(b"v")).await.unwrap();
    c.delete(b"k").await.unwrap();
    let calls = l3.calls();
    assert_eq!(c.get(b"k").await.unwrap(), None);
    assert_eq!(l3.calls(), calls + 1, "the tombstone is a miss");
    assert_eq!(c.stats().l2_negative_hits, 0);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(raw_entry_once(&off, b"gone", None).await, None);
    c.shutdown(Duration::from_secs(5)).await.unwrap();
}
