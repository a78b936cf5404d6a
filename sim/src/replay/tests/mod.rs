//! Scenario tests of the full engine, with constant latencies so every
//! number is exact.

use std::time::Duration;

use strata_core::CacheConfig;
use strata_core::config::{Capacity, L2Config, WriteStrategy};
use strata_core::policy::eviction::EvictionConfig;

use super::run;
use crate::config::{Arrival, SimConfig};
use crate::fast::run_hit_ratio_only;
use crate::latency::LatencyConfig;
use crate::report::Report;
use crate::trace::{Op, Request};

const MS: u64 = 1_000_000;

fn req(t_ms: u64, key: u64, op: Op) -> Request {
    Request { time_ns: t_ms * MS, key, op, size: 100, ttl: None }
}

fn get(t_ms: u64, key: u64) -> Request {
    req(t_ms, key, Op::Get)
}

fn set(t_ms: u64, key: u64) -> Request {
    req(t_ms, key, Op::Set)
}

/// Constant latencies: L1 1 µs, L2 0.5 ms, L3 read 2 ms, L3 write 3 ms,
/// invalidation 1 ms.
fn constant_sim() -> SimConfig {
    let mut s = SimConfig::default();
    s.latency.l1 = LatencyConfig::constant(1.0);
    s.latency.l2 = LatencyConfig::constant(500.0);
    s.latency.l3_read = LatencyConfig::constant(2_000.0);
    s.latency.l3_write = LatencyConfig::constant(3_000.0);
    s.latency.l3_batch_item_us = 0.0;
    s.latency.invalidation = LatencyConfig::constant(1_000.0);
    s
}

fn cache(entries: u64) -> CacheConfig {
    let mut c = CacheConfig::default();
    c.l1.capacity = Capacity::Entries(entries);
    c
}

fn full(c: &CacheConfig, s: &SimConfig, reqs: &[Request]) -> Report {
    run(c, s, reqs.iter().copied(), |_| {}).unwrap()
}

/// A skewed pseudo-random trace (keys 0..n, low keys hot), 1 request per `gap_ms`.
fn skewed(len: usize, n: u64, gap_ms: u64, writes_every: usize) -> Vec<Request> {
    let mut x: u64 = 0x1234_5678;
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            let key = (u * u * u * n as f64) as u64;
            let op = if writes_every > 0 && i % writes_every == 0 { Op::Set } else { Op::Get };
            req(i as u64 * gap_ms, key, op)
        })
        .collect()
}

#[test]
fn l1_hit_ratio_equals_fast_mode_when_loads_never_overlap() {
    let reqs = skewed(5_000, 500, 100, 0);
    for eviction in EvictionConfig::all() {
        let mut c = cache(50);
        c.l1.eviction = eviction;
        c.l2 = Some(L2Config { capacity: Some(Capacity::Entries(200)), ttl: None, ..L2Config::default() });
        let s = constant_sim();
        let a = full(&c, &s, &reqs);
        let b = run_hit_ratio_only(&c, &s, reqs.iter().copied(), |_| {}).unwrap();
        assert_eq!((a.l1.hits, a.l1.misses), (b.l1.hits, b.l1.misses));
        let (l2a, l2b) = (a.l2.unwrap(), b.l2.unwrap());
        assert_eq!((l2a.hits, l2a.misses), (l2b.hits, l2b.misses));
        assert_eq!(a.l3.reads, b.l3.reads);
        assert!(a.l1.hits > 1_000 && l2a.hits > 100, "{} {}", a.l1.hits, l2a.hits);
    }
}

#[test]
fn with_writes_both_modes_agree_on_l1_with_and_without_write_allocate() {
    // Writes every 4th request; loads never overlap (100 ms apart).
    let reqs = skewed(5_000, 500, 100, 4);
    let mut hits = Vec::new();
    for allocate in [true, false] {
        let mut c = cache(50);
        c.write.allocate = allocate;
        let s = constant_sim();
        let a = full(&c, &s, &reqs);
        let b = run_hit_ratio_only(&c, &s, reqs.iter().copied(), |_| {}).unwrap();
        assert_eq!((a.l1.hits, a.l1.misses), (b.l1.hits, b.l1.misses), "allocate={allocate}");
        hits.push(a.l1.hits);
    }
    assert_ne!(hits[0], hits[1], "the setting changes what L1 holds");
}

