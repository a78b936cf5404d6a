//! `RedisTier` against the real Redis (`REDIS_URL`, default
//! redis://127.0.0.1:6379). Every test works in its own namespace and
//! removes what it wrote; nothing here flushes or touches other keys.

#[path = "support/redis_env.rs"]
mod redis_env;

use std::time::Duration;

use bytes::Bytes;
use redis::AsyncCommands;
use redis_env::{clock, config, raw, recv, redis_url, tier};
use strata::core::l2::{BreakerState, Invalidation, L2Tier, RedisTier};
use strata::core::{Clock, StateError, SystemClock, Tier};

fn b<T: AsRef<[u8]> + ?Sized>(s: &'static T) -> Bytes {
    Bytes::from_static(s.as_ref())
}

#[tokio::test]
async fn get_put_delete_round_trip_under_the_namespace_prefix() {
    let t = tier("basic").await;
    assert_eq!(t.name(), "redis");
    assert_eq!(t.get(b"k").await.unwrap(), None);
    t.put(b"k", b("v1"), None).await.unwrap();
    assert_eq!(t.get(b"k").await.unwrap(), Some(b("v1")));
    t.put(b"k", b("v2"), None).await.unwrap();
    assert_eq!(t.get(b"k").await.unwrap(), Some(b("v2")));

    // Stored as `namespace:key`, raw bytes.
    let mut r = raw().await;
    let raw_key = format!("{}:k", t.namespace());
    let v: Option<Vec<u8>> = r.get(&raw_key).await.unwrap();
    assert_eq!(v.as_deref(), Some(&b"v2"[..]));

    t.delete(b"k").await.unwrap();
    assert_eq!(t.get(b"k").await.unwrap(), None);
    t.delete(b"never-there").await.unwrap();
    let exists: bool = r.exists(&raw_key).await.unwrap();
    assert!(!exists);
    assert_eq!(t.error_count(), 0);
    assert_eq!(t.breaker_state(), BreakerState::Closed);
}

#[tokio::test]
async fn px_ttl_expires_and_none_or_zero_never_expires() {
    let t = tier("ttl").await;
    let mut r = raw().await;
    t.put(b"short", b("x"), Some(Duration::from_millis(100))).await.unwrap();
    t.put(b"forever", b("y"), None).await.unwrap();
    t.put(b"zero", b("z"), Some(Duration::ZERO)).await.unwrap();
    let pttl: i64 = r.pttl(t.redis_key(b"short")).await.unwrap();
    assert!(pttl > 0 && pttl <= 100, "PTTL {pttl}");
    let pttl: i64 = r.pttl(t.redis_key(b"forever")).await.unwrap();
    assert_eq!(pttl, -1, "no expiry");
    let pttl: i64 = r.pttl(t.redis_key(b"zero")).await.unwrap();
    assert_eq!(pttl, -1, "TTL 0 means no expiry");
    assert_eq!(t.get(b"short").await.unwrap(), Some(b("x")));

    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(t.get(b"short").await.unwrap(), None);
    assert_eq!(t.get(b"forever").await.unwrap(), Some(b("y")));
    assert_eq!(t.clear().await.unwrap(), 2);
}

/// A TTL Redis cannot take as `PX` (here `Duration::MAX`) is stored without
/// expiry, not refused (which would leave the key out of L2 for good); the
/// longest TTL the config accepts is stored as it is.
#[tokio::test]
async fn ttls_beyond_100_years_never_expire_and_the_longest_accepted_is_kept() {
    let t = tier("ttl-huge").await;
    let mut r = raw().await;
    t.put(b"huge", b("h"), Some(Duration::MAX)).await.unwrap();
    t.put(b"longest", b("l"), Some(strata::core::config::MAX_L2_TTL)).await.unwrap();
    assert_eq!(t.error_count(), 0);
    assert_eq!(t.get(b"huge").await.unwrap(), Some(b("h")));
    let pttl: i64 = r.pttl(t.redis_key(b"huge")).await.unwrap();
    assert_eq!(pttl, -1, "no expiry");
    let pttl: i64 = r.pttl(t.redis_key(b"longest")).await.unwrap();
    let max_ms = i64::try_from(strata::core::config::MAX_L2_TTL.as_millis()).unwrap();
    assert!(pttl > max_ms - 60_000 && pttl <= max_ms, "PTTL {pttl}");
    assert_eq!(t.clear().await.unwrap(), 2);
}

