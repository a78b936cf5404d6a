//! The whole engine against the real servers (Redis at `REDIS_URL`,
//! PostgreSQL at `DATABASE_URL`), with the fault-injecting proxy between the
//! engine and each server: nothing is lost, reads never fail because Redis
//! did, and two instances agree with PostgreSQL after concurrent writes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/pg_env.rs"]
mod pg_env;
#[path = "support/proxy.rs"]
mod proxy;
#[path = "support/redis_env.rs"]
mod redis_env;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use pg_env::{Table, database_url, url_via};
use proxy::Proxy;
use redis_env::{clock, config, redis_addr, redis_url};
use strata::core::backend::{PostgresOptions, PostgresStateBackend};
use strata::core::config::{CacheConfig, L2Config, WriteStrategy};
use strata::core::l2::RedisTier;
use strata::core::{CachedStateBackend, StateBackend, StateError};

async fn postgres(url: &str, table: &str) -> PostgresStateBackend {
    let opts = PostgresOptions {
        acquire_timeout: Duration::from_millis(1500),
        op_timeout: Duration::from_millis(1500),
        ..PostgresOptions::default()
    };
    let pg = PostgresStateBackend::connect_with(url, table, opts).await.expect("connect to PostgreSQL");
    pg.migrate().await.unwrap();
    pg
}