#[test]
fn latencies_follow_the_tier_that_answered() {
    let mut c = cache(10);
    c.l2 = Some(L2Config { capacity: None, ttl: None, ..L2Config::default() });
    // miss everywhere, L1 hit, then (after L1 eviction by 10 other keys) an L2 hit
    let mut reqs = vec![get(0, 1), get(10, 1)];
    reqs.extend((0..10).map(|k| get(20 + k, 100 + k)));
    reqs.push(get(100, 1));
    let r = full(&c, &constant_sim(), &reqs);
    let l = r.read_latency.unwrap();
    assert_eq!(l.count, 13);
    assert_eq!(l.max_us, 2_501.0, "L1 1 µs + L2 500 µs + L3 2 ms");
    assert_eq!(l.p50_us, 2_501.0);
    assert_eq!(r.l1.hits, 1);
    assert_eq!(r.l2.unwrap().hits, 1);
    let cdf_last = r.read_cdf.last().unwrap();
    assert_eq!((cdf_last.q, cdf_last.us), (1.0, 2_501.0));
    assert!(r.read_cdf.iter().any(|p| p.us == 1.0), "the L1 hit shows in the CDF");
    assert_eq!(r.read_histogram.iter().map(|b| b.count).sum::<u64>(), 13);
}

#[test]
fn concurrent_misses_share_one_load() {
    let reqs: Vec<Request> = (0..10).map(|i| Request { time_ns: i * 1000, ..get(0, 7) }).collect();
    let r = full(&cache(100), &constant_sim(), &reqs);
    assert_eq!(r.l3.reads, 1);
    assert_eq!(r.coalesced_loads, 9);
    let l = r.read_latency.unwrap();
    assert_eq!(l.max_us, 2_001.0);
    assert_eq!(l.count, 10);
    // the last waiter arrived 9 µs after the first
    assert!(l.p50_us < 2_001.0);
}

#[test]
fn l3_concurrency_limit_queues_fifo() {
    let mut s = constant_sim();
    s.l3.concurrency = Some(2);
    let reqs: Vec<Request> = (0..6).map(|k| get(0, k)).collect();
    let r = full(&cache(100), &s, &reqs);
    assert_eq!(r.l3.peak_queue_len, 4);
    assert_eq!(r.l3.queued, 4);
    // pairs finish at 2, 4, 6 ms
    assert_eq!(r.read_latency.unwrap().max_us, 6_001.0);
    assert_eq!(r.l3.mean_queue_wait_us, 3_000.0, "waits of 2, 2, 4, 4 ms");
}

#[test]
fn write_behind_batches_coalesces_and_cancels() {
    let mut c = cache(100);
    c.write.strategy = WriteStrategy::WriteBehind;
    c.write.batch_size = 3;
    c.write.flush_interval = Duration::from_millis(50);
    let reqs = vec![
        set(0, 1),
        set(1, 1), // coalesced
        set(2, 2),
        req(3, 2, Op::Delete), // replaces the pending set of 2 in place
        set(4, 3),             // 3 keys pending: a batch of 3
        set(10, 4),            // alone: flushed by age at 60 ms
        get(11, 4),
        get(100, 5), // after it (else shutdown at 11 ms would flush it)
    ];
    let r = full(&c, &constant_sim(), &reqs);
    let w = &r.write_queue;
    assert_eq!(w.batches, 2);
    assert_eq!(w.coalesced, 2, "the second set of 1, and the delete of 2");
    let b = w.batch_size.as_ref().unwrap();
    assert_eq!((b.max, b.p50), (3, 1));
    assert_eq!(r.l3.write_ops, 4);
    assert_eq!(r.l3.write_requests, 2);
    assert_eq!(r.l1.hits, 1);
    assert_eq!(r.write_latency.unwrap().max_us, 1.0, "caches only, no L2");
    assert!((r.duration_s - 0.102).abs() < 1e-9, "the last get's load: 100 ms + 2 ms, got {}", r.duration_s);
}