#[tokio::test]
async fn get_many_keeps_order_and_reports_misses() {
    let t = tier("mget").await;
    t.put(b"a", b("1"), None).await.unwrap();
    t.put(b"c", b("3"), None).await.unwrap();
    let keys = [b("c"), b("missing"), b("a"), b("c"), b("b")];
    let got = t.get_many(&keys).await.unwrap();
    assert_eq!(got, vec![Some(b("3")), None, Some(b("1")), Some(b("3")), None]);
    assert_eq!(t.get_many(&[]).await.unwrap(), Vec::<Option<Bytes>>::new());
    t.clear().await.unwrap();
}

#[tokio::test]
async fn put_many_stores_every_pair_with_the_ttl_and_last_duplicate_wins() {
    let t = tier("mset").await;
    let mut entries: Vec<(Bytes, Bytes)> =
        (0..500).map(|i| (Bytes::from(format!("k{i}")), Bytes::from(format!("v{i}")))).collect();
    entries.push((b("k7"), b("last")));
    t.put_many(&entries, Some(Duration::from_secs(60))).await.unwrap();

    let keys: Vec<Bytes> = (0..500).map(|i| Bytes::from(format!("k{i}"))).collect();
    let got = t.get_many(&keys).await.unwrap();
    for (i, v) in got.iter().enumerate() {
        let want = if i == 7 { b("last") } else { Bytes::from(format!("v{i}")) };
        assert_eq!(v.as_ref(), Some(&want), "k{i}");
    }
    let mut r = raw().await;
    let pttl: i64 = r.pttl(t.redis_key(b"k499")).await.unwrap();
    assert!(pttl > 55_000 && pttl <= 60_000, "PTTL {pttl}");

    t.delete_many(&keys[..250]).await.unwrap();
    let got = t.get_many(&keys).await.unwrap();
    assert_eq!(got.iter().filter(|v| v.is_some()).count(), 250);
    assert!(got[..250].iter().all(Option::is_none));
    t.put_many(&[], None).await.unwrap();
    t.delete_many(&[]).await.unwrap();
    assert_eq!(t.clear().await.unwrap(), 250);
}

#[tokio::test]
async fn populate_sets_only_absent_keys_with_the_ttl() {
    let t = tier("populate").await;
    let mut r = raw().await;
    t.put(b"newer", b("written"), None).await.unwrap();
    t.populate(b"newer", b("stale read"), Some(Duration::from_secs(60))).await.unwrap();
    t.populate(b"absent", b("read"), Some(Duration::from_secs(60))).await.unwrap();
    assert_eq!(t.get(b"newer").await.unwrap(), Some(b("written")), "populate never overwrites");
    assert_eq!(t.get(b"absent").await.unwrap(), Some(b("read")));
    let pttl: i64 = r.pttl(t.redis_key(b"newer")).await.unwrap();
    assert_eq!(pttl, -1, "the refused populate left the TTL alone");
    let pttl: i64 = r.pttl(t.redis_key(b"absent")).await.unwrap();
    assert!(pttl > 55_000 && pttl <= 60_000, "PTTL {pttl}");

    t.put_many(&[(b("m1"), b("written"))], None).await.unwrap();
    let batch = [(b("m1"), b("stale")), (b("m2"), b("read2")), (b("m3"), b("read3")), (b("m3"), b("dup"))];
    t.populate_many(&batch, None).await.unwrap();
    let got = t.get_many(&[b("m1"), b("m2"), b("m3")]).await.unwrap();
    // Within one batch the first write of a key wins (later ones find it present).
    assert_eq!(got, vec![Some(b("written")), Some(b("read2")), Some(b("read3"))]);
    t.populate_many(&[], None).await.unwrap();
    assert_eq!(t.clear().await.unwrap(), 5);
}

