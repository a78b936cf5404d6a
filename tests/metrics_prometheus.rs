//! `CachedStateBackend::metrics_collector`: a scrape in the Prometheus /
//! OpenMetrics text format reports what `stats()` says, with L2 on the
//! machine's real Redis, and nothing once the cache is gone.
#![allow(clippy::unwrap_used)]

#[path = "support/redis_env.rs"]
mod redis_env;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use redis_env::{clock, config, redis_url};
use strata::core::config::{CacheConfig, Capacity, L2Config};
use strata::core::l2::RedisTier;
use strata::core::stats::prometheus::prometheus_client::encoding::text::encode;
use strata::core::stats::prometheus::prometheus_client::registry::Registry;
use strata::core::{CachedStateBackend, MemoryStateBackend, StateBackend};

/// One scrape of `registry`, as `name{labels}` → value.
fn scrape(registry: &Registry) -> BTreeMap<String, f64> {
    let mut text = String::new();
    encode(&mut text, registry).unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap();
            (name.to_owned(), value.parse::<f64>().unwrap_or_else(|_| panic!("value of {l}")))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_reports_the_stats_of_the_moment() {
    let l3 = Arc::new(MemoryStateBackend::new());
    l3.put(b"stored", Bytes::from_static(b"in L3")).await.unwrap();
    let l2 = config(&redis_url(), "metrics");
    // L1 holds two entries, so that a read can miss L1 and hit L2.
    // L2 remembers absent keys, so that a read of a deleted key is an L2
    // negative hit.
    let l2 = L2Config { negative_ttl: Some(Duration::from_secs(60)), ..l2 };
    let mut cfg = CacheConfig { l2: Some(l2.clone()), ..CacheConfig::default() };
    cfg.l1.capacity = Capacity::Entries(2);
    cfg.l1.shards = 1;
    let tier = RedisTier::connect(&l2, clock()).await.unwrap();
    let cache = CachedStateBackend::builder(Arc::clone(&l3)).config(cfg).l2(Arc::new(tier)).build().unwrap();
    let mut registry = Registry::default();
    registry.register_collector(Box::new(cache.metrics_collector()));

    for i in 0..3u8 {
        cache.put(&[b'k', i], Bytes::from_static(b"v")).await.unwrap(); // L3, L2, L1: k0 leaves L1
    }
    for _ in 0..200 {
        assert!(cache.get(b"k\x01").await.unwrap().is_some()); // L1 hits
    }
    assert!(cache.get(b"k\x00").await.unwrap().is_some()); // L1 miss, L2 hit
    assert!(cache.get(b"stored").await.unwrap().is_some()); // L1 and L2 misses, L3 hit
    assert!(cache.get(b"absent").await.unwrap().is_none()); // misses everywhere
    assert!(cache.delete(b"k\x02").await.unwrap());
    assert!(cache.get(b"k\x02").await.unwrap().is_none()); // L2's tombstone: a negative hit

    let m = scrape(&registry);
    let s = cache.stats();
    let get = |k: &str| *m.get(k).unwrap_or_else(|| panic!("{k} missing from {m:#?}"));
    for (tier, t) in [("l1", s.l1), ("l2", s.l2), ("l3", s.l3)] {
        assert_eq!(
            get(&format!("strata_reads_total{{tier=\"{tier}\",result=\"hit\"}}")),
            t.hits as f64,
            "{tier}"
        );
        assert_eq!(
            get(&format!("strata_reads_total{{tier=\"{tier}\",result=\"miss\"}}")),
            t.misses as f64,
            "{tier}"
        );
        assert_eq!(get(&format!("strata_tier_errors_total{{tier=\"{tier}\"}}")), t.errors as f64, "{tier}");
        let count = get(&format!("strata_read_latency_seconds_count{{tier=\"{tier}\"}}"));
        assert_eq!(count, t.latency.count as f64, "{tier}");
        assert_eq!(get(&format!("strata_read_latency_seconds_bucket{{le=\"+Inf\",tier=\"{tier}\"}}")), count);
        // Buckets are cumulative: never fewer below a larger bound.
        let mut buckets: Vec<(f64, f64)> = m
            .iter()
            .filter(|(k, _)| {
                k.starts_with("strata_read_latency_seconds_bucket") && k.contains(&format!("\"{tier}\""))
            })
            .map(|(k, v)| (k.split('"').nth(1).unwrap().parse::<f64>().unwrap(), *v))
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(buckets.len(), 31, "30 powers of two and +Inf");
        assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{tier}: {buckets:?}");
    }
    assert_eq!((s.l1.hits, s.l2.hits, s.l3.hits), (200, 2, 1), "the L2 hits: a value and a tombstone");
    assert!(s.l1.latency.count >= 3, "one L1 read in 64 is timed");
    assert!(get("strata_read_latency_seconds_sum{tier=\"l2\"}") > 0.0);
    assert_eq!(get("strata_writes_total"), 3.0);
    // Write-through: three puts and a delete, one L3 write call each.
    assert_eq!(s.write_latency.count, 4);
    assert_eq!(get("strata_l3_write_latency_seconds_count"), 4.0);
    assert_eq!(get("strata_l3_write_latency_seconds_bucket{le=\"+Inf\"}"), 4.0);
    assert_eq!(get("strata_deletes_total"), 1.0);
    assert_eq!(get("strata_l2_negative_hits_total"), 1.0);
    assert_eq!(s.l2_negative_hits, 1);
    // Each put and the delete told the other instances of its key.
    assert_eq!(s.published_invalidations, 4);
    assert_eq!(get("strata_published_invalidations_total"), 4.0);
    assert_eq!(get("strata_l1_entries"), s.l1.size as f64);
    assert_eq!(get("strata_l1_capacity"), 2.0);
    assert_eq!(get("strata_pending_writes"), 0.0);
    assert_eq!(get("strata_l2_breaker{state=\"closed\"}"), 1.0);
    assert_eq!(get("strata_l2_breaker{state=\"open\"}"), 0.0);

    // The next scrape reads the counters again.
    assert!(cache.get(b"k\x00").await.unwrap().is_some());
    assert_eq!(scrape(&registry)["strata_reads_total{tier=\"l1\",result=\"hit\"}"], 201.0);

    // The collector does not keep the cache alive; a scrape then reports nothing.
    cache.shutdown(Duration::from_secs(5)).await.unwrap();
    drop(cache);
    assert!(scrape(&registry).is_empty());
}

#[tokio::test]
async fn without_l2_there_is_no_breaker_and_l2_reads_are_zero() {
    let cache = CachedStateBackend::builder(MemoryStateBackend::new()).build().unwrap();
    let mut registry = Registry::with_prefix("app");
    registry.register_collector(Box::new(cache.metrics_collector()));
    assert!(cache.get(b"x").await.unwrap().is_none());
    let m = scrape(&registry);
    assert!(!m.keys().any(|k| k.contains("breaker")), "{m:#?}");
    assert_eq!(m["app_strata_reads_total{tier=\"l2\",result=\"miss\"}"], 0.0);
    assert_eq!(m["app_strata_reads_total{tier=\"l3\",result=\"miss\"}"], 1.0);
}
