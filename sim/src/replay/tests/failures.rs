//! L3 failures (`[l3] failure_rate`, `outages`): failed loads answer their
//! gets with an error and cache nothing; a failed write-through write is
//! reported and uncached; queued writes that fail are retried as the
//! engine's flusher retries them (a failed write-behind batch one write at
//! a time, a write that fails alone from the back of the queue, with the
//! engine's backoff when a turn landed nothing) until they land — nothing
//! lost — or, once the trace has ended, until the shutdown deadline
//! passes: what is queued then is reported unwritten.

use super::*;
use crate::arrival::{Arrivals, Router};
use crate::config::Outage;
use crate::replay::simulate;
use crate::replay::state::Sim;
use crate::tier::L2Lookup;

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

/// Replays `reqs` as [`simulate`] does, without the shutdown at the end of
/// the trace, and stops after the events and arrivals up to `until_ms`:
/// the state of the simulation at that moment.
fn run_until(c: &CacheConfig, s: &SimConfig, reqs: &[Request], until_ms: u64) -> Sim {
    let mut sim = Sim::new(c, s).unwrap();
    let mut arrivals = Arrivals::new(s.arrival);
    let mut router = Router::for_sim(s);
    for r in reqs {
        let at = arrivals.next(r.time_ns);
        if at > until_ms * MS {
            break;
        }
        while sim.events.peek_time().is_some_and(|t| t <= at) {
            sim.step_event();
        }
        sim.advance(at);
        sim.arrive(r, &mut router);
    }
    while sim.events.peek_time().is_some_and(|t| t <= until_ms * MS) {
        sim.step_event();
    }
    sim
}

/// The keys instance `i` has queued, in queue order.
fn queued(sim: &Sim, i: usize) -> Vec<u64> {
    sim.inst[i].queue.keys().copied().collect()
}

/// Whether L3 holds the latest committed write of `key`.
fn landed(sim: &Sim, key: u64) -> bool {
    sim.l3.read(key).0 == sim.truth.committed(key) && sim.truth.committed(key) > 0
}

fn write_behind(flush_interval_ms: u64) -> CacheConfig {
    let mut c = cache(10);
    c.write.strategy = WriteStrategy::WriteBehind;
    c.write.flush_interval = Duration::from_millis(flush_interval_ms);
    c
}

fn outages(windows: &[(u64, u64)]) -> SimConfig {
    let mut s = constant_sim();
    s.l3.outages = windows.iter().map(|&(start_ms, duration_ms)| Outage { start_ms, duration_ms }).collect();
    s
}

/// A write-behind batch whose call fails while L3 takes single writes (an
/// outage timed to the batch) is written again at once, one write at a
/// time, as the engine's flusher does (`isolate.rs`): every write lands,
/// the flusher stays busy until the last, does not back off, and each
/// call counts. Before, the batch went back to the queue and was retried
/// whole after a 10 ms backoff.
#[test]
fn a_failed_batch_is_written_again_one_write_at_a_time() {
    let c = write_behind(5);
    // The batch of 1, 2, 3 starts at 5 ms (the age of the first) and fails
    // at 8 ms; the single writes run 8–11, 11–14, 14–17 ms.
    let s = outages(&[(5, 1)]);
    let reqs = [set(0, 1), set(1, 2), set(2, 3), get(100, 9)];
    let sim = run_until(&c, &s, &reqs, 16);
    assert!(landed(&sim, 1) && landed(&sim, 2) && !landed(&sim, 3), "one at a time, in order");
    assert_eq!(sim.inst[0].in_flight, 1, "the flusher is busy until the pass ends");
    let sim = run_until(&c, &s, &reqs, 17);
    assert!((1..=3).all(|k| landed(&sim, k)));
    assert_eq!(sim.inst[0].in_flight, 0);
    assert_eq!((sim.inst[0].backoff, sim.inst[0].retry_at), (Duration::ZERO, 0), "no backoff: writes landed");

    let r = full(&c, &s, &reqs);
    assert_eq!(
        (r.l3.write_requests, r.l3.write_ops, r.failures.l3_errors),
        (4, 3, 1),
        "the batch, then 3 alone"
    );
    assert_eq!(r.failures.retried_writes, 3, "the failed batch held 3 writes");
    let w = &r.write_queue;
    assert_eq!((w.batches, w.unflushed), (4, 0));
    let b = w.batch_size.as_ref().unwrap();
    assert_eq!((b.max, b.p50), (3, 1), "the single writes count as batches of 1");
}