#[test]
fn write_through_waits_for_l3_and_write_back_does_not() {
    let reqs = vec![set(0, 1), get(10, 1)];
    let mut c = cache(10);
    let r = full(&c, &constant_sim(), &reqs);
    assert_eq!(r.write_latency.unwrap().max_us, 3_001.0);
    assert_eq!((r.l1.hits, r.l3.write_requests), (1, 1));
    c.write.strategy = WriteStrategy::WriteBack;
    let r = full(&c, &constant_sim(), &reqs);
    assert_eq!(r.write_latency.unwrap().max_us, 1.0);
    assert_eq!((r.l1.hits, r.l3.write_requests, r.write_queue.batches), (1, 1, 1));
}

#[test]
fn reads_see_own_pending_writes_after_eviction() {
    let mut c = cache(1);
    c.write.strategy = WriteStrategy::WriteBehind;
    c.write.flush_interval = Duration::from_secs(10);
    // The pending read caches the value as a load would (the engine's
    // `lead_load`): the next read of key 1 is an L1 hit.
    let reqs = vec![set(0, 1), get(1, 2), get(5, 1), get(6, 1)];
    let r = full(&c, &constant_sim(), &reqs);
    assert_eq!(r.pending_write_reads, 1);
    assert_eq!(r.l1.hits, 1);
    assert_eq!(r.staleness.stale_reads, 0);
}

#[test]
fn delayed_invalidation_across_instances_gives_stale_reads() {
    let mut s = constant_sim();
    s.instances = 2;
    s.latency.invalidation = LatencyConfig::constant(50_000.0);
    let mut c = cache(10);
    c.write.strategy = WriteStrategy::WriteBack;
    // Invalidations travel through L2's Redis (pub/sub).
    c.l2 = Some(L2Config { capacity: None, ttl: None, ..L2Config::default() });
    // round-robin: even requests on instance 0, odd on 1
    let reqs = vec![
        get(0, 1),  // i0 loads v0
        get(10, 1), // i1 loads v0
        set(20, 1), // i0 writes v1, commits at 20 ms; i1 learns at 70 ms
        get(30, 1), // i1: stale (v0), 10 ms behind
        get(40, 2),
        get(80, 1), // i1: invalidated, loads v1 (from L2, written at the put)
    ];
    let r = full(&c, &s, &reqs);
    assert_eq!(r.staleness.stale_reads, 1);
    assert_eq!(r.staleness.max_stale_age_ms, 10.0);
    // The put's notice, and the landed batch's (the engine's l2_after_flush).
    assert_eq!(r.invalidations, 2);
    assert_eq!(r.l1.hits, 1);

    // Without L2 the engine's instances have no channel: i1 never hears
    // of the write and keeps its v0 (stale at 30 and at 80 ms).
    c.l2 = None;
    let r = full(&c, &s, &reqs);
    assert_eq!(r.invalidations, 0);
    assert_eq!(r.staleness.stale_reads, 2);
    assert_eq!(r.l1.hits, 2);
    let fast = crate::fast::run_hit_ratio_only(&c, &s, reqs.iter().copied(), |_| {}).unwrap();
    assert_eq!((fast.invalidations, fast.l1.hits), (0, 2));
}

#[test]
fn write_behind_with_expiring_l2_reads_stale_from_l3() {
    let mut s = constant_sim();
    s.instances = 2;
    let mut c = cache(10);
    c.write.strategy = WriteStrategy::WriteBehind;
    c.write.flush_interval = Duration::from_secs(1);
    c.l2 = Some(L2Config { capacity: None, ttl: Some(Duration::from_millis(100)), ..L2Config::default() });
    let reqs = vec![
        set(0, 1),   // i0: caches + L2 now, L3 at ~1 s
        get(500, 1), // i1: L2 entry expired at 100 ms, L3 still old: stale
    ];
    let r = full(&c, &s, &reqs);
    assert_eq!(r.staleness.stale_reads, 1);
    assert_eq!(r.l2.unwrap().expirations, 1);
}

