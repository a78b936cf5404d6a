//! Negative caching (`l1.negative_ttl_ms`, `l2.negative_ttl_ms`) in the
//! full replay and the fast loop: a read that finds a key absent leaves a
//! marker in L1 (and in L2, where it holds nothing for the key), later
//! reads are hits without L3 until it expires or a write replaces it, and
//! a marker another instance's write outdates is read stale.

use super::*;

fn delete(t_ms: u64, key: u64) -> Request {
    req(t_ms, key, Op::Delete)
}

fn negative(ms: u64) -> CacheConfig {
    let mut c = cache(10);
    c.l1.negative_ttl = Some(Duration::from_millis(ms));
    c
}

#[test]
fn a_key_found_absent_is_remembered_until_the_ttl_or_a_write() {
    let reqs = vec![
        get(0, 1),
        delete(5, 1),
        get(10, 1),  // L3: absent; the marker from 12 ms
        get(20, 1),  // negative hit
        get(30, 1),  // negative hit
        get(200, 1), // the marker (100 ms) expired: L3 again, a new marker
        get(210, 1), // negative hit
        set(220, 1), // replaces it
        get(230, 1), // a value hit
    ];
    let r = full(&negative(100), &constant_sim(), &reqs);
    assert_eq!(r.l3.reads, 3, "the first load and the two reads of the absent key");
    assert_eq!((r.l1.hits, r.negative_hits), (4, 3));
    assert_eq!(r.staleness.stale_reads, 0);
    let fast = run_hit_ratio_only(&negative(100), &constant_sim(), reqs.iter().copied(), |_| {}).unwrap();
    assert_eq!((fast.l1.hits, fast.negative_hits, fast.l3.reads), (4, 3, 3));
    // Off, every read of the deleted key goes to L3.
    let r = full(&cache(10), &constant_sim(), &reqs);
    assert_eq!((r.l3.reads, r.l1.hits, r.negative_hits), (6, 1, 0));
}

#[test]
fn a_pending_delete_is_remembered_as_absent() {
    for strategy in [WriteStrategy::WriteBack, WriteStrategy::WriteBehind] {
        let mut c = negative(1000);
        c.write.strategy = strategy;
        c.write.flush_interval = Duration::from_millis(500);
        let reqs = vec![set(0, 1), get(1, 1), delete(2, 1), get(3, 1), get(4, 1)];
        let r = full(&c, &constant_sim(), &reqs);
        // The delete drops L1's value; the read after it finds the pending
        // delete (no L3 read) and leaves the marker the next read hits.
        assert_eq!((r.pending_write_reads, r.negative_hits, r.l3.reads), (1, 1, 0), "{strategy:?}");
        assert_eq!(r.l1.hits, 2, "{strategy:?}");
    }
}

#[test]
fn another_instances_write_makes_a_marker_stale_without_l2() {
    // Two instances, round robin: instance 0 remembers key 1 absent,
    // instance 1 sets it; without L2 instance 0 never hears of it.
    let mut s = constant_sim();
    s.instances = 2;
    s.routing = crate::config::Routing::RoundRobin;
    let reqs = vec![delete(0, 1), get(1, 1), get(10, 1), set(20, 1), get(30, 1)];
    let r = full(&negative(10_000), &s, &reqs);
    assert_eq!(r.negative_hits, 1, "instance 0's marker answers at 30 ms");
    assert_eq!(r.staleness.stale_reads, 1, "though instance 1 set the key at 20 ms");
}

#[test]
fn markers_weigh_their_key_and_marker_and_start_no_refresh() {
    let mut c = negative(1000);
    c.l1.capacity = Capacity::Bytes(100);
    c.l1.ttl = Some(Duration::from_millis(1000));
    c.refresh.enabled = true;
    // Three markers (24 bytes each) fit in 100 bytes.
    let reqs = vec![
        delete(0, 1),
        delete(1, 2),
        delete(2, 3),
        get(10, 1),
        get(11, 2),
        get(12, 3),
        get(900, 1), // 0.9 of the TTL: a value would be refreshed, a marker is not
        get(901, 2),
        get(902, 3),
    ];
    let r = full(&c, &constant_sim(), &reqs);
    assert_eq!((r.negative_hits, r.refreshes), (3, 0));
    let fast = run_hit_ratio_only(&c, &constant_sim(), reqs.iter().copied(), |_| {}).unwrap();
    assert_eq!((fast.negative_hits, fast.refreshes), (3, 0));
}

