//! Negative caching (`l1.negative_ttl_ms`) in the full replay and the fast
//! loop: a read that finds a key absent leaves a marker in L1, later reads
//! are L1 hits without L3 until it expires or a write replaces it, and a
//! marker another instance's write outdates is read stale.

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
