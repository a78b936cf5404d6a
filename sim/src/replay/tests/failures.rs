//! L3 failures (`[l3] failure_rate`, `outages`): failed loads answer their
//! gets with an error and cache nothing; a failed write-through write is
//! reported and uncached; queued writes that fail go back to the queue and
//! are retried with the engine's backoff until they land — nothing lost —
//! or, once the trace has ended, until the shutdown deadline passes: what
//! is queued then is reported unwritten.

use super::*;
use crate::config::Outage;
use crate::replay::simulate;

fn down(start_ms: u64, duration_ms: u64) -> SimConfig {
    let mut s = constant_sim();
    s.l3.outages = vec![Outage { start_ms, duration_ms }];
    s
}

#[test]
fn a_failed_load_answers_with_an_error_and_caches_nothing() {
    let reqs = vec![get(0, 1), get(1, 1), get(20, 1), get(30, 1)];
    let r = full(&cache(10), &down(0, 10), &reqs);
    let f = &r.failures;
    assert_eq!((f.l3_errors, f.failed_reads), (1, 2), "the load and the get that joined it");
    assert_eq!((r.l3.reads, r.l1.hits), (2, 1), "loaded again at 20 ms, then cached");
    assert_eq!(r.read_latency.unwrap().count, 2, "errors are not timed");
}

#[test]
fn a_failed_write_through_write_is_reported_and_uncached() {
    // Loaded at 2 ms; the write at 6 ms fails at 9 ms: L3 keeps v0, L1 drops it.
    let reqs = vec![get(0, 1), set(6, 1), get(20, 1)];
    let r = full(&cache(10), &down(5, 5), &reqs);
    assert_eq!((r.failures.l3_errors, r.failures.write_errors), (1, 1));
    assert_eq!((r.l1.hits, r.l3.reads), (0, 2), "the key left L1 and was loaded again");
    assert_eq!(r.staleness.stale_reads, 0, "v0 is still what L3 holds");
    assert!(r.write_latency.is_none(), "errors are not timed");
}

/// A queued delete whose existence check fails returns the error and
/// queues nothing.
#[test]
fn a_failed_existence_check_deletes_nothing() {
    let mut c = cache(10);
    c.write.strategy = WriteStrategy::WriteBehind;
    let reqs = vec![req(0, 1, Op::Delete), get(20, 1), get(30, 1)];
    let r = full(&c, &down(0, 10), &reqs);
    assert_eq!((r.l3.exists_reads, r.failures.write_errors), (1, 1));
    assert_eq!(r.l3.write_ops, 0);
    assert_eq!(r.l1.hits, 1, "the key is still there: loaded, then cached");
}

/// Write-behind through a 100 ms outage: the batch is retried after
/// 10, 20, 40, 80 ms of backoff (not every flush interval) and lands.
#[test]
fn write_behind_backs_off_through_an_outage_and_lands() {
    let mut c = cache(10);
    c.write.strategy = WriteStrategy::WriteBehind;
    c.write.flush_interval = Duration::from_millis(5);
    let mut s = down(0, 100);
    s.instances = 2;
    // Round robin: the set on instance 0, the last get on instance 1 (from L3).
    let reqs = vec![set(0, 1), get(1, 2), get(300, 3), get(301, 1)];
    let r = full(&c, &s, &reqs);
    let f = &r.failures;
    // Attempts at 5, 18, 41, 84 ms fail (each 3 ms, then backoff, then the
    // batch's age); the one at 167 ms lands. The get at 1 ms fails too.
    assert_eq!((f.l3_errors, f.retried_writes, f.failed_reads), (5, 4, 1));
    assert_eq!(r.l3.write_requests, 5);
    assert_eq!(r.l3.write_ops, 1, "one write, counted when it lands");
    assert_eq!(r.write_queue.unflushed, 0);
    assert_eq!(r.staleness.stale_reads, 0, "instance 1 reads the write from L3");
    assert_eq!(r.l3.reads, 3, "the failed one, key 3, and key 1 on instance 1");
}

