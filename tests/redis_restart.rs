//! A real Redis restart: a private `redis-server` (free port, no
//! persistence) is killed and started again on the same port while a tier
//! and its subscription are connected to it. The shared server is not
//! involved.
//!
//! Skipped (with a message) only when `redis-server` is not installed.

#[path = "support/private_redis.rs"]
mod private_redis;
#[path = "support/redis_env.rs"]
mod redis_env;

use std::time::Duration;

use bytes::Bytes;
use private_redis::{PrivateRedis, free_port, have};
use redis_env::{clock, config, publish_until_received, recv};
use strata::core::l2::{BreakerState, Invalidation, L2Tier, RedisTier};
use strata::core::{Clock, SystemClock};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tier_and_subscription_survive_a_redis_restart() {
    if !have("redis-server") {
        eprintln!("SKIPPED: redis-server not installed");
        return;
    }
    let port = free_port();
    let server = PrivateRedis::start(port, &[]).await;
    let mut cfg = config(&format!("redis://127.0.0.1:{port}"), "restart");
    cfg.timeout = Duration::from_millis(200);
    cfg.breaker_failures = 3;
    cfg.breaker_cooldown = Duration::from_millis(300);
    let subscriber = RedisTier::connect(&cfg, clock()).await.unwrap();
    let publisher = RedisTier::connect(&cfg, clock()).await.unwrap();
    let mut rx = subscriber.subscribe_invalidations().await.unwrap();
    let k = Bytes::from_static(b"k");
    publisher.put(&k, Bytes::from_static(b"v"), None).await.unwrap();
    publisher.publish_invalidation(std::slice::from_ref(&k)).await.unwrap();
    assert_eq!(recv(&mut rx, Duration::from_secs(2)).await, Some(Invalidation::Key(k.clone())));

    server.kill();
    let clk = SystemClock::new();
    for _ in 0..3 {
        let start = clk.now();
        assert!(subscriber.get(&k).await.is_err(), "the server is down");
        assert!(clk.now().saturating_duration_since(start) < Duration::from_millis(500), "failed, not hung");
    }
    assert_eq!(subscriber.breaker_state(), BreakerState::Open);

    tokio::time::sleep(Duration::from_millis(300)).await;
    let _server = PrivateRedis::start(port, &[]).await;
    let restarted = clk.now();

    // The publisher sat idle through the restart: its first command finds
    // the dead connection, and is sent again on a new one, without an error.
    publisher.put(b"fresh", Bytes::from_static(b"1"), None).await.expect("first command after the restart");
    assert_eq!(publisher.error_count(), 0);

    // The data went with the old process: once reconnected, L2 answers a miss.
    loop {
        if matches!(subscriber.get(&k).await, Ok(None)) {
            break;
        }
        assert!(
            clk.now().saturating_duration_since(restarted) < Duration::from_secs(5),
            "L2 did not come back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let back = clk.now().saturating_duration_since(restarted);
    assert_eq!(subscriber.breaker_state(), BreakerState::Closed);

    let after = Bytes::from_static(b"after");
    let seen = publish_until_received(&publisher, &mut rx, &after, Duration::from_secs(5)).await;
    let resubscribed = clk.now().saturating_duration_since(restarted);
    println!("after a restart: commands back in {back:?}, notices back in {resubscribed:?}");
    assert_eq!(seen.first(), Some(&Invalidation::All), "{seen:?}");
}