/// While L3 is down, a failed write-behind batch costs two more calls (two
/// writes tried alone, then L3 counts as down: the engine's `DOWN_AFTER`),
/// not one per write. The two go to the back of the queue, the untried
/// ones stay at its front, and the flusher's backoff grows.
#[test]
fn an_outage_costs_a_batch_and_two_single_writes_a_try() {
    let mut c = write_behind(5);
    c.write.batch_size = 5;
    let mut s = constant_sim();
    s.l3.failure_rate = 1.0;
    s.shutdown_ms = 5_000;
    let reqs: Vec<Request> = (1..=5).map(|k| set(k - 1, k)).collect();
    // The batch (due by size at 4 ms) fails at 7 ms, 1 alone at 10, 2 alone at 13.
    let sim = run_until(&c, &s, &reqs, 13);
    assert_eq!(queued(&sim, 0), vec![3, 4, 5, 1, 2]);
    assert_eq!((sim.c.l3_write_requests, sim.c.l3_errors, sim.c.retried_writes), (3, 3, 7));
    assert_eq!((sim.inst[0].backoff, sim.inst[0].retry_at), (Duration::from_millis(10), 23 * MS));
    // Tried again at 23 ms: 3 and 4 fail alone, 5 waits at the front.
    let sim = run_until(&c, &s, &reqs, 32);
    assert_eq!(queued(&sim, 0), vec![5, 1, 2, 3, 4]);
    assert_eq!((sim.c.l3_write_requests, sim.c.retried_writes), (6, 14));
    assert_eq!((sim.inst[0].backoff, sim.inst[0].retry_at), (Duration::from_millis(20), 52 * MS));

    // Tries at 4, 23, 52, 101, 190, 359, 688, 1337, 2626, 4635 ms, 9 ms
    // each; the next would come at 6644 ms, past the deadline at 5004 ms.
    let r = full(&c, &s, &reqs);
    assert_eq!((r.l3.write_requests, r.l3.write_ops, r.failures.l3_errors), (30, 0, 30));
    assert_eq!((r.failures.retried_writes, r.write_queue.unflushed), (70, 5));
    assert!((r.duration_s - 4.644).abs() < 1e-9, "{}", r.duration_s);

    // No call starts at or after the shutdown deadline (9 ms): 1 is tried
    // alone at 7 ms, the rest is left untried, and all of it unflushed.
    s.shutdown_ms = 5;
    let r = full(&c, &s, &reqs);
    assert_eq!((r.l3.write_requests, r.failures.retried_writes, r.write_queue.unflushed), (2, 6, 5));
    assert!((r.duration_s - 0.010).abs() < 1e-9, "{}", r.duration_s);
}

/// Write-back: a write whose call fails goes to the back of the queue, so
/// a write of another key queued after it lands first (L3 serves one call
/// at a time here).
#[test]
fn write_back_puts_a_failed_write_at_the_back_of_the_queue() {
    let mut c = cache(10);
    c.write.strategy = WriteStrategy::WriteBack;
    let mut s = outages(&[(0, 1)]);
    s.l3.concurrency = Some(1);
    // 1 fails at 3 ms, behind 2 (queued at 1 ms); after the 10 ms backoff
    // the turn writes 2 (13–16 ms), then 1 (16–19 ms).
    let reqs = [set(0, 1), set(1, 2), get(100, 9)];
    let sim = run_until(&c, &s, &reqs, 3);
    assert_eq!(queued(&sim, 0), vec![2, 1]);
    assert_eq!(sim.inst[0].backoff, Duration::from_millis(10), "nothing landed: backs off");
    let sim = run_until(&c, &s, &reqs, 16);
    assert!(landed(&sim, 2) && !landed(&sim, 1));
    let sim = run_until(&c, &s, &reqs, 19);
    assert!(landed(&sim, 1));
    let r = full(&c, &s, &reqs);
    assert_eq!((r.l3.write_requests, r.l3.write_ops, r.failures.retried_writes), (3, 2, 1));
}

/// The writes of a turn that landed are written to L2 again (and the
/// other instances told) even when other writes of the turn failed, as
/// the engine's `l2_after_flush(landed)`; the flusher does not back off.
/// L2's TTL (5 ms) has dropped the values the writes put there.
#[test]
fn landed_writes_of_a_partly_failed_turn_are_written_to_l2_again() {
    let l2 = Some(L2Config { capacity: None, ttl: Some(Duration::from_millis(5)), ..L2Config::default() });
    let in_l2 = |sim: &mut Sim, key: u64| {
        let (hash, now, version) = (sim.hash(key), sim.instant(), sim.truth.committed(key));
        sim.l2.as_mut().unwrap().get(hash, key, now) == L2Lookup::Hit(version)
    };

    // Write-behind: the batch (5–8 ms) and 1 alone (8–11 ms) fail; 2 and 3
    // land at 14 and 17 ms.
    let mut c = write_behind(5);
    c.l2.clone_from(&l2);
    let s = outages(&[(5, 1), (8, 1)]);
    let reqs = [set(0, 1), set(1, 2), set(2, 3), get(100, 9)];
    let mut sim = run_until(&c, &s, &reqs, 17);
    assert!(in_l2(&mut sim, 2) && in_l2(&mut sim, 3) && !in_l2(&mut sim, 1));
    assert_eq!(queued(&sim, 0), vec![1], "1 waits at the back of the queue");
    assert_eq!(sim.inst[0].backoff, Duration::ZERO);

    // Write-back: 0 alone (0–3 ms), then a turn of 1 and 2 (L3 serves one
    // call at a time): 1 fails (3–6 ms), 2 lands at 9 ms.
    let mut c = cache(10);
    c.write.strategy = WriteStrategy::WriteBack;
    c.l2 = l2;
    let mut s = outages(&[(3, 1)]);
    s.l3.concurrency = Some(1);
    let reqs = [set(0, 0), set(1, 1), set(1, 2), get(100, 9)];
    let mut sim = run_until(&c, &s, &reqs, 9);
    assert!(in_l2(&mut sim, 2) && !in_l2(&mut sim, 1));
    assert_eq!(sim.inst[0].backoff, Duration::ZERO);
    assert_eq!(sim.inst[0].in_flight, 1, "1 is tried again at once");
    let r = full(&c, &s, &reqs);
    assert_eq!((r.l3.write_ops, r.failures.retried_writes, r.write_queue.unflushed), (3, 1, 0));
}
