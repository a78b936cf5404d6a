//! `RedisTier` when the network to Redis fails: a fault-injecting proxy
//! (tests/support/proxy.rs) sits between the tier and the machine's Redis.
//! The shared server itself is never stopped.

#[path = "support/proxy.rs"]
mod proxy;
#[path = "support/redis_env.rs"]
mod redis_env;

use std::time::Duration;

use bytes::Bytes;
use proxy::Proxy;
use redis_env::{clock, config, publish_until_received, recv, redis_addr, redis_url};
use strata::core::config::L2Config;
use strata::core::l2::{BreakerState, Invalidation, L2Tier, RedisTier};
use strata::core::policy::breaker::Rejected;
use strata::core::{Clock, StateError, SystemClock};

/// A proxy in front of Redis and a config pointing at it (same namespace
/// reachable directly through `config(redis_url())` with `namespace`).
async fn proxied(name: &str, timeout_ms: u64) -> (Proxy, L2Config) {
    let proxy = Proxy::start(redis_addr()).await.expect("proxy");
    let mut cfg = config(&format!("redis://{}", proxy.addr()), name);
    cfg.timeout = Duration::from_millis(timeout_ms);
    cfg.breaker_failures = 3;
    cfg.breaker_cooldown = Duration::from_millis(500);
    (proxy, cfg)
}

fn is_rejected(e: &StateError) -> bool {
    matches!(e, StateError::Backend { source, .. } if source.downcast_ref::<Rejected>().is_some())
}