#[tokio::test]
async fn binary_keys_and_values_are_stored_verbatim() {
    let t = tier("binary").await;
    let keys: Vec<Bytes> = vec![
        b(b"\x00"),
        b(b"\xff\xfe\x00\x01"),
        b(b"with:colon"),
        b(b"glob*?[x]\\"),
        b(b"line\r\nbreak"),
        b(b""),
        Bytes::from((0u8..=255).collect::<Vec<u8>>()),
    ];
    let entries: Vec<(Bytes, Bytes)> =
        keys.iter().map(|k| (k.clone(), Bytes::from([&b"v"[..], k].concat()))).collect();
    t.put_many(&entries, None).await.unwrap();
    for (k, v) in &entries {
        assert_eq!(t.get(k).await.unwrap().as_ref(), Some(v), "{k:?}");
    }
    let got = t.get_many(&keys).await.unwrap();
    assert_eq!(got, entries.iter().map(|(_, v)| Some(v.clone())).collect::<Vec<_>>());
    // The raw key is exactly prefix + key bytes.
    let mut r = raw().await;
    let mut raw_key = format!("{}:", t.namespace()).into_bytes();
    raw_key.extend_from_slice(b"\xff\xfe\x00\x01");
    let v: Option<Vec<u8>> = r.get(&raw_key).await.unwrap();
    assert_eq!(v.as_deref(), Some(&b"v\xff\xfe\x00\x01"[..]));
    assert_eq!(t.clear().await.unwrap(), keys.len() as u64);
}

#[tokio::test]
async fn two_namespaces_never_see_each_other() {
    let a = tier("iso-a").await;
    let b_ = tier("iso-b").await;
    a.put(b"shared", b("from-a"), None).await.unwrap();
    assert_eq!(b_.get(b"shared").await.unwrap(), None);
    b_.put(b"shared", b("from-b"), None).await.unwrap();
    assert_eq!(a.get(b"shared").await.unwrap(), Some(b("from-a")));
    b_.delete(b"shared").await.unwrap();
    assert_eq!(a.get(b"shared").await.unwrap(), Some(b("from-a")));
    b_.put(b"only-b", b("x"), None).await.unwrap();
    assert_eq!(a.clear().await.unwrap(), 1);
    assert_eq!(b_.get(b"only-b").await.unwrap(), Some(b("x")));
    assert_eq!(b_.clear().await.unwrap(), 1);
}

/// 2,500 keys take several SCAN rounds; neighbours whose names share a
/// prefix with the namespace, or that a glob in the namespace would match,
/// survive.
#[tokio::test]
async fn clear_removes_exactly_its_namespace_over_many_scan_batches() {
    let url = redis_url();
    let mut cfg = config(&url, "clear");
    // Glob metacharacters in the namespace must be matched literally.
    cfg.namespace = format!("{}[x]*?", cfg.namespace);
    let t = RedisTier::connect(&cfg, clock()).await.unwrap();
    let entries: Vec<(Bytes, Bytes)> = (0..2500).map(|i| (Bytes::from(format!("{i}")), b("v"))).collect();
    for chunk in entries.chunks(500) {
        t.put_many(chunk, Some(Duration::from_secs(120))).await.unwrap();
    }
    let ns = cfg.namespace.clone();
    let base = ns.trim_end_matches("[x]*?").to_string();
    // Keys a sloppy pattern would catch: same stem, the glob expanded, no colon.
    let neighbours = [
        format!("{ns}x:1"),
        format!("{base}x:1"),
        format!("{base}[x]zz:1"),
        ns.clone(),
        format!("{base}:1"),
        format!("prefix-{ns}:1"),
    ];
    let mut r = raw().await;
    for k in &neighbours {
        let () = r.set_ex(k, "keep", 120).await.unwrap();
    }

    assert_eq!(t.clear().await.unwrap(), 2500);
    assert!(
        t.get_many(&entries.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>())
            .await
            .unwrap()
            .iter()
            .all(Option::is_none)
    );
    for k in &neighbours {
        let v: Option<String> = r.get(k).await.unwrap();
        assert_eq!(v.as_deref(), Some("keep"), "{k} must survive");
    }
    assert_eq!(t.clear().await.unwrap(), 0);
    let n: u64 = r.del(&neighbours[..]).await.unwrap();
    assert_eq!(n, neighbours.len() as u64);
}

