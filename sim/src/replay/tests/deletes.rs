//! Deletes under the queued strategies: the existence check a `delete`
//! makes in L3 (its return value) when neither its pending writes nor L1
//! know, and the invalidation messages each strategy sends, in the full
//! replay and the fast loop alike.

use super::*;

fn delete(t_ms: u64, key: u64) -> Request {
    req(t_ms, key, Op::Delete)
}

#[test]
fn queued_deletes_ask_l3_only_what_nothing_else_knows() {
    let reqs = vec![
        get(0, 1),     // key 1 in L1 from 2 ms
        delete(10, 1), // L1 knows: no check
        delete(20, 2), // nobody knows: an L3 read (2 ms), then queued
        set(30, 3),
        delete(31, 3), // its pending put knows: no check
    ];
    for strategy in [WriteStrategy::WriteBack, WriteStrategy::WriteBehind] {
        let mut c = cache(10);
        c.write.strategy = strategy;
        let r = full(&c, &constant_sim(), &reqs);
        assert_eq!((r.l3.reads, r.l3.exists_reads), (1, 1), "{strategy:?}");
        assert_eq!(r.l3.requests, 2 + r.l3.write_requests, "{strategy:?}: the check is an L3 request");
        assert_eq!(r.write_latency.unwrap().max_us, 2_001.0, "{strategy:?}: the delete waits for its check");
        let fast = run_hit_ratio_only(&c, &constant_sim(), reqs.iter().copied(), |_| {}).unwrap();
        assert_eq!(fast.l3.exists_reads, 1, "{strategy:?}");
    }
    // Write-through returns what L3's own delete says: no extra read.
    let r = full(&cache(10), &constant_sim(), &reqs);
    assert_eq!(r.l3.exists_reads, 0);
    let fast = run_hit_ratio_only(&cache(10), &constant_sim(), reqs.iter().copied(), |_| {}).unwrap();
    assert_eq!(fast.l3.exists_reads, 0);
}

/// A put of a key whose delete is still asking L3 overlaps the delete's
/// write ticket and, as in the engine, caches nothing; a read then finds
/// it pending (and caches it as a load would).
#[test]
fn a_put_during_a_deletes_check_caches_nothing() {
    let mut c = cache(10);
    c.write.strategy = WriteStrategy::WriteBack;
    let reqs = vec![delete(0, 1), set(1, 1), get(1, 1), get(50, 1)];
    let r = full(&c, &constant_sim(), &reqs);
    assert_eq!(r.l3.exists_reads, 1);
    assert_eq!((r.l1.hits, r.pending_write_reads), (0, 1));
    // The delete was queued after the put (its check ended at 2 ms): the
    // key ends deleted, and the last read loads nothing.
    assert_eq!(r.l3.reads, 1);
    assert_eq!(r.staleness.stale_reads, 0);
}

/// Each write tells every other instance once (write-through) or twice
/// (queued: when made and when landed); both loops count the messages.
#[test]
fn invalidation_messages_alike_in_both_loops() {
    let mut s = constant_sim();
    s.instances = 3;
    let reqs: Vec<Request> =
        (0..30).map(|i| if i % 3 == 0 { set(i * 20, i % 4) } else { get(i * 20, i % 4) }).collect();
    for (strategy, per_write) in
        [(WriteStrategy::WriteThrough, 2), (WriteStrategy::WriteBack, 4), (WriteStrategy::WriteBehind, 4)]
    {
        let mut c = cache(10);
        c.write.strategy = strategy;
        c.write.flush_interval = Duration::from_millis(5);
        c.l2 = Some(L2Config { capacity: None, ttl: None, ..L2Config::default() });
        let r = full(&c, &s, &reqs);
        let fast = run_hit_ratio_only(&c, &s, reqs.iter().copied(), |_| {}).unwrap();
        assert_eq!(r.invalidations, 10 * per_write, "{strategy:?}");
        assert_eq!(fast.invalidations, r.invalidations, "{strategy:?}");
    }
}

/// A delete leaves a tombstone in L2, as the engine's: a load that read
/// the old value from L3 before the delete landed cannot put it back
/// (`SET NX`), so other instances do not find it in L2.
#[test]
fn a_deletes_tombstone_keeps_a_racing_load_out_of_l2() {
    let mut s = constant_sim();
    s.instances = 4;
    s.latency.l3_write = LatencyConfig::constant(10_000.0);
    s.latency.invalidation = LatencyConfig::constant(5_000.0);
    let mut c = cache(10);
    c.write.strategy = WriteStrategy::WriteBack;
    c.l2 = Some(L2Config { capacity: None, ttl: None, ..L2Config::default() });
    // Round robin: one request per instance.
    let reqs = vec![
        get(0, 1),     // i0: v0 into L2 at 2.5 ms
        delete(10, 1), // i1: checked 10-12 ms, tombstone at 12, lands in L3 at 22
        get(13, 1),    // i2: tombstone, loads v0 from L3 (13.5-15.5): SET NX finds the tombstone
        get(16, 1),    // i3: L2 has no v0 to give it: to L3 again
    ];
    let r = full(&c, &s, &reqs);
    assert_eq!(r.l3.exists_reads, 1);
    assert_eq!(r.l2.unwrap().hits, 0, "the load did not resurrect the key in L2");
    assert_eq!(r.l3.reads, 3);
}
