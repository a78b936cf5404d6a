//! Shared helpers of the Redis tests: the server's URL, unique namespaces,
//! a tier on a fresh namespace, and a plain connection to look at raw keys.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use strata::core::config::L2Config;
use strata::core::l2::{Invalidation, L2Tier, RedisTier};
use strata::core::{Clock, SystemClock};
use tokio::sync::mpsc::UnboundedReceiver;

/// `REDIS_URL`, or the machine's server.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A namespace no other test (or test run) uses: `strata-test-<name>-<pid>-<n>-<time>`.
pub fn unique_namespace(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("strata-test-{name}-{}-{}-{nanos}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// The server's address (of [`redis_url`]), for a proxy in front of it.
pub fn redis_addr() -> std::net::SocketAddr {
    use std::net::ToSocketAddrs;
    let url = redis_url();
    let addr = redis::Client::open(url.as_str()).expect("REDIS_URL").get_connection_info().addr().to_string();
    addr.to_socket_addrs().expect("resolve").next().expect("an address")
}

/// An L2 config on `url` and a fresh namespace; 2 s timeout so a busy
/// machine does not fail functional tests.
pub fn config(url: &str, name: &str) -> L2Config {
    L2Config {
        url: url.into(),
        namespace: unique_namespace(name),
        ttl: None,
        timeout: Duration::from_secs(2),
        ..L2Config::default()
    }
}

/// The real clock, shared.
pub fn clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock::new())
}

/// A tier on the machine's Redis and a fresh namespace.
pub async fn tier(name: &str) -> RedisTier {
    RedisTier::connect(&config(&redis_url(), name), clock()).await.expect("connect to Redis")
}

/// A plain connection to the machine's Redis, to check raw keys.
pub async fn raw() -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("connect to Redis")
}

/// The next notice, if one comes `within`.
pub async fn recv(rx: &mut UnboundedReceiver<Invalidation>, within: Duration) -> Option<Invalidation> {
    tokio::time::timeout(within, rx.recv()).await.ok().flatten()
}

/// Publishes `key` from `publisher` every 50 ms until `rx` yields it; other
/// notices on the way are returned too.
pub async fn publish_until_received(
    publisher: &RedisTier,
    rx: &mut UnboundedReceiver<Invalidation>,
    key: &Bytes,
    within: Duration,
) -> Vec<Invalidation> {
    let clk = SystemClock::new();
    let mut seen = Vec::new();
    loop {
        publisher.publish_invalidation(std::slice::from_ref(key)).await.expect("publish");
        if let Some(inv) = recv(rx, Duration::from_millis(50)).await {
            let done = inv == Invalidation::Key(key.clone());
            seen.push(inv);
            if done {
                return seen;
            }
        }
        assert!(
            clk.now().saturating_duration_since(strata::core::Instant::ZERO) < within,
            "not received within {within:?}; seen {seen:?}"
        );
    }
}