#[test]
fn refresh_ahead_reloads_in_the_background() {
    let mut c = cache(10);
    c.l1.ttl = Some(Duration::from_millis(100));
    c.refresh.enabled = true;
    c.refresh.threshold = 0.5;
    // loaded at 0 (stored at 2 ms); hit at 60 ms is past 52 ms: refresh;
    // the hit at 61 ms does not start another; at 105 ms the refreshed entry
    // (stored at 62 ms) is live and not yet due again.
    let reqs = vec![get(0, 1), get(60, 1), get(61, 1), get(105, 1)];
    let r = full(&c, &constant_sim(), &reqs);
    assert_eq!(r.refreshes, 1);
    assert_eq!(r.l3.refresh_reads, 1);
    assert_eq!(r.l1.hits, 3);
    assert_eq!(r.read_latency.unwrap().max_us, 2_001.0, "only the first get waited for L3");
    c.refresh.enabled = false;
    let r = full(&c, &constant_sim(), &reqs);
    assert_eq!((r.l1.hits, r.refreshes), (2, 0), "without refresh the entry expires at 102 ms");
}

#[test]
fn backpressure_parks_writes_until_a_flush_makes_room() {
    let mut c = cache(100);
    c.write.strategy = WriteStrategy::WriteBehind;
    c.write.batch_size = 2;
    c.write.queue_capacity = 2;
    let mut s = constant_sim();
    s.l3.concurrency = Some(1);
    // 2 keys → batch (in flight 3 ms); 2 more fill the queue; the 5th waits for the next batch
    let reqs: Vec<Request> = (0..5).map(|k| set(0, k)).collect();
    let r = full(&c, &s, &reqs);
    assert_eq!(r.write_queue.backpressure_waits, 1);
    assert_eq!(r.write_queue.failed, 0);
    assert_eq!(r.l3.write_ops, 5);
    assert_eq!(r.write_latency.unwrap().max_us, 3_001.0, "the parked write waited for the first batch");
}

#[test]
fn same_seed_same_bytes_other_seed_other_latencies_same_hits() {
    let reqs = skewed(20_000, 2_000, 1, 10);
    let mut c = cache(200);
    c.l2 = Some(L2Config { capacity: Some(Capacity::Entries(800)), ..L2Config::default() });
    // far apart: no overlap, so hits do not depend on timing
    let mut s = SimConfig { arrival: Arrival::Rate { per_sec: 1.0 }, ..SimConfig::default() };
    let a = full(&c, &s, &reqs).to_json();
    let b = full(&c, &s, &reqs).to_json();
    assert_eq!(a, b);
    s.seed += 1;
    let other = full(&c, &s, &reqs);
    let first: Report = serde_json::from_str(&a).unwrap();
    assert_ne!(first.read_latency, other.read_latency);
    assert_eq!(
        (first.l1.hits, first.l2.as_ref().unwrap().hits),
        (other.l1.hits, other.l2.as_ref().unwrap().hits)
    );
    assert_ne!(a, other.to_json());
}

#[test]
fn series_has_windows_and_peak_qps() {
    let mut s = constant_sim();
    s.window_ms = 100;
    let reqs: Vec<Request> = (0..1000).map(|i| get(i, i % 50)).collect();
    let r = full(&cache(100), &s, &reqs);
    assert_eq!(r.series.len(), 10, "1 s of arrivals in 100 ms windows");
    assert_eq!(r.series[0].l3_qps, 500.0);
    assert_eq!(r.l3.qps_peak, 500.0);
    assert_eq!(r.series[1].l1_hit_ratio, 1.0);
    assert_eq!(r.series.iter().map(|p| p.reads).sum::<u64>(), 1000);
}

#[test]
fn write_through_reordered_completions_are_not_stale() {
    // Writes of one key every 100 µs with L3 write latency uniform in
    // [0.1, 10] ms complete out of order; the last to complete is what L3
    // holds, and that is the newest committed value. As in the engine,
    // writes that overlapped another of their key cache nothing (the key
    // leaves L1): the get at 30 ms loads from L3 (until 32 ms), the one at
    // 31 ms joins that load, the 48 after hit L1.
    let mut s = constant_sim();
    s.latency.l3_write = LatencyConfig::Uniform { min_us: 100.0, max_us: 10_000.0 };
    let mut reqs: Vec<Request> = (0..200).map(|i| Request { time_ns: i * 100_000, ..set(0, 1) }).collect();
    reqs.extend((0..50).map(|i| get(30 + i, 1)));
    let r = full(&cache(10), &s, &reqs);
    assert_eq!(r.staleness.stale_reads, 0);
    assert_eq!((r.l3.reads, r.coalesced_loads, r.l1.hits), (1, 1, 48));
}