/// Retries `get` until it returns `want` or `within` passes; returns how long it took.
async fn until_get(t: &RedisTier, key: &[u8], want: &Bytes, within: Duration) -> Duration {
    let clk = SystemClock::new();
    loop {
        if let Ok(Some(v)) = t.get(key).await
            && v == *want
        {
            return clk.now().saturating_duration_since(strata::core::Instant::ZERO);
        }
        assert!(
            clk.now().saturating_duration_since(strata::core::Instant::ZERO) < within,
            "L2 did not recover within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blackhole_fails_within_the_timeout_opens_the_breaker_and_heals() {
    let (proxy, cfg) = proxied("blackhole", 100).await;
    let t = RedisTier::connect(&cfg, clock()).await.unwrap();
    let v = Bytes::from_static(b"value");
    t.put(b"k", v.clone(), None).await.unwrap();
    assert_eq!(t.get(b"k").await.unwrap(), Some(v.clone()));

    proxy.blackhole();
    let clk = SystemClock::new();
    for i in 0..3 {
        let start = clk.now();
        let err = t.get(b"k").await.unwrap_err();
        let took = clk.now().saturating_duration_since(start);
        assert!(
            matches!(err, StateError::Timeout { after, .. } if after == Duration::from_millis(100)),
            "{err}"
        );
        assert!(
            took >= Duration::from_millis(100) && took < Duration::from_millis(400),
            "call {i} took {took:?}"
        );
    }
    assert_eq!(t.error_count(), 3);
    assert_eq!(t.breaker_state(), BreakerState::Open);

    // Open: every call fails at once, without waiting for the timeout.
    let start = clk.now();
    for _ in 0..100 {
        let err = t.get(b"k").await.unwrap_err();
        assert!(is_rejected(&err), "{err}");
        assert!(t.put(b"k", v.clone(), None).await.is_err());
    }
    let fast = clk.now().saturating_duration_since(start);
    assert!(fast < Duration::from_millis(100), "200 rejected calls took {fast:?}");
    assert_eq!(t.error_count(), 3, "rejections are not server errors");

    proxy.heal();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(t.breaker_state(), BreakerState::HalfOpen);
    let took = until_get(&t, b"k", &v, Duration::from_secs(3)).await;
    println!("blackhole healed: L2 answered again {took:?} after the cool-down");
    assert_eq!(t.breaker_state(), BreakerState::Closed);
    t.put(b"k2", v.clone(), None).await.unwrap();
    assert_eq!(
        t.get_many(&[Bytes::from_static(b"k"), Bytes::from_static(b"k2")]).await.unwrap(),
        vec![Some(v.clone()), Some(v)]
    );
    t.clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_connections_fail_fast_and_the_tier_reconnects_after_heal() {
    let (proxy, cfg) = proxied("cut", 200).await;
    let t = RedisTier::connect(&cfg, clock()).await.unwrap();
    let v = Bytes::from_static(b"v");
    t.put(b"k", v.clone(), None).await.unwrap();

    proxy.cut();
    let clk = SystemClock::new();
    let mut failures = 0;
    while t.breaker_state() != BreakerState::Open {
        let start = clk.now();
        assert!(t.get(b"k").await.is_err());
        assert!(clk.now().saturating_duration_since(start) < Duration::from_millis(500));
        failures += 1;
        assert!(failures <= 3, "the breaker opens after 3 consecutive failures");
    }
    assert_eq!(failures, 3);

    proxy.heal();
    let took = until_get(&t, b"k", &v, Duration::from_secs(5)).await;
    println!("cut healed: L2 answered again after {took:?}");
    t.clear().await.unwrap();
}

/// Slow network: a batch of 200 costs about one round trip, 10 single gets
/// ten round trips.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_one_round_trip() {
    let (proxy, cfg) = proxied("rtt", 5000).await;
    let t = RedisTier::connect(&cfg, clock()).await.unwrap();
    let entries: Vec<(Bytes, Bytes)> =
        (0..200).map(|i| (Bytes::from(format!("key-{i}")), Bytes::from(format!("value-{i}")))).collect();
    let keys: Vec<Bytes> = entries.iter().map(|(k, _)| k.clone()).collect();
    proxy.set_delay(Duration::from_millis(50)); // >= 100 ms per round trip
    let clk = SystemClock::new();
    let time = |start| clk.now().saturating_duration_since(start);

    let start = clk.now();
    t.put_many(&entries, Some(Duration::from_secs(60))).await.unwrap();
    let put_many = time(start);
    let start = clk.now();
    t.populate_many(&entries, Some(Duration::from_secs(60))).await.unwrap();
    let populate_many = time(start);
    let start = clk.now();
    let got = t.get_many(&keys).await.unwrap();
    let get_many = time(start);
    assert!(got.iter().zip(&entries).all(|(g, (_, v))| g.as_ref() == Some(v)));
    let start = clk.now();
    t.publish_invalidation(&keys).await.unwrap();
    let publish = time(start);
    let start = clk.now();
    t.delete_many(&keys).await.unwrap();
    let delete_many = time(start);
    let start = clk.now();
    for k in &keys[..10] {
        assert_eq!(t.get(k).await.unwrap(), None);
    }
    let ten_gets = time(start);
    println!(
        "50 ms each way: put_many(200) {put_many:?}, populate_many(200) {populate_many:?}, get_many(200) {get_many:?}, publish(200) {publish:?}, delete_many(200) {delete_many:?}, 10 x get {ten_gets:?}"
    );
    for (what, d) in
        [("put_many", put_many), ("get_many", get_many), ("publish", publish), ("delete_many", delete_many)]
    {
        assert!(d < Duration::from_millis(700), "{what} took {d:?}: more than a few round trips");
    }
    assert!(ten_gets >= Duration::from_millis(1000), "10 round trips took only {ten_gets:?}");
    proxy.heal();
    t.clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriber_resubscribes_after_a_cut_and_signals_all() {
    let (proxy, cfg) = proxied("sub-cut", 1000).await;
    let subscriber = RedisTier::connect(&cfg, clock()).await.unwrap();
    let mut direct = cfg.clone();
    direct.url = redis_url();
    let publisher = RedisTier::connect(&direct, clock()).await.unwrap();
    let mut rx = subscriber.subscribe_invalidations().await.unwrap();

    let before = Bytes::from_static(b"before");
    publisher.publish_invalidation(std::slice::from_ref(&before)).await.unwrap();
    assert_eq!(recv(&mut rx, Duration::from_secs(2)).await, Some(Invalidation::Key(before)));

    proxy.cut();
    tokio::time::sleep(Duration::from_millis(100)).await;
    publisher.publish_invalidation(&[Bytes::from_static(b"lost")]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.heal();

    let clk = SystemClock::new();
    let after = Bytes::from_static(b"after");
    let seen = publish_until_received(&publisher, &mut rx, &after, Duration::from_secs(5)).await;
    println!(
        "resubscribed after a cut in {:?}",
        clk.now().saturating_duration_since(strata::core::Instant::ZERO)
    );
    assert_eq!(
        seen.first(),
        Some(&Invalidation::All),
        "a resubscription first says L1 may be stale: {seen:?}"
    );
    assert!(!seen.contains(&Invalidation::Key(Bytes::from_static(b"lost"))));
}

/// A blackholed pub/sub connection delivers nothing and raises no error; the
/// subscriber's ping notices it and resubscribes once the network heals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriber_detects_a_silent_link_and_resubscribes() {
    let (proxy, cfg) = proxied("sub-blackhole", 1000).await;
    let subscriber = RedisTier::connect(&cfg, clock()).await.unwrap();
    let mut direct = cfg.clone();
    direct.url = redis_url();
    let publisher = RedisTier::connect(&direct, clock()).await.unwrap();
    let mut rx = subscriber.subscribe_invalidations().await.unwrap();

    proxy.blackhole();
    publisher.publish_invalidation(&[Bytes::from_static(b"held")]).await.unwrap();
    // Longer than ping interval + ping deadline: the subscriber gives up on
    // the silent connection and keeps trying new ones (which hang too).
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert_eq!(recv(&mut rx, Duration::from_millis(10)).await, None);
    proxy.heal();

    let after = Bytes::from_static(b"after");
    let seen = publish_until_received(&publisher, &mut rx, &after, Duration::from_secs(6)).await;
    assert!(seen.contains(&Invalidation::All), "{seen:?}");
}

/// A subscription that cannot reach the server names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_subscribe_names_the_server() {
    let (proxy, cfg) = proxied("sub-refused", 500).await;
    let t = RedisTier::connect(&cfg, clock()).await.unwrap();
    proxy.cut();
    let err = t.subscribe_invalidations().await.unwrap_err();
    let msg = err.to_string();
    println!("subscribe through a cut link: {msg}");
    assert!(matches!(err, StateError::Backend { op: "subscribe", .. }), "{msg}");
    assert!(msg.contains(&format!("{}: ", proxy.addr())), "no address in {msg}");
}