async fn engine<B: StateBackend>(
    l3: B,
    l2: Option<&L2Config>,
    strategy: WriteStrategy,
) -> CachedStateBackend<B> {
    let mut cfg = CacheConfig { l2: l2.cloned(), ..CacheConfig::default() };
    cfg.write.strategy = strategy;
    cfg.write.flush_interval = Duration::from_millis(10);
    let mut b = CachedStateBackend::builder(l3).config(cfg);
    if let Some(l2) = l2 {
        b = b.l2(Arc::new(RedisTier::connect(l2, clock()).await.unwrap()));
    }
    let cache = b.build().unwrap();
    assert!(cache.ready(Duration::from_secs(5)).await);
    cache
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cut_reads_go_on_from_l1_and_l3_then_l2_is_used_again() {
    let t = Table::new("eng_redis_cut");
    let pg = postgres(&database_url(), &t.0).await;
    for i in 0..20u32 {
        pg.put(format!("k{i}").as_bytes(), Bytes::from(format!("v{i}"))).await.unwrap();
    }
    let proxy = Proxy::start(redis_addr()).await.unwrap();
    let mut l2 = config(&format!("redis://{}", proxy.addr()), "eng-redis-cut");
    l2.timeout = Duration::from_millis(100);
    l2.breaker_failures = 3;
    l2.breaker_cooldown = Duration::from_millis(300);
    let cache = engine(pg, Some(&l2), WriteStrategy::WriteThrough).await;
    assert_eq!(cache.get(b"k0").await.unwrap().as_deref(), Some(&b"v0"[..])); // now in L1
    proxy.cut();
    // L1 hits and L3 loads go on, without an error.
    assert_eq!(cache.get(b"k0").await.unwrap().as_deref(), Some(&b"v0"[..]));
    for i in 1..20u32 {
        assert_eq!(cache.get(format!("k{i}").as_bytes()).await.unwrap(), Some(Bytes::from(format!("v{i}"))));
    }
    let during = cache.stats();
    assert!(during.l2.errors >= 3, "{during:?}");
    assert_eq!(during.l2_breaker.as_deref(), Some("open"), "breaker opened: L2 bypassed");
    proxy.heal();
    tokio::time::sleep(Duration::from_millis(400)).await; // cool-down
    cache.clear_cache().await; // half-open probe, then L2 works again
    cache.put(b"fresh", Bytes::from_static(b"x")).await.unwrap();
    let b = engine(postgres(&database_url(), &t.0).await, Some(&l2), WriteStrategy::WriteThrough).await;
    assert_eq!(b.get(b"fresh").await.unwrap().as_deref(), Some(&b"x"[..]));
    let after = b.stats();
    assert_eq!(after.l2.hits, 1, "served by L2 again: {after:?}");
    assert_eq!(cache.stats().l2_breaker.as_deref(), Some("closed"));
    cache.clear_cache().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cut_write_through_put_fails_and_no_tier_keeps_the_value() {
    let t = Table::new("eng_pg_cut_wt");
    let proxy = Proxy::start(pg_env::upstream()).await.unwrap();
    let pg = postgres(&url_via(proxy.addr()), &t.0).await;
    let l2 = config(&redis_url(), "eng-pg-cut-wt");
    let cache = engine(pg, Some(&l2), WriteStrategy::WriteThrough).await;
    cache.put(b"k", Bytes::from_static(b"persisted")).await.unwrap();
    proxy.cut();
    let err = cache.put(b"k", Bytes::from_static(b"unpersisted")).await.unwrap_err();
    assert!(err.to_string().contains("L3 (postgres)"), "{err}");
    // Neither L1 nor L2 (seen by a second instance reading Redis) has it.
    let direct = postgres(&database_url(), &t.0).await;
    let other = engine(direct, Some(&l2), WriteStrategy::WriteThrough).await;
    assert_eq!(other.get(b"k").await.unwrap().as_deref(), Some(&b"persisted"[..]));
    proxy.heal();
    assert_eq!(cache.get(b"k").await.unwrap().as_deref(), Some(&b"persisted"[..]));
    cache.clear_cache().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cut_write_behind_keeps_queue_applies_backpressure_and_lands_everything() {
    let t = Table::new("eng_pg_cut_wb");
    let proxy = Proxy::start(pg_env::upstream()).await.unwrap();
    let pg = postgres(&url_via(proxy.addr()), &t.0).await;
    let mut cfg = CacheConfig::default();
    cfg.write.strategy = WriteStrategy::WriteBehind;
    cfg.write.batch_size = 50;
    cfg.write.queue_capacity = 200;
    cfg.write.flush_interval = Duration::from_millis(10);
    cfg.write.backpressure_timeout = Duration::from_millis(300);
    let cache = CachedStateBackend::builder(pg).config(cfg).build().unwrap();
    proxy.cut();
    let mut accepted = 0u32;
    let err = loop {
        match cache.put(format!("k{accepted}").as_bytes(), Bytes::from(format!("v{accepted}"))).await {
            Ok(()) => accepted += 1,
            Err(e) => break e,
        }
        assert!(accepted < 1000, "the queue is bounded");
    };
    assert!(matches!(err, StateError::QueueFull { .. }), "{err}");
    assert!((200..=250).contains(&accepted), "{accepted}");
    // Reads see every accepted write meanwhile.
    assert_eq!(cache.get(b"k150").await.unwrap().as_deref(), Some(&b"v150"[..]));
    // A deadline that passes while PostgreSQL is down reports what is left.
    let direct = postgres(&database_url(), &t.0).await;
    proxy.heal();
    cache.shutdown(Duration::from_secs(20)).await.expect("everything lands after the heal");
    assert_eq!(direct.count().await.unwrap(), u64::from(accepted));
    assert_eq!(direct.get(b"k0").await.unwrap().as_deref(), Some(&b"v0"[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_deadline_reports_unwritten_keys_while_postgres_is_down() {
    let t = Table::new("eng_pg_down_shutdown");
    let proxy = Proxy::start(pg_env::upstream()).await.unwrap();
    let pg = postgres(&url_via(proxy.addr()), &t.0).await;
    let mut cfg = CacheConfig::default();
    cfg.write.strategy = WriteStrategy::WriteBehind;
    cfg.write.flush_interval = Duration::from_secs(3600);
    let cache = CachedStateBackend::builder(pg).config(cfg).build().unwrap();
    proxy.cut();
    cache.put(b"a", Bytes::from_static(b"1")).await.unwrap();
    match cache.shutdown(Duration::from_secs(2)).await {
        Err(StateError::Unflushed { keys, last_error }) => {
            assert_eq!(keys, vec![Bytes::from_static(b"a")]);
            assert!(last_error.is_some());
        }
        other => panic!("expected Unflushed, got {other:?}"),
    }
}

/// A key PostgreSQL refuses for good (too long for its btree index, about
/// 2,700 bytes of incompressible bytes) fails a write-behind batch, but not
/// the other writes in it: they land, and only that key is unflushed at
/// shutdown (all 101 writes were lost before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_postgres_refuses_does_not_hold_back_the_others() {
    let t = Table::new("eng_pg_refused_key");
    let pg = postgres(&database_url(), &t.0).await;
    let mut cfg = CacheConfig::default();
    cfg.write.strategy = WriteStrategy::WriteBehind;
    cfg.write.flush_interval = Duration::from_millis(20);
    let cache = CachedStateBackend::builder(pg).config(cfg).build().unwrap();
    // 3,000 bytes that do not compress (xorshift).
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let long: Vec<u8> = (0..3_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    for i in 0..50 {
        cache.put(format!("a{i}").as_bytes(), Bytes::from_static(b"v")).await.unwrap();
    }
    cache.put(&long, Bytes::from_static(b"long")).await.unwrap();
    for i in 0..50 {
        cache.put(format!("b{i}").as_bytes(), Bytes::from_static(b"v")).await.unwrap();
    }
    let err = cache.flush().await.unwrap_err().to_string();
    assert!(err.contains("index row size") || err.contains("btree"), "{err}");
    let direct = postgres(&database_url(), &t.0).await;
    assert_eq!(direct.count().await.unwrap(), 100, "every other write landed");
    assert_eq!(cache.stats().pending_writes, 1);
    match cache.shutdown(Duration::from_millis(500)).await {
        Err(StateError::Unflushed { keys, .. }) => assert_eq!(keys, vec![Bytes::from(long)]),
        other => panic!("expected Unflushed with the long key, got {other:?}"),
    }
}

/// One write as the test saw it: when it started and ended, what it wrote.
struct Write {
    start: u64,
    end: u64,
    value: Option<Bytes>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_eight_tasks_each_agree_with_postgres() {
    let t = Table::new("eng_two_instances");
    let l2 = config(&redis_url(), "eng-two-instances");
    let a = engine(postgres(&database_url(), &t.0).await, Some(&l2), WriteStrategy::WriteThrough).await;
    let b = engine(postgres(&database_url(), &t.0).await, Some(&l2), WriteStrategy::WriteThrough).await;
    let clock = Arc::new(AtomicU64::new(0)); // a logical clock ordering starts and ends
    let mut tasks = Vec::new();
    for (inst, cache) in [(0u64, a.clone()), (1, b.clone())] {
        for task in 0..8u64 {
            let cache = cache.clone();
            let clock = Arc::clone(&clock);
            tasks.push(tokio::spawn(async move {
                let mut log: Vec<(Bytes, Write)> = Vec::new();
                let mut x = inst * 1000 + task * 7 + 1;
                for i in 0..1000u64 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let key = Bytes::from(format!("k{}", x % 50)); // overlapping keys
                    match x % 10 {
                        0..=3 => {
                            let v = Bytes::from(format!("{inst}/{task}/{i}"));
                            let start = clock.fetch_add(1, Ordering::SeqCst);
                            cache.put(&key, v.clone()).await.unwrap();
                            let end = clock.fetch_add(1, Ordering::SeqCst);
                            log.push((key, Write { start, end, value: Some(v) }));
                        }
                        4 => {
                            let start = clock.fetch_add(1, Ordering::SeqCst);
                            cache.delete(&key).await.unwrap();
                            let end = clock.fetch_add(1, Ordering::SeqCst);
                            log.push((key, Write { start, end, value: None }));
                        }
                        _ => {
                            cache.get(&key).await.unwrap();
                        }
                    }
                }
                log
            }));
        }
    }
    let mut writes: HashMap<Bytes, Vec<Write>> = HashMap::new();
    for t in tasks {
        for (k, w) in t.await.unwrap() {
            writes.entry(k).or_default().push(w);
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await; // let the last invalidations arrive
    let direct = postgres(&database_url(), &t.0).await;
    for (key, ws) in &writes {
        let in_pg = direct.get(key).await.unwrap();
        // The value PostgreSQL holds must come from a write that no other
        // write of the key strictly followed (a last write).
        let last: Vec<&Write> = ws.iter().filter(|w| !ws.iter().any(|o| o.start > w.end)).collect();
        assert!(
            last.iter().any(|w| w.value == in_pg),
            "key {key:?}: PostgreSQL has {in_pg:?}, not one of the last writes"
        );
        // Each instance reads PostgreSQL's value or, within the window the
        // book documents (concepts/coherence.md, "Two instances writing one
        // key at once": B's `SET` to L2 overtaking A's), the value of a write
        // that overlapped it — one of the last writes too, never an older one.
        for (name, cache) in [("A", &a), ("B", &b)] {
            let got = cache.get(key).await.unwrap();
            assert!(
                got == in_pg || last.iter().any(|w| w.value == got),
                "instance {name} reads {got:?} for {key:?}: neither PostgreSQL's {in_pg:?} nor a last write"
            );
        }
    }
    // One more write of every key, from one instance with nobody writing
    // alongside, brings every tier of both instances to PostgreSQL's value.
    for key in writes.keys() {
        a.put(key, Bytes::from_static(b"final")).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await; // the invalidations reach B
    for key in writes.keys() {
        assert_eq!(direct.get(key).await.unwrap().as_deref(), Some(&b"final"[..]));
        assert_eq!(a.get(key).await.unwrap().as_deref(), Some(&b"final"[..]), "A, {key:?}");
        assert_eq!(b.get(key).await.unwrap().as_deref(), Some(&b"final"[..]), "B, {key:?}");
    }
    a.clear_cache().await;
}