/// Two instances on one namespace: B receives A's notices, and measures how
/// long each took (p50/max over 100 messages, printed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidations_reach_the_other_instance_quickly() {
    let cfg = config(&redis_url(), "pubsub");
    let a = RedisTier::connect(&cfg, clock()).await.unwrap();
    let b_ = RedisTier::connect(&cfg, clock()).await.unwrap();
    assert_ne!(a.instance_id(), b_.instance_id());
    let mut rx = b_.subscribe_invalidations().await.unwrap();
    let clk = SystemClock::new();
    let mut delays = Vec::with_capacity(100);
    for i in 0..100u32 {
        let key = Bytes::from(format!("key-{i}"));
        let sent = clk.now();
        a.publish_invalidation(std::slice::from_ref(&key)).await.unwrap();
        let got = recv(&mut rx, Duration::from_secs(2)).await;
        delays.push(clk.now().saturating_duration_since(sent));
        assert_eq!(got, Some(Invalidation::Key(key)));
    }
    delays.sort();
    let p50 = delays[49];
    let max = delays[99];
    println!("pub/sub invalidation delay over 100 messages: p50 {p50:?}, max {max:?}");
    assert!(max < Duration::from_millis(100), "max delay {max:?}");

    // A batch arrives in order.
    let keys: Vec<Bytes> = (0..50).map(|i| Bytes::from(format!("batch-{i}"))).collect();
    a.publish_invalidation(&keys).await.unwrap();
    for k in &keys {
        assert_eq!(recv(&mut rx, Duration::from_secs(2)).await, Some(Invalidation::Key(k.clone())));
    }
    a.publish_clear().await.unwrap();
    assert_eq!(recv(&mut rx, Duration::from_secs(2)).await, Some(Invalidation::All));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_notices_are_filtered_out() {
    let cfg = config(&redis_url(), "own");
    let a = RedisTier::connect(&cfg, clock()).await.unwrap();
    let b_ = RedisTier::connect(&cfg, clock()).await.unwrap();
    let mut rx_a = a.subscribe_invalidations().await.unwrap();
    let mut rx_b = b_.subscribe_invalidations().await.unwrap();
    a.publish_invalidation(&[b("from-a")]).await.unwrap();
    a.publish_clear().await.unwrap();
    b_.publish_invalidation(&[b("from-b")]).await.unwrap();
    // Pub/sub keeps order per connection pair: if A's own notices were
    // delivered, they would come before B's.
    assert_eq!(recv(&mut rx_a, Duration::from_secs(2)).await, Some(Invalidation::Key(b("from-b"))));
    assert_eq!(recv(&mut rx_b, Duration::from_secs(2)).await, Some(Invalidation::Key(b("from-a"))));
    assert_eq!(recv(&mut rx_b, Duration::from_secs(2)).await, Some(Invalidation::All));
    assert_eq!(recv(&mut rx_a, Duration::from_millis(200)).await, None);
    assert_eq!(recv(&mut rx_b, Duration::from_millis(200)).await, None);
}

#[tokio::test]
async fn another_namespace_notices_do_not_arrive() {
    let a = tier("chan-a").await;
    let other = tier("chan-b").await;
    let mut rx = a.subscribe_invalidations().await.unwrap();
    other.publish_invalidation(&[b("k")]).await.unwrap();
    assert_eq!(recv(&mut rx, Duration::from_millis(200)).await, None);
}

#[tokio::test]
async fn subscription_ends_when_the_tier_is_dropped() {
    let t = tier("drop").await;
    let mut rx = t.subscribe_invalidations().await.unwrap();
    drop(t);
    let end = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await;
    assert_eq!(end.expect("the receiver closes"), None);
}