/// Random failures under every strategy, with L2: when the run ends, L3
/// holds every committed write — nothing was lost, nothing landed out of
/// order — and the same seed gives the same report. (One instance: with
/// several, the queued strategies' writes of one key land in L3 in flush
/// order, not write order, with or without failures; the report counts
/// the stale reads that follow.)
#[test]
fn random_failures_lose_no_write() {
    let reqs = skewed(4_000, 200, 1, 4);
    let mut reqs_with_deletes = reqs.clone();
    for r in reqs_with_deletes.iter_mut().skip(3).step_by(17) {
        r.op = Op::Delete;
    }
    for strategy in WriteStrategy::ALL {
        let mut c = cache(50);
        c.write.strategy = strategy;
        c.l2 = Some(L2Config { capacity: Some(Capacity::Entries(100)), ttl: None, ..L2Config::default() });
        let mut s = constant_sim();
        s.l3.failure_rate = 0.2;
        let sim = simulate(&c, &s, reqs_with_deletes.iter().copied(), |_| {}).unwrap();
        let f = sim.c;
        assert!(f.l3_errors > 100, "{strategy:?}: {}", f.l3_errors);
        for inst in &sim.inst {
            assert!(inst.queue.is_empty(), "{strategy:?}: drained ({} left)", inst.queue.len());
            assert!(inst.own_writes.is_empty(), "{strategy:?}: {} pending", inst.own_writes.len());
        }
        for key in 0..200 {
            let (version, _) = sim.l3.read(key);
            assert_eq!(version, sim.truth.committed(key), "{strategy:?}: key {key}");
        }
        s.instances = 3;
        let a = full(&c, &s, &reqs_with_deletes);
        let b = full(&c, &s, &reqs_with_deletes);
        assert_eq!(a, b, "{strategy:?}: deterministic");
        if strategy == WriteStrategy::WriteThrough {
            assert!(a.failures.write_errors > 0);
        } else {
            assert!(a.failures.retried_writes > 0);
        }
    }
}

/// Runs `f` on a thread and fails the test if it has not returned within
/// `secs` (a replay that never ends would hang the suite).
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs)).expect("the replay did not end")
}

/// L3 always fails and the trace is one set: the queued strategies retry
/// it with the flusher's backoff after the trace ends (the application's
/// shutdown) while the next try comes before the deadline, then stop and
/// report the write unwritten. Before, the end-of-trace drain retried
/// every 2 s forever, growing the time series without bound.
#[test]
fn a_write_l3_never_takes_is_unflushed_at_the_shutdown_deadline() {
    for strategy in [WriteStrategy::WriteBehind, WriteStrategy::WriteBack] {
        let mut c = cache(10);
        c.write.strategy = strategy;
        let mut s = constant_sim();
        s.l3.failure_rate = 1.0;
        s.shutdown_ms = 5_000;
        let r = within(20, move || full(&c, &s, &[set(0, 1)]));
        // Tries at 0, 13, 36, 79, 162, 325, 648, 1291, 2574, 4577 ms (3 ms
        // each, then 10, 20, ... 2000 ms of backoff); the next would come
        // at 6580 ms, past the deadline at 5000 ms.
        let (f, w) = (&r.failures, &r.write_queue);
        assert_eq!((r.writes, r.l3.write_ops, r.l3.write_requests), (1, 0, 10), "{strategy:?}");
        assert_eq!((f.l3_errors, f.retried_writes, f.write_errors), (10, 10, 0), "{strategy:?}");
        assert_eq!((w.unflushed, w.failed), (1, 0), "{strategy:?}");
        assert!((r.duration_s - 4.580).abs() < 1e-9, "{strategy:?}: {}", r.duration_s);
        assert!(r.series.len() <= 5, "{strategy:?}: {} windows", r.series.len());
        let table = r.to_table();
        assert!(table.contains("1 queued writes never reached L3"), "{table}");
        assert!(table.contains("10 failed attempts of queued writes"), "{table}");
    }
}

/// Shutdown flushes what is queued at once (the engine's `shutdown()`),
/// not when the batch's age would have: a flush interval longer than the
/// shutdown deadline still gets its writes into L3.
#[test]
fn shutdown_flushes_at_once() {
    let mut c = cache(10);
    c.write.strategy = WriteStrategy::WriteBehind;
    c.write.flush_interval = Duration::from_secs(600);
    let mut s = constant_sim();
    s.shutdown_ms = 1_000;
    let r = full(&c, &s, &[set(0, 1), set(5, 2)]);
    assert_eq!((r.l3.write_ops, r.l3.write_requests, r.write_queue.unflushed), (2, 1, 0));
    assert!((r.duration_s - 0.008).abs() < 1e-9, "flushed at 5 ms: {}", r.duration_s);
}