/// L2 with absent-key markers for `negative_ms` (`l2.negative_ttl_ms`) and
/// a tier TTL of `ttl_ms` (tombstones last as long, at most 10 s).
fn l2_negative(ttl_ms: Option<u64>, negative_ms: Option<u64>) -> CacheConfig {
    let mut c = cache(10);
    c.l2 = Some(L2Config {
        capacity: None,
        ttl: ttl_ms.map(Duration::from_millis),
        negative_ttl: negative_ms.map(Duration::from_millis),
        ..L2Config::default()
    });
    c
}

/// Two instances, round robin: even requests on instance 0, odd on 1.
fn two_instances() -> SimConfig {
    let mut s = constant_sim();
    s.instances = 2;
    s.routing = crate::config::Routing::RoundRobin;
    s
}

/// `reqs` through the full replay and the fast loop.
fn both(c: &CacheConfig, s: &SimConfig, reqs: &[Request]) -> (Report, Report) {
    (full(c, s, reqs), run_hit_ratio_only(c, s, reqs.iter().copied(), |_| {}).unwrap())
}

/// L2 hits, L2 misses, L2 hits on markers, L3 reads.
fn l2_counts(r: &Report) -> (u64, u64, u64, u64) {
    let l2 = r.l2.as_ref().unwrap();
    (l2.hits, l2.misses, r.l2_negative_hits, r.l3.reads)
}

#[test]
fn an_l2_marker_answers_other_instances_without_l3_until_a_set() {
    let reqs = vec![
        delete(0, 1), // i0: a tombstone in L2 (20 ms, the tier's TTL)
        get(30, 1),   // i1: L3 finds it absent: a marker in L2
        get(40, 1),   // i0: the marker, no L3 read
        get(50, 1),   // i1: the marker too (no L1 marker without l1.negative_ttl)
        set(60, 1),   // i0: overwrites the marker
        get(70, 1),   // i1: the value, from L2
    ];
    // The marker lives 1 s, past the tier's 20 ms.
    let (r, fast) = both(&l2_negative(Some(20), Some(1000)), &two_instances(), &reqs);
    assert_eq!(l2_counts(&r), (3, 1, 2, 1));
    assert_eq!(l2_counts(&fast), (3, 1, 2, 1));
    assert_eq!(r.staleness.stale_reads, 0, "the marker answers with the delete's version");
    assert_eq!((r.l1.hits, r.negative_hits), (0, 0));
    assert!(r.to_table().contains("L2 hits on keys remembered absent 2"));
    assert!(r.to_json().contains("\"l2_negative_hits\": 2"));
    // Off, both reads of the absent key go to L3, and the report is as before.
    let (r, fast) = both(&l2_negative(Some(20), None), &two_instances(), &reqs);
    assert_eq!(l2_counts(&r), (1, 3, 0, 3));
    assert_eq!(l2_counts(&fast), (1, 3, 0, 3));
    assert!(!r.to_table().contains("L2 hits on keys remembered absent"));
    assert!(!r.to_json().contains("l2_negative_hits"));
}

#[test]
fn an_l2_marker_expires_after_the_negative_ttl() {
    let reqs = vec![
        delete(0, 1),
        get(30, 1),  // i1: L3, a marker until 130 ms
        get(40, 1),  // i0: the marker
        get(200, 1), // i1: expired: L3 again, a new marker
        get(210, 1), // i0: the new marker
    ];
    let (r, fast) = both(&l2_negative(Some(20), Some(100)), &two_instances(), &reqs);
    assert_eq!(l2_counts(&r), (2, 2, 2, 2));
    assert_eq!(l2_counts(&fast), (2, 2, 2, 2));
    assert_eq!(r.staleness.stale_reads, 0);
}