#[test]
fn write_back_writes_l3_in_order_and_coalesces_meanwhile() {
    // 200 puts of one key, 0.1 ms apart, with L3 writes of 0.1–10 ms. As the
    // engine's flusher, write-back writes a key once a turn (a turn's
    // writes go out at once, and the next turn waits for them), while later
    // puts coalesce in the queue: far fewer L3 writes than puts, landing in
    // order, so L3 ends with the newest value (the read from L3 after L1
    // forgets the key is fresh). Writing each put at once, in parallel, the
    // simulator made 200 writes and L3 kept whichever landed last (a stale
    // read the engine cannot produce).
    let mut s = constant_sim();
    s.latency.l3_write = LatencyConfig::Uniform { min_us: 100.0, max_us: 10_000.0 };
    let mut c = cache(1);
    c.write.strategy = WriteStrategy::WriteBack;
    let mut reqs: Vec<Request> = (0..200).map(|i| Request { time_ns: i * 100_000, ..set(0, 1) }).collect();
    reqs.push(get(40, 2)); // evicts key 1 from L1
    reqs.push(get(50, 1)); // from L3
    let r = full(&c, &s, &reqs);
    assert!((2..50).contains(&r.l3.write_requests), "{} L3 writes", r.l3.write_requests);
    assert_eq!(r.l3.write_requests + r.write_queue.coalesced, 200);
    assert_eq!(r.staleness.stale_reads, 0);
}

#[test]
fn write_behind_landed_batches_rewrite_l2_in_l3_order() {
    // Two instances put key 1 a millisecond apart; instance 1's batch
    // (filled by a second key) lands at 6 ms, instance 0's (by age) at
    // ~1 s, so L3 ends with instance 0's older value. Each landed batch is
    // written to L2 again and the other instance told, as the engine does:
    // both then read L3's value from L2, rather than the value L3 lost
    // until L2's TTL. By the order of the puts those reads are stale: the
    // later put's value is lost for good (write-behind across instances).
    let mut s = constant_sim();
    s.instances = 2;
    let mut c = cache(10);
    c.write.strategy = WriteStrategy::WriteBehind;
    c.write.batch_size = 2;
    c.write.flush_interval = Duration::from_secs(1);
    c.l2 = Some(L2Config { capacity: None, ..L2Config::default() });
    // round-robin: even requests on instance 0, odd on 1
    let reqs = vec![
        set(0, 1),    // i0: v1, queued (flushed by age at 1 s)
        set(1, 1),    // i1: v2, queued
        get(2, 99),   // i0
        set(3, 2),    // i1: its batch is full, lands at 6 ms
        get(2000, 1), // i0: told at 7 ms and at ~1 s; reads L2 = v1
        get(2001, 1), // i1: told at ~1 s; reads L2 = v1
    ];
    let r = full(&c, &s, &reqs);
    assert_eq!(r.l3.write_requests, 2);
    assert_eq!(r.l2.as_ref().unwrap().hits, 2, "both reads served by L2");
    assert_eq!(r.staleness.stale_reads, 2, "L3's value, older than the newest put");
}

/// A load overtaken by a write of its key answers its get but caches
/// nothing (the engine's single-flight marks it stale): neither its own
/// instance's write nor another's (by invalidation, through L2) is
/// overwritten by the older value the load read from L3.
#[test]
fn a_load_overtaken_by_a_write_caches_nothing() {
    let mut c = cache(10);
    c.write.strategy = WriteStrategy::WriteBack;
    // One instance: the load (0–2 ms) reads v0 from L3, the put at 1 ms
    // cached v1 and reaches L3 only at 4 ms.
    let reqs = vec![get(0, 1), set(1, 1), get(3, 1)];
    let r = full(&c, &constant_sim(), &reqs);
    assert_eq!(r.staleness.stale_reads, 0, "the load did not overwrite the put in L1");
    assert_eq!(r.l1.hits, 1);

    // Two instances (round-robin) with L2: i0's load (L2 miss at 0.5 ms,
    // L3 until 2.5 ms) learns of i1's put (1 ms) at 2 ms; i0's read at
    // 3 ms then misses L1 and finds i1's value in L2.
    let mut s = constant_sim();
    s.instances = 2;
    c.l2 = Some(L2Config { capacity: None, ttl: None, ..L2Config::default() });
    let reqs = vec![get(0, 1), set(1, 1), get(3, 1)];
    let r = full(&c, &s, &reqs);
    assert_eq!(r.staleness.stale_reads, 0, "neither L1 nor L2 took the load's older value");
    assert_eq!((r.l1.hits, r.l2.unwrap().hits), (0, 1));
}

