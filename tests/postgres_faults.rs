//! `PostgresStateBackend` when the network to PostgreSQL fails: a
//! fault-injecting proxy (tests/support/proxy.rs) sits between the backend
//! and the machine's server, which itself is never stopped. Operations fail
//! within their timeouts instead of hanging, and work again once the proxy
//! heals (the pool drops dead connections and opens new ones).

#[path = "support/pg_env.rs"]
mod pg_env;
#[path = "support/proxy.rs"]
mod proxy;

use std::time::Duration;

use bytes::Bytes;
use pg_env::Table;
use proxy::Proxy;
use strata::core::backend::PostgresOptions;
use strata::core::{Clock, PostgresStateBackend, StateBackend, StateError, SystemClock, Tier};

const ACQUIRE: Duration = Duration::from_millis(800);
const OP: Duration = Duration::from_millis(1500);
/// Slack for a busy 2-core machine on top of a deadline.
const SLACK: Duration = Duration::from_millis(1500);

fn options() -> PostgresOptions {
    PostgresOptions { acquire_timeout: ACQUIRE, op_timeout: OP, ..PostgresOptions::default() }
}

/// A migrated table, and a backend on it through a fresh proxy.
async fn proxied(label: &str) -> (Table, Proxy, PostgresStateBackend) {
    let table = Table::new(label);
    drop(table.backend().await);
    let proxy = Proxy::start(pg_env::upstream()).await.expect("proxy");
    let be = PostgresStateBackend::connect_with(&pg_env::url_via(proxy.addr()), &table.0, options())
        .await
        .expect("connect through the proxy");
    (table, proxy, be)
}

fn b(x: &[u8]) -> Bytes {
    Bytes::copy_from_slice(x)
}

fn is_l3_failure(e: &StateError) -> bool {
    matches!(
        e,
        StateError::Backend { tier: Tier::L3, backend: "postgres", .. }
            | StateError::Timeout { tier: Tier::L3, backend: "postgres", .. }
    )
}

/// Runs `op`, which must fail, and returns how long it took to fail.
async fn fails_within<T: std::fmt::Debug>(
    what: &str,
    limit: Duration,
    op: impl std::future::Future<Output = Result<T, StateError>>,
) -> Duration {
    let clock = SystemClock::new();
    let start = clock.now();
    let out = tokio::time::timeout(limit + Duration::from_secs(10), op).await;
    let took = clock.now().saturating_duration_since(start);
    let e = out.unwrap_or_else(|_| panic!("{what} hung for {took:?}")).expect_err(what);
    assert!(is_l3_failure(&e), "{what}: {e}");
    assert!(took <= limit, "{what} failed only after {took:?} (limit {limit:?}): {e}");
    took
}

/// Retries `get` until it works; returns how long that took.
async fn recovers(be: &PostgresStateBackend, key: &[u8], want: &Bytes) -> Duration {
    let clock = SystemClock::new();
    let start = clock.now();
    loop {
        if let Ok(v) = be.get(key).await {
            assert_eq!(v.as_ref(), Some(want));
            return clock.now().saturating_duration_since(start);
        }
        let waited = clock.now().saturating_duration_since(start);
        assert!(waited < Duration::from_secs(10), "no recovery after {waited:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_fails_fast_and_heal_reconnects() {
    let (_t, proxy, be) = proxied("cut").await;
    be.put(b"k", b(b"before")).await.unwrap();
    assert_eq!(be.get(b"k").await.unwrap(), Some(b(b"before")));

    proxy.cut();
    let limit = ACQUIRE + SLACK;
    let took = [
        fails_within("get", limit, be.get(b"k")).await,
        fails_within("put", limit, be.put(b"k", b(b"during"))).await,
        fails_within("put_many", limit, be.put_many(vec![(b(b"a"), b(b"1"))])).await,
        fails_within("apply_batch", limit, be.apply_batch(vec![(b(b"k"), None)])).await,
        fails_within("list_keys", limit, be.list_keys(b"")).await,
    ];
    eprintln!("errors while cut after {took:?}");

    proxy.heal();
    let after = recovers(&be, b"k", &b(b"before")).await;
    eprintln!("first success {after:?} after heal");
    be.put_many(vec![(b(b"a"), b(b"1")), (b(b"k"), b(b"after"))]).await.unwrap();
    assert_eq!(be.get_many(&[b(b"a"), b(b"k")]).await.unwrap(), vec![Some(b(b"1")), Some(b(b"after"))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blackhole_times_out_instead_of_hanging() {
    let (_t, proxy, be) = proxied("blackhole").await;
    be.put(b"k", b(b"v")).await.unwrap();

    proxy.blackhole();
    // A statement on a live connection waits for an answer that never
    // comes: the op timeout ends it.
    let took = fails_within("get", OP + SLACK, be.get(b"k")).await;
    eprintln!("get failed after {took:?} in the blackhole");
    assert!(took >= OP.min(ACQUIRE) / 2, "failed suspiciously fast: {took:?}");
    fails_within("put_many", OP + SLACK, be.put_many(vec![(b(b"x"), b(b"1"))])).await;

    proxy.heal();
    recovers(&be, b"k", &b(b"v")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_through_a_cut_proxy_fails_within_the_acquire_timeout() {
    let table = Table::new("refused");
    let proxy = Proxy::start(pg_env::upstream()).await.expect("proxy");
    proxy.cut();
    let url = pg_env::url_via(proxy.addr());
    fails_within("connect", ACQUIRE + SLACK, PostgresStateBackend::connect_with(&url, &table.0, options()))
        .await;
    // The error says where: the proxy's address, not the server behind it.
    let e = PostgresStateBackend::connect_with(&url, &table.0, options()).await.unwrap_err();
    println!("connect through a cut proxy: {e}");
    assert!(e.to_string().contains(&format!("{}, database ", proxy.addr())), "no address in {e}");
    proxy.blackhole();
    fails_within("connect", ACQUIRE + SLACK, PostgresStateBackend::connect_with(&url, &table.0, options()))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_cut_in_flight_is_all_or_nothing() {
    let (t, proxy, be) = proxied("inflight").await;
    let direct = t.backend().await;
    // A slow link: each chunk crosses 40 ms late, so a ~2.5 MB batch is
    // still in flight when the cut comes.
    proxy.set_delay(Duration::from_millis(40));
    let entries: Vec<(Bytes, Bytes)> =
        (0u32..5000).map(|i| (b(&i.to_be_bytes()), Bytes::from(vec![7u8; 500]))).collect();
    let write = tokio::spawn({
        let be = be.clone();
        async move { be.put_many(entries).await }
    });
    // ~16 KiB per 40 ms: the statement needs seconds to cross; cut midway.
    tokio::time::sleep(Duration::from_millis(400)).await;
    proxy.cut();
    let outcome = write.await.unwrap();
    assert!(outcome.is_err(), "the batch cannot have completed through a cut link");
    // The server either never got the whole statement or committed all of
    // it (its answer lost): never part of it.
    let n = direct.count().await.unwrap();
    assert!(n == 0 || n == 5000, "partial batch: {n} rows");
    eprintln!("rows after the cut batch: {n}");
    proxy.heal();
    be.put_many(vec![(b(b"z"), b(b"1"))]).await.unwrap();
}