#[tokio::test]
async fn wrong_password_in_the_url_is_a_clear_connect_error() {
    let url = redis_url().replacen("redis://", "redis://:wrongpass-s3cr3t@", 1);
    let cfg = config(&url, "auth");
    let err = RedisTier::connect(&cfg, clock()).await.unwrap_err();
    let msg = err.to_string();
    match &err {
        StateError::Backend { tier, backend, op, .. } => {
            assert_eq!((*tier, *backend, *op), (Tier::L2, "redis", "connect"));
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
    println!("wrong password: {msg}");
    // Redis answers AUTH with an error whether or not it has a password set.
    assert!(msg.to_ascii_lowercase().contains("auth"), "{msg}");
    assert!(!msg.contains("s3cr3t"), "the password leaked into {msg}");
    // A username and password parse; the server then rejects them.
    let url = redis_url().replacen("redis://", "redis://nobody:pw@", 1);
    let err = RedisTier::connect(&config(&url, "auth2"), clock()).await.unwrap_err();
    assert!(matches!(err, StateError::Backend { op: "connect", .. }), "{err}");
}

#[tokio::test]
async fn bad_urls_and_namespaces_are_config_errors() {
    let mut cfg = config("http://127.0.0.1:6379", "bad");
    let err = RedisTier::connect(&cfg, clock()).await.unwrap_err();
    assert!(matches!(&err, StateError::Config { field, .. } if field == "l2.url"), "{err}");
    cfg.url = "redis://127.0.0.1:notaport".into();
    let err = RedisTier::connect(&cfg, clock()).await.unwrap_err();
    assert!(matches!(&err, StateError::Config { field, .. } if field == "l2.url"), "{err}");
    let mut cfg = config(&redis_url(), "bad");
    cfg.namespace = "app:cache".into();
    let err = RedisTier::connect(&cfg, clock()).await.unwrap_err();
    assert!(matches!(&err, StateError::Config { field, .. } if field == "l2.namespace"), "{err}");
}

#[tokio::test]
async fn unreachable_server_fails_connect_promptly() {
    // Port 1 on loopback: nothing listens, the connection is refused.
    let cfg = config("redis://127.0.0.1:1", "refused");
    let clk = SystemClock::new();
    let err = RedisTier::connect(&cfg, clock()).await.unwrap_err();
    assert!(matches!(err, StateError::Backend { op: "connect", .. }), "{err}");
    assert!(clk.now().saturating_duration_since(strata::core::Instant::ZERO) < Duration::from_secs(3));
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("local addr").port()
}

#[tokio::test]
async fn a_refused_connect_names_the_server_and_the_cause() {
    let port = closed_port();
    let err = RedisTier::connect(&config(&format!("redis://127.0.0.1:{port}"), "refused-addr"), clock())
        .await
        .unwrap_err();
    let msg = err.to_string();
    println!("refused: {msg}");
    assert!(matches!(err, StateError::Backend { tier: Tier::L2, op: "connect", .. }), "{msg}");
    assert!(msg.contains(&format!("127.0.0.1:{port}: ")), "no address in {msg}");
    assert!(msg.to_ascii_lowercase().contains("refused"), "no cause in {msg}");
}

#[tokio::test]
async fn a_connect_error_names_the_server_but_not_the_credentials() {
    let port = closed_port();
    let url = format!("redis://strata-user:secret-pw@127.0.0.1:{port}/0");
    let err = RedisTier::connect(&config(&url, "refused-creds"), clock()).await.unwrap_err();
    let msg = format!("{err} / {err:?}");
    println!("refused with credentials: {err}");
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "no address in {msg}");
    assert!(msg.to_ascii_lowercase().contains("refused"), "no cause in {msg}");
    assert!(!msg.contains("secret-pw"), "the password leaked into {msg}");
    assert!(!msg.contains("strata-user"), "the user name leaked into {msg}");
}

#[tokio::test]
async fn an_unknown_host_is_named_in_the_connect_error() {
    // `.invalid` never resolves (RFC 2606).
    let url = "redis://strata-no-such-host.invalid:6390";
    let err = RedisTier::connect(&config(url, "unknown-host"), clock()).await.unwrap_err();
    let msg = err.to_string();
    println!("unknown host: {msg}");
    assert!(matches!(err, StateError::Backend { tier: Tier::L2, op: "connect", .. }), "{msg}");
    assert!(msg.contains("strata-no-such-host.invalid:6390: "), "no address in {msg}");
}