/// Likewise a refresh-ahead overtaken by a write: the refresh (60–62 ms)
/// reads v0 from L3, the put at 61 ms cached v1 (in L3 at 64 ms).
#[test]
fn a_refresh_overtaken_by_a_write_caches_nothing() {
    let mut c = cache(10);
    c.write.strategy = WriteStrategy::WriteBack;
    c.l1.ttl = Some(Duration::from_millis(100));
    c.refresh.enabled = true;
    c.refresh.threshold = 0.5;
    let reqs = vec![get(0, 1), get(60, 1), set(61, 1), get(63, 1)];
    let r = full(&c, &constant_sim(), &reqs);
    assert_eq!(r.refreshes, 1);
    assert_eq!(r.staleness.stale_reads, 0, "the refresh did not overwrite the put");
    assert_eq!(r.l1.hits, 2);
}

/// A deleted key is absent from L3 until a put stores it again: its reads
/// load nothing and cache nothing (each goes to L3), as in the engine.
#[test]
fn reads_of_a_deleted_key_cache_nothing() {
    let c = cache(10);
    let reqs = vec![get(0, 1), req(5, 1, Op::Delete), get(10, 1), get(15, 1), set(20, 1), get(30, 1)];
    let r = full(&c, &constant_sim(), &reqs);
    assert_eq!(r.l3.reads, 3, "the first load and both reads of the deleted key");
    assert_eq!(r.l1.hits, 1, "only the read after the put");
    assert_eq!(r.staleness.stale_reads, 0);
}

/// Refresh-ahead loads as the engine's does, through the single-flight:
/// from L2 when it holds the key (no L3 read), and a get that misses while
/// it is in flight joins it rather than loading again.
#[test]
fn refresh_ahead_goes_through_l2_and_the_single_flight() {
    let mut c = cache(10);
    c.l1.ttl = Some(Duration::from_millis(100));
    c.refresh.enabled = true;
    c.refresh.threshold = 0.5;
    c.l2 = Some(L2Config { capacity: None, ttl: None, ..L2Config::default() });
    // Loaded at 2.5 ms (L2 miss, then L3); the hit at 60 ms is due: the
    // refresh finds the key in L2.
    let r = full(&c, &constant_sim(), &[get(0, 1), get(60, 1)]);
    assert_eq!((r.refreshes, r.l3.refresh_reads), (1, 0));
    assert_eq!(r.l2.unwrap().hits, 1);
    let fast = run_hit_ratio_only(&c, &constant_sim(), [get(0, 1), get(60, 1)], |_| {}).unwrap();
    assert_eq!((fast.refreshes, fast.l3.refresh_reads, fast.l2.unwrap().hits), (1, 0, 1));

    // Without L2: stored at 2 ms, expiring at 102 ms, due at 101 ms
    // (threshold 0.99); the refresh (101–103 ms) is in flight when the
    // entry expires, and the get at 102 ms joins it.
    c.l2 = None;
    c.refresh.threshold = 0.99;
    let r = full(&c, &constant_sim(), &[get(0, 1), get(101, 1), get(102, 1)]);
    assert_eq!((r.refreshes, r.l3.refresh_reads, r.l3.reads), (1, 1, 1));
    assert_eq!(r.coalesced_loads, 1);
}

