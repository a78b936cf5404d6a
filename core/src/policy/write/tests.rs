//! Tests of the write plan and the write-behind queue.

use super::*;

fn at(ms: u64) -> Instant {
    Instant::from_nanos(ms * 1_000_000)
}

fn q() -> WriteBehindQueue<u32, u32> {
    WriteBehindQueue::new(3, Duration::from_millis(10), 5)
}

#[test]
fn coalesces_and_keeps_position() {
    let mut q = q();
    assert_eq!(q.push(1, PendingOp::Put(10), at(0)), Enqueued::New);
    assert_eq!(q.push(2, PendingOp::Put(20), at(0)), Enqueued::New);
    assert_eq!(q.push(1, PendingOp::Put(11), at(1)), Enqueued::Coalesced);
    assert_eq!(q.get(&1), Some(&PendingOp::Put(11)));
    assert_eq!(q.take_batch(), vec![(1, PendingOp::Put(11)), (2, PendingOp::Put(20))]);
    assert_eq!(q.coalesced(), 1);
    assert!(q.is_empty());
}

#[test]
fn due_by_size_or_age() {
    let mut q = q();
    q.push(1, PendingOp::Put(1), at(0));
    assert!(!q.is_due(at(9)));
    assert!(q.is_due(at(10)));
    assert_eq!(q.next_deadline(), Some(at(10)));
    q.push(2, PendingOp::Put(2), at(5));
    q.push(3, PendingOp::Delete, at(5));
    assert!(q.is_due(at(5)));
}

#[test]
fn full_queue_refuses_new_keys_but_coalesces() {
    let mut q = q();
    for k in 0..5 {
        assert_eq!(q.push(k, PendingOp::Put(k), at(0)), Enqueued::New);
    }
    assert!(q.is_full());
    assert_eq!(q.push(9, PendingOp::Put(9), at(0)), Enqueued::Full);
    assert_eq!(q.push(4, PendingOp::Put(44), at(0)), Enqueued::Coalesced);
}

#[test]
fn cancel_prevents_resurrection_and_requeue_keeps_newer() {
    let mut q = q();
    q.push(1, PendingOp::Put(1), at(0));
    q.push(2, PendingOp::Put(2), at(0));
    assert!(q.cancel(&1));
    q.push(1, PendingOp::Put(100), at(1)); // queued again after the cancel
    let b = q.take(1);
    assert_eq!(b, vec![(2, PendingOp::Put(2))]);
    q.push(2, PendingOp::Put(3), at(2));
    q.requeue(b, at(3));
    assert_eq!(q.get(&2), Some(&PendingOp::Put(3)));
    let rest = q.take(10);
    assert_eq!(rest, vec![(1, PendingOp::Put(100)), (2, PendingOp::Put(3))]);
}

#[test]
fn requeue_goes_to_front_in_order() {
    let mut q = q();
    q.push(1, PendingOp::Put(1), at(0));
    q.push(2, PendingOp::Put(2), at(0));
    let b = q.take(2);
    q.push(3, PendingOp::Put(3), at(1));
    q.requeue(b, at(2));
    assert_eq!(q.take(3).into_iter().map(|(k, _)| k).collect::<Vec<_>>(), vec![1, 2, 3]);
}

#[test]
fn take_until_stops_before_a_named_key() {
    let mut q = q();
    for k in 1..=4 {
        q.push(k, PendingOp::Put(k), at(0));
    }
    let first = q.take_until(10, |&k| k == 3);
    assert_eq!(first.into_iter().map(|(k, _)| k).collect::<Vec<_>>(), vec![1, 2]);
    assert!(q.take_until(10, |&k| k == 3).is_empty(), "3 stays first in line");
    assert_eq!(q.take(10).into_iter().map(|(k, _)| k).collect::<Vec<_>>(), vec![3, 4]);
}

#[test]
fn requeue_back_goes_behind_and_keeps_newer_writes() {
    let mut q = q();
    q.push(1, PendingOp::Put(1), at(0));
    q.push(2, PendingOp::Put(2), at(0));
    let b = q.take(2);
    q.push(3, PendingOp::Put(3), at(1));
    q.push(2, PendingOp::Put(20), at(1));
    // Past capacity is fine: nothing given back is dropped.
    for k in 4..=6 {
        q.push(k, PendingOp::Put(k), at(1));
    }
    q.requeue_back(b, at(2));
    assert_eq!(q.len(), 6);
    let order = q.take(10);
    assert_eq!(
        order,
        vec![
            (3, PendingOp::Put(3)),
            (2, PendingOp::Put(20)),
            (4, PendingOp::Put(4)),
            (5, PendingOp::Put(5)),
            (6, PendingOp::Put(6)),
            (1, PendingOp::Put(1)),
        ]
    );
}

#[test]
fn mark_separates_pending_from_later_writes() {
    let mut q = q();
    q.push(1, PendingOp::Put(1), at(0));
    q.push(2, PendingOp::Put(2), at(0));
    let mark = q.mark();
    assert!(q.pending_before(mark));
    q.push(3, PendingOp::Put(3), at(1));
    q.push(1, PendingOp::Put(10), at(1)); // coalesces: keeps 1's place
    assert_eq!(q.take(1).into_iter().map(|(k, _)| k).collect::<Vec<_>>(), vec![1]);
    assert!(q.pending_before(mark), "2 is still pending");
    q.cancel(&2);
    assert!(!q.pending_before(mark), "only 3 is left, queued after the mark");
    let b = q.take(1);
    assert!(!q.pending_before(mark));
    // A batch given back goes before every mark, old or new.
    q.requeue(b, at(2));
    assert!(q.pending_before(mark));
    assert!(q.pending_before(q.mark()));
    q.take(1);
    assert!(!q.pending_before(mark));
    assert!(!q.pending_before(q.mark()), "empty");
}

#[test]
fn compaction_keeps_marks_meaningful() {
    let mut q: WriteBehindQueue<u32, u32> = WriteBehindQueue::new(10, Duration::from_secs(1), 100_000);
    // Move the front far from 0 first.
    for k in 0..20_000 {
        q.push(k, PendingOp::Put(k), at(0));
    }
    q.take(20_000);
    q.push(0, PendingOp::Put(0), at(0));
    for k in 1..=3_000 {
        q.push(k, PendingOp::Put(k), at(0));
    }
    let mark = q.mark();
    // Holes behind a pending front, enough to compact.
    for k in 1..3_000 {
        q.cancel(&k);
    }
    assert_eq!(q.len(), 2);
    assert!(q.pending_before(mark));
    for k in 10_000..20_000 {
        q.push(k, PendingOp::Put(k), at(1));
    }
    // The two writes pending at the mark, then at most as many newer
    // ones as compaction closed holes, count as queued before it.
    let mut taken = 0;
    while q.pending_before(mark) {
        assert!(!q.take(1).is_empty());
        taken += 1;
    }
    assert!((2..=3_001).contains(&taken), "{taken} writes counted as older than the mark");
}

#[test]
fn plans() {
    assert_eq!(WritePlan::of(WriteStrategy::WriteThrough), WritePlan::L3ThenCaches);
    assert!(WritePlan::of(WriteStrategy::WriteBehind).is_queued());
    assert!(WritePlan::of(WriteStrategy::WriteBack).is_queued());
}

#[test]
fn isolation_takes_l3_down_after_failures_in_a_row() {
    let mut pass = Isolation::default();
    pass.record(false);
    assert!(!pass.l3_down());
    pass.record(true);
    pass.record(false);
    assert!(!pass.l3_down(), "a landed write resets the count");
    pass.record(false);
    assert!(pass.l3_down());
}
