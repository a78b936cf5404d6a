//! The write-behind queue against a naive model: a `Vec` of pending writes
//! in queue order, searched linearly. Random pushes, cancels, takes and
//! requeues (with few keys, so coalescing, holes, compaction and requeue
//! collisions all happen); after every step the queue and the model agree
//! on everything observable.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use proptest::prelude::*;
use strata_core::Instant;
use strata_core::policy::{Enqueued, PendingOp, WriteBehindQueue};

#[derive(Debug, Clone)]
enum Op {
    Put(u8, u32),
    Delete(u8),
    Cancel(u8),
    Take(usize),
    TakeAndRequeue(usize),
    Tick(u64),
}

fn op() -> impl Strategy<Value = Op> {
    // Cancels are frequent so that holes pile up past the compaction bound.
    prop_oneof![
        4 => (0u8..40, any::<u32>()).prop_map(|(k, v)| Op::Put(k, v)),
        1 => (0u8..40).prop_map(Op::Delete),
        3 => (0u8..40).prop_map(Op::Cancel),
        1 => (0usize..8).prop_map(Op::Take),
        1 => (0usize..8).prop_map(Op::TakeAndRequeue),
        1 => (0u64..20).prop_map(Op::Tick),
    ]
}

/// The model: pending writes in queue order.
#[derive(Default)]
struct Model {
    pending: Vec<(u8, PendingOp<u32>, Instant)>,
    coalesced: u64,
}

impl Model {
    fn push(&mut self, k: u8, op: PendingOp<u32>, now: Instant, capacity: usize) -> Enqueued {
        if let Some(p) = self.pending.iter_mut().find(|p| p.0 == k) {
            p.1 = op;
            self.coalesced += 1;
            return Enqueued::Coalesced;
        }
        if self.pending.len() >= capacity {
            return Enqueued::Full;
        }
        self.pending.push((k, op, now));
        Enqueued::New
    }

    fn take(&mut self, n: usize) -> Vec<(u8, PendingOp<u32>)> {
        let n = n.min(self.pending.len());
        self.pending.drain(..n).map(|(k, op, _)| (k, op)).collect()
    }

    fn requeue(&mut self, batch: Vec<(u8, PendingOp<u32>)>, now: Instant) {
        for (k, op) in batch.into_iter().rev() {
            if !self.pending.iter().any(|p| p.0 == k) {
                self.pending.insert(0, (k, op, now));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn queue_matches_the_model(ops in prop::collection::vec(op(), 1..400), capacity in 4usize..30) {
        let interval = Duration::from_nanos(10);
        let mut q = WriteBehindQueue::new(3, interval, capacity);
        let capacity = q.capacity();
        let mut m = Model::default();
        let mut now = Instant::from_nanos(0);
        for op in ops {
            match op {
                Op::Put(k, v) => {
                    prop_assert_eq!(q.push(k, PendingOp::Put(v), now), m.push(k, PendingOp::Put(v), now, capacity));
                }
                Op::Delete(k) => {
                    prop_assert_eq!(q.push(k, PendingOp::Delete, now), m.push(k, PendingOp::Delete, now, capacity));
                }
                Op::Cancel(k) => {
                    let had = m.pending.iter().position(|p| p.0 == k).map(|i| m.pending.remove(i)).is_some();
                    prop_assert_eq!(q.cancel(&k), had);
                }
                Op::Take(n) => prop_assert_eq!(q.take(n), m.take(n)),
                Op::TakeAndRequeue(n) => {
                    let batch = q.take(n);
                    prop_assert_eq!(&batch, &m.take(n));
                    // Some keys are written again before the batch comes back.
                    if let Some((k, _)) = batch.first() {
                        prop_assert_eq!(q.push(*k, PendingOp::Put(7), now), m.push(*k, PendingOp::Put(7), now, capacity));
                    }
                    q.requeue(batch.clone(), now);
                    m.requeue(batch, now);
                }
                Op::Tick(d) => now = now.saturating_add(Duration::from_nanos(d)),
            }
            prop_assert_eq!(q.len(), m.pending.len());
            prop_assert_eq!(q.coalesced(), m.coalesced);
            let keys: Vec<u8> = q.keys().copied().collect();
            let model_keys: Vec<u8> = m.pending.iter().map(|p| p.0).collect();
            prop_assert_eq!(keys, model_keys);
            for k in 0u8..40 {
                prop_assert_eq!(q.get(&k), m.pending.iter().find(|p| p.0 == k).map(|p| &p.1));
            }
            let deadline = m.pending.first().map(|p| p.2.saturating_add(interval));
            prop_assert_eq!(q.next_deadline(), deadline);
            prop_assert_eq!(q.is_due(now), m.pending.len() >= 3 || deadline.is_some_and(|d| now >= d));
        }
        // Everything left comes out oldest first.
        prop_assert_eq!(q.take(usize::MAX), m.take(usize::MAX));
        prop_assert!(q.is_empty());
    }
}

/// Many cancels behind a write that stays pending: the queue compacts and
/// keeps its order.
#[test]
fn holes_behind_a_stuck_write_are_compacted() {
    let mut q = WriteBehindQueue::new(10, Duration::from_secs(1), 10);
    let t = Instant::from_nanos(0);
    q.push(0u32, PendingOp::Put(0u32), t);
    for k in 1..10_000u32 {
        assert_eq!(q.push(k, PendingOp::Put(k), t), Enqueued::New);
        assert!(q.cancel(&k));
    }
    q.push(5, PendingOp::Put(5), t);
    assert_eq!(q.len(), 2);
    assert_eq!(q.take(10), vec![(0, PendingOp::Put(0)), (5, PendingOp::Put(5))]);
}