/// With L2 markers, a delete's tombstone says "absent" too (at the
/// delete's version), for its 10 s; then markers take over. Without them it
/// is a miss.
#[test]
fn a_tombstone_reads_as_absent_with_l2_negative_caching() {
    // No tier TTL: the delete's tombstone lasts 10 s.
    let reqs = vec![
        delete(0, 1),
        get(30, 1),     // i1: the tombstone: absent, no L3 read
        get(40, 1),     // i0: the tombstone
        get(50, 1),     // i1: the tombstone
        get(10_100, 1), // i0: the tombstone expired: L3, now a marker
        get(10_110, 1), // i1: the marker
    ];
    let (r, fast) = both(&l2_negative(None, Some(60_000)), &two_instances(), &reqs);
    assert_eq!(l2_counts(&r), (4, 1, 4, 1));
    assert_eq!(l2_counts(&fast), (4, 1, 4, 1));
    assert_eq!(r.staleness.stale_reads, 0, "the tombstone answers with the delete's version");
    let (r, fast) = both(&l2_negative(None, None), &two_instances(), &reqs);
    assert_eq!(l2_counts(&r), (0, 5, 0, 5));
    assert_eq!(l2_counts(&fast), (0, 5, 0, 5));
}

#[test]
fn an_l2_marker_leaves_an_l1_marker_with_l1_negative_caching() {
    let mut c = l2_negative(Some(20), Some(1000));
    c.l1.negative_ttl = Some(Duration::from_millis(1000));
    let reqs = vec![
        delete(0, 1),
        get(30, 1), // i1: L3: markers in L2 and in i1's L1
        get(40, 1), // i0: L2's marker; a marker in i0's L1
        get(50, 1), // i1: its L1 marker
        get(60, 1), // i0: its L1 marker
    ];
    let (r, fast) = both(&c, &two_instances(), &reqs);
    assert_eq!(l2_counts(&r), (1, 1, 1, 1));
    assert_eq!(l2_counts(&fast), (1, 1, 1, 1));
    assert_eq!((r.l1.hits, r.negative_hits), (2, 2));
    assert_eq!((fast.l1.hits, fast.negative_hits), (2, 2));
    assert_eq!(r.staleness.stale_reads, 0, "i0's L1 marker carries the delete's version");
    // L1 markers alone: i0 asks L3 too.
    c.l2.as_mut().unwrap().negative_ttl = None;
    let (r, fast) = both(&c, &two_instances(), &reqs);
    assert_eq!(l2_counts(&r), (0, 2, 0, 2));
    assert_eq!(l2_counts(&fast), (0, 2, 0, 2));
    assert_eq!((r.negative_hits, fast.negative_hits), (2, 2));
}

/// A refresh-ahead that finds L2's marker loads nothing from L3: L1
/// remembers the key absent (with `l1.negative_ttl_ms`), else keeps its
/// value. (Full replay only: in the fast loop a delete reaches every L1
/// at once, so no L1 holds a value while L2 holds a marker.)
#[test]
fn a_refresh_that_finds_an_l2_marker_reads_no_l3() {
    let mut s = two_instances();
    s.latency.invalidation = LatencyConfig::constant(200_000.0);
    let mut c = l2_negative(Some(20), Some(1000));
    c.l1.ttl = Some(Duration::from_millis(100));
    c.l1.negative_ttl = Some(Duration::from_millis(1000));
    c.refresh.enabled = true;
    c.refresh.threshold = 0.9;
    let reqs = vec![
        get(0, 1),     // i0: loaded at 2.5 ms, due for refresh at 92.5 ms
        delete(10, 1), // i1: in L3 at 13 ms; i0 hears of it at 213 ms
        get(50, 1),    // i0: its old value (stale), not due
        get(60, 1),    // i1: L3 finds it absent: markers in L2 and i1's L1
        get(95, 1),    // i0: old value (stale), due: the refresh finds L2's marker
        get(96, 1),    // i1: its L1 marker
        get(100, 1),   // i0: the L1 marker the refresh left
    ];
    let r = full(&c, &s, &reqs);
    assert_eq!((r.refreshes, r.l3.refresh_reads, r.l3.reads), (1, 0, 2));
    assert_eq!(r.l2_negative_hits, 1);
    assert_eq!((r.l1.hits, r.negative_hits), (4, 2));
    assert_eq!(r.staleness.stale_reads, 2, "only i0's reads of its old value");
    // Without L1 markers the refresh stores nothing: i0 keeps its old
    // value (read stale at 100 ms, and refreshed again from the marker),
    // and i1 reads L2's marker at 96 ms.
    c.l1.negative_ttl = None;
    let r = full(&c, &s, &reqs);
    assert_eq!((r.refreshes, r.l3.refresh_reads, r.l3.reads, r.l2_negative_hits), (2, 0, 2, 3));
    assert_eq!((r.negative_hits, r.staleness.stale_reads), (0, 3));
}