/// A load fills L2 only if L2 holds nothing for the key (the engine's
/// `SET NX`): instance 0's load, which read the old value from L3, does
/// not overwrite instance 1's newer write in L2, so instance 2 reads the
/// new value there.
#[test]
fn loads_fill_l2_only_where_it_holds_nothing() {
    let mut s = constant_sim();
    s.instances = 3;
    s.latency.invalidation = LatencyConfig::constant(5_000.0);
    let mut c = cache(10);
    c.write.strategy = WriteStrategy::WriteBack;
    c.l2 = Some(L2Config { capacity: None, ttl: None, ..L2Config::default() });
    // i0 loads 0.5–2.5 ms (L3 still old: i1's write lands at 4 ms); i1
    // writes L2 at 1 ms; i2 reads L2 at 3 ms.
    let r = full(&c, &s, &[get(0, 1), set(1, 1), get(3, 1)]);
    assert_eq!(r.l2.unwrap().hits, 1);
    assert_eq!(r.staleness.stale_reads, 0);
}

/// A write-back turn has at most `WRITE_BACK_CONCURRENCY` (16) writes in
/// flight, as the engine's flusher: 40 puts of distinct keys 10 µs apart,
/// L3 writes of 3 ms. The first turn writes key 0 (0–3 ms); the second
/// takes the other 39 and writes them 16, 16 and 7 at a time: the last
/// lands at 12 ms (all at once they would land at 6 ms).
#[test]
fn write_back_turns_write_at_most_the_bound_at_once() {
    let mut c = cache(100);
    c.write.strategy = WriteStrategy::WriteBack;
    let reqs: Vec<Request> = (0..40).map(|k| Request { time_ns: k * 10_000, ..set(0, k) }).collect();
    let r = full(&c, &constant_sim(), &reqs);
    assert_eq!(r.l3.write_requests, 40);
    assert!((r.duration_s - 0.012).abs() < 1e-9, "last write lands at 12 ms, got {}", r.duration_s);
}

/// A write-through write during which another instance's invalidation
/// arrived caches nothing (the engine's remote epoch): L3's final order is
/// unknown to it. i1's write (1–4 ms) hears of i0's (0–3 ms, invalidation
/// 0.5 ms later) and drops the key; i1's read at 5 ms then loads.
#[test]
fn a_write_through_that_hears_of_another_write_caches_nothing() {
    let mut s = constant_sim();
    s.instances = 2;
    s.latency.invalidation = LatencyConfig::constant(500.0);
    let mut c = cache(10);
    c.l2 = Some(L2Config { capacity: None, ttl: None, ..L2Config::default() });
    let reqs = vec![set(0, 1), set(1, 1), get(2, 2), get(5, 1)];
    let r = full(&c, &s, &reqs);
    assert_eq!(r.l1.hits, 0, "i1 cached nothing");
    assert_eq!(r.staleness.stale_reads, 0);
}

mod deletes;
mod failures;
mod negative;

/// A trace without timestamps replayed with a simulator file that leaves
/// `arrival` unset (only a seed) arrives at 100,000 requests a second, as
/// with no file: the same report as an explicit rate. Before, its requests
/// were numbered 0, 1, 2 ns, all 2,000 gets fell within one 2 ms L3 read
/// and none hit L1.
#[test]
fn an_untimed_trace_arrives_at_the_default_rate_without_an_arrival_setting() {
    use crate::trace::{Compression, ReaderOptions, TraceFormat, TraceReader, UNTIMED_RATE_PER_SEC};
    let text: String = (0..2_000).map(|i| format!("key{}\n", i % 10)).collect();
    let read = || {
        TraceReader::new(
            text.as_bytes(),
            TraceFormat::Text,
            Compression::None,
            "t.txt",
            ReaderOptions::default(),
        )
        .map(Result::unwrap)
        .collect::<Vec<_>>()
    };
    let mut seed_only = SimConfig::from_toml_str("seed = 24301\n", "seedonly.toml").unwrap();
    seed_only.latency = constant_sim().latency;
    let rate =
        SimConfig { arrival: Arrival::Rate { per_sec: UNTIMED_RATE_PER_SEC as f64 }, ..seed_only.clone() };
    let a = full(&cache(100), &seed_only, &read());
    let b = full(&cache(100), &rate, &read());
    assert_eq!(a, b);
    // 200 requests a 2 ms load: the first 10 keys' first 20 rounds miss.
    assert_eq!(a.l1.hits, 2_000 - 200, "L1 hit {}", a.l1.hit_ratio);
    assert!((a.duration_s - 0.019_99).abs() < 1e-9, "the last arrival: {}", a.duration_s);
}
