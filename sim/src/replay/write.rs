//! The write path, executing `WritePlan` and `WriteBehindQueue` decisions:
//! write-through (L3, then the caches), write-back (caches now; the
//! flusher takes what is pending and writes each with an L3 call of its
//! own, up to `WRITE_BACK_CONCURRENCY` at once, while new writes coalesce
//! in the queue for its next turn), write-behind (caches
//! now, coalesced batches flushed by size or age, bounded queue with
//! backpressure; a delete replaces a pending put of its key in place).
//! A queued delete whose key neither its pending writes nor L1 hold first
//! asks L3 whether the key exists (the engine's `delete` returns it): an
//! L3 read, after which it is queued.
//! As in the engine, a queued write that lands in L3 is written to L2 again
//! (unless the key is queued again) and the other instances are told.
//! When L3 fails (the engine's `flush_once` and `isolate.rs`): a failed
//! write-behind batch of several writes is written again at once, one
//! write at a time; a write whose own call failed goes to the back of the
//! queue, writes left untried when L3 looks down (two such failures in a
//! row) to its front; the flusher backs off only when a turn landed
//! nothing (see `on_flush_done`, `settle`).
//! When the trace ends the application shuts down (`shutdown_ms`, the
//! engine's `shutdown(deadline)`): queues flush at once, failed writes are
//! retried with the backoff while the next try comes before the deadline,
//! and what is still queued then is counted unflushed. (The engine's
//! `shutdown` also backs off after a pass over the queue in which a write
//! was refused but others landed; here, as in the background flusher, only
//! a turn that landed nothing backs off.)

use std::time::Duration;

use hashbrown::HashSet;
use strata_core::policy::{
    Enqueued, Isolation, PendingOp, WRITE_BACK_CONCURRENCY, WritePlan, next_flush_backoff,
};

use super::state::{Event, Job, PendingWrite, Sim, Turn};

impl Sim {
    /// A set (or delete) of `key` arrives at instance `i`.
    pub(crate) fn on_write(&mut self, i: usize, key: u64, size: u32, ttl: Option<u32>, delete: bool) {
        if delete {
            self.c.deletes += 1;
        } else {
            self.c.writes += 1;
        }
        // The version is taken when the write commits (see `truth`).
        let mut w = PendingWrite { key, version: 0, size, ttl, delete, start: self.now, epoch: 0 };
        if self.plan == WritePlan::L3ThenCaches {
            self.begin_ticket(i, key);
            w.epoch = self.inst[i].remote_epoch;
            self.submit_l3(Job::Write { inst: i as u32, write: w });
            return;
        }
        // A queued delete returns whether the key existed: its pending
        // write or L1 may know; else it asks L3 first, holding a ticket.
        let now = self.instant();
        let inst = &self.inst[i];
        if delete && !inst.own_writes.contains_key(&key) && inst.l1.peek(&key, now).is_none() {
            self.begin_ticket(i, key);
            self.submit_l3(Job::Exists { inst: i as u32, write: w });
            return;
        }
        self.enqueue(i, w);
    }

    /// A queued delete's existence check answered: now it is queued. If
    /// the check failed, the delete returns the error and does nothing.
    pub(crate) fn on_exists_done(&mut self, i: usize, w: PendingWrite, failed: bool) {
        self.end_ticket(i, w.key);
        if failed {
            self.c.write_errors += 1;
            return;
        }
        self.enqueue(i, w);
    }

    /// Queues `w` at instance `i`, or parks it while the queue is full.
    fn enqueue(&mut self, i: usize, w: PendingWrite) {
        let inst = &mut self.inst[i];
        let blocked = !inst.parked.is_empty() || !inst.queue.accepts(&w.key);
        if blocked {
            self.c.backpressure_waits += 1;
            inst.parked.push_back(w);
            return;
        }
        self.write_now(i, w);
        self.pump(i);
    }

    /// Caches now, then into the queue (room is guaranteed by the caller).
    /// A put made while a delete of its key asks L3 whether it exists
    /// overlaps that delete's ticket and caches nothing (the engine's
    /// `store_after_write`): the key leaves L1 and L2.
    fn write_now(&mut self, i: usize, mut w: PendingWrite) {
        w.version = self.truth.next_version();
        let l1_ns = self.l1_ns();
        let l2_ns = if !w.delete && self.inst[i].tickets.contains_key(&w.key) {
            self.drop_from_caches(i, &w)
        } else {
            self.apply_to_caches(i, &w)
        };
        let now = self.instant();
        let inst = &mut self.inst[i];
        inst.own_writes.insert(w.key, (w.version, w.delete));
        // A delete replaces a pending put of the key in place (its place
        // and age in the queue), as in the engine: a coalesced write.
        // Full is impossible here: the caller checked for room.
        let _: Enqueued = inst.queue.push(w.key, w.into_op(), now);
        let latency = self.now.saturating_sub(w.start).saturating_add(l1_ns).saturating_add(l2_ns);
        self.writes.record(latency);
    }

    /// Starts the queue writes that are due, admits waiting writes while
    /// there is room, and schedules the next age-based flush.
    pub(crate) fn pump(&mut self, i: usize) {
        loop {
            self.dispatch(i);
            if !self.admit_parked(i) {
                break;
            }
        }
        let now = self.now;
        let inst = &mut self.inst[i];
        // Write-behind waits for a batch's age (until shutdown, which
        // flushes at once); either waits out a backoff.
        let deadline = if self.plan == WritePlan::CachesThenL3Batched && self.shutdown_at.is_none() {
            inst.queue.next_deadline().map(|d| d.as_nanos().max(inst.retry_at))
        } else {
            (inst.retry_at > now && !inst.queue.is_empty()).then_some(inst.retry_at)
        };
        // As the engine's `shutdown()`: no try at or after its deadline;
        // what is queued then stays unwritten.
        let deadline = deadline.filter(|&d| self.shutdown_at.is_none_or(|end| d < end));
        if let Some(deadline) = deadline {
            // A deadline already passed means every flusher is busy: the
            // next completion pumps again.
            if deadline > now && inst.flush_at.is_none_or(|at| deadline < at) {
                inst.flush_at = Some(deadline);
                self.events.push(deadline, Event::FlushCheck { inst: i as u32 });
            }
        }
    }

    /// Takes due work off the queue while flushers are free.
    fn dispatch(&mut self, i: usize) {
        let now = self.instant();
        let batched = self.plan == WritePlan::CachesThenL3Batched;
        loop {
            let inst = &mut self.inst[i];
            // At most `flushers` turns in flight (the engine has one
            // flusher), and none while it backs off after a failure.
            if inst.in_flight >= self.flushers || self.now < inst.retry_at {
                return;
            }
            // Shutdown writes whatever is queued, until its deadline.
            let due = match self.shutdown_at {
                None => self.plan.flush_due(&mut inst.queue, now),
                Some(end) => self.now < end && !inst.queue.is_empty(),
            };
            if !due {
                return;
            }
            let taken = inst.queue.take_batch();
            if taken.is_empty() {
                return;
            }
            let ops: Vec<PendingWrite> = taken
                .into_iter()
                .map(|(key, op)| match op {
                    PendingOp::Put(w) => w,
                    // A delete's version is the instance's latest write of the key.
                    PendingOp::Delete => PendingWrite {
                        key,
                        version: inst.own_writes.get(&key).map_or(0, |&(v, _)| v),
                        size: 0,
                        ttl: None,
                        delete: true,
                        start: now.as_nanos(),
                        epoch: 0,
                    },
                })
                .collect();
            inst.in_flight += 1;
            if batched {
                self.batch_sizes.record(ops.len() as u64);
                self.submit_l3(Job::Flush { inst: i as u32, ops, turn: None });
            } else {
                // Up to WRITE_BACK_CONCURRENCY at once; each that lands starts the next.
                let turn = self.next_turn;
                self.next_turn += 1;
                let first = ops.len().min(WRITE_BACK_CONCURRENCY);
                inst.turns.insert(
                    turn,
                    Turn {
                        ops: ops.clone(),
                        left: first,
                        started: first,
                        failed: Vec::new(),
                        isolation: Isolation::default(),
                    },
                );
                for &w in &ops[..first] {
                    self.batch_sizes.record(1);
                    self.submit_l3(Job::Flush { inst: i as u32, ops: vec![w], turn: Some(turn) });
                }
            }
        }
    }

    /// Admits parked writes while the queue has room (failing those that
    /// waited past the backpressure timeout). Returns whether any left.
    fn admit_parked(&mut self, i: usize) -> bool {
        let mut progressed = false;
        while let Some(&w) = self.inst[i].parked.front() {
            if self.now.saturating_sub(w.start) > self.backpressure_ns {
                self.inst[i].parked.pop_front();
                self.c.failed_writes += 1;
                progressed = true;
                continue;
            }
            if !self.inst[i].queue.accepts(&w.key) {
                break;
            }
            self.inst[i].parked.pop_front();
            self.write_now(i, w);
            progressed = true;
        }
        progressed
    }

    /// A write-through write completed in L3: now the caches, then the ack.
    /// If it failed, the caller gets the error and, as in the engine, the
    /// key leaves L1 and L2 (L3 may or may not have applied it; modelled as
    /// not) and the other instances are told.
    pub(crate) fn on_write_through_done(&mut self, i: usize, mut w: PendingWrite, failed: bool) {
        if failed {
            self.end_ticket(i, w.key);
            self.c.write_errors += 1;
            self.uncache(i, w.key, None);
            self.invalidate_others(i, w.key);
            return;
        }
        w.version = self.truth.next_version();
        self.c.l3_write_ops += 1;
        self.l3.apply(w.key, w.version, w.delete);
        let l1_ns = self.l1_ns();
        // As the engine's `store_after_write`: a write that overlapped
        // another of its key, or during which another instance's
        // invalidation arrived, cannot know L3's final order and caches
        // nothing (the key leaves L1 and L2).
        let overlapped = self.end_ticket(i, w.key);
        let l2_ns = if overlapped || self.inst[i].remote_epoch != w.epoch {
            self.drop_from_caches(i, &w)
        } else {
            self.apply_to_caches(i, &w)
        };
        let latency = self.now.saturating_sub(w.start).saturating_add(l1_ns).saturating_add(l2_ns);
        self.writes.record(latency);
    }

    /// An L3 call of instance `i`'s flusher ended (`failed`: it changed
    /// nothing in L3): a write-behind batch (`turn: None`), or one write of
    /// turn `turn` (write-back's, or of a write-behind batch being
    /// isolated). As the engine's flusher (`flush_once`, `isolate.rs`):
    ///
    /// - A write-behind batch of several writes that failed is written
    ///   again at once, one write at a time in order, each a batch call of
    ///   one write: the flusher stays busy (`in_flight`) until that pass
    ///   ends. After `ISOLATE_DOWN_AFTER` failures in a row ([`Isolation`]) L3 is taken to be
    ///   down and the rest of the batch is not tried; nor is it once the
    ///   shutdown deadline has passed (no call of the flusher starts then).
    /// - When the turn is over, see [`Self::settle`].
    ///
    /// Counted: every call in `l3_write_requests` (at submission); each
    /// write of a call that failed in `retried_writes` (a failed batch of
    /// 5 counts 5, then each failed call of one write 1 more); each write
    /// that lands, once, in `l3_write_ops`; each call of one write as a
    /// batch of size 1 (at submission).
    pub(crate) fn on_flush_done(
        &mut self,
        i: usize,
        ops: Vec<PendingWrite>,
        turn: Option<u64>,
        failed: bool,
    ) {
        if failed {
            self.c.retried_writes += ops.len() as u64;
        } else {
            self.c.l3_write_ops += ops.len() as u64;
            for w in &ops {
                self.l3.apply(w.key, w.version, w.delete);
            }
        }
        let past_deadline = self.shutdown_at.is_some_and(|end| self.now >= end);
        let (landed, refused, untried) = match turn {
            None if !failed => (ops, Vec::new(), Vec::new()),
            // A batch of one write failed: that write was refused on its own.
            None if ops.len() == 1 => (Vec::new(), ops, Vec::new()),
            None if past_deadline => (Vec::new(), Vec::new(), ops),
            None => {
                // Written again, one write at a time, from the first.
                let t = self.next_turn;
                self.next_turn += 1;
                let first = ops[0];
                let turn =
                    Turn { ops, left: 1, started: 1, failed: Vec::new(), isolation: Isolation::default() };
                self.inst[i].turns.insert(t, turn);
                self.batch_sizes.record(1);
                self.submit_l3(Job::Flush { inst: i as u32, ops: vec![first], turn: Some(t) });
                return;
            }
            Some(t) => {
                let isolating = self.plan == WritePlan::CachesThenL3Batched;
                let Some(turn) = self.inst[i].turns.get_mut(&t) else { return };
                turn.left -= 1;
                if failed {
                    turn.failed.extend_from_slice(&ops);
                }
                turn.isolation.record(!failed);
                // Write-back starts its next write whenever one ends;
                // isolation its next one, unless L3 looks down.
                let go_on = !isolating || (!turn.isolation.l3_down() && !past_deadline);
                let next = turn.ops.get(turn.started).copied().filter(|_| go_on);
                if let Some(next) = next {
                    turn.started += 1;
                    turn.left += 1;
                    self.batch_sizes.record(1);
                    self.submit_l3(Job::Flush { inst: i as u32, ops: vec![next], turn: Some(t) });
                    return;
                }
                if turn.left > 0 {
                    return;
                }
                let Some(mut turn) = self.inst[i].turns.remove(&t) else { return };
                let untried = turn.ops.split_off(turn.started);
                // A turn holds a key at most once.
                let lost: HashSet<u64> = turn.failed.iter().map(|w| w.key).collect();
                let landed = turn.ops.into_iter().filter(|w| !lost.contains(&w.key)).collect();
                (landed, turn.failed, untried)
            }
        };
        self.settle(i, landed, refused, untried);
    }

    /// The flusher turn of instance `i` is over (the engine's `settle`,
    /// then `l2_after_flush`): the writes that `landed` leave the pending
    /// set and, with L2, each is written to L2 again (a put's value, a
    /// delete's removal) unless the key is queued again, and the other
    /// instances are told, even when other writes of the turn failed: so
    /// that L2 ends with the value L3 ends with when instances write one
    /// key within a flush interval. (The engine's flusher waits for that
    /// L2 call before its next batch; not modelled.) The writes `refused`
    /// on their own (their call of one write failed) go to the back of the
    /// queue (`requeue_back`), the `untried` ones back to its front
    /// (`requeue`); neither overrides a newer write of its key. The
    /// flusher backs off ([`next_flush_backoff`]) only when the turn
    /// landed nothing; when any write landed, or none failed, its backoff
    /// is reset.
    fn settle(
        &mut self,
        i: usize,
        landed: Vec<PendingWrite>,
        refused: Vec<PendingWrite>,
        untried: Vec<PendingWrite>,
    ) {
        let now = self.instant();
        let any_landed = !landed.is_empty();
        for w in landed {
            let inst = &mut self.inst[i];
            if inst.own_writes.get(&w.key).is_some_and(|&(v, _)| v == w.version) {
                inst.own_writes.remove(&w.key);
            }
            if self.l2.is_none() || inst.queue.get(&w.key).is_some() {
                continue;
            }
            let hash = self.hash(w.key);
            self.write_l2(&w, hash, now);
            self.invalidate_others(i, w.key);
        }
        let inst = &mut self.inst[i];
        let any_failed = !refused.is_empty() || !untried.is_empty();
        inst.queue.requeue(untried.into_iter().map(|w| (w.key, w.into_op())).collect(), now);
        inst.queue.requeue_back(refused.into_iter().map(|w| (w.key, w.into_op())).collect(), now);
        if any_landed || !any_failed {
            inst.backoff = Duration::ZERO;
        } else {
            inst.backoff = next_flush_backoff(inst.backoff);
            let wait = u64::try_from(inst.backoff.as_nanos()).unwrap_or(u64::MAX);
            inst.retry_at = self.now.saturating_add(wait);
        }
        inst.in_flight = inst.in_flight.saturating_sub(1);
        self.pump(i);
    }

    /// The trace has ended: the application shuts the cache down (the
    /// engine's `shutdown(shutdown_ms)`), which flushes every queue now and
    /// gives up at its deadline.
    pub(crate) fn shut_down(&mut self) {
        self.shutdown_at = Some(self.now.saturating_add(self.shutdown_ns));
        for i in 0..self.inst.len() {
            // The background flusher's timers are void (see `is_void`).
            self.inst[i].flush_at = None;
            self.pump(i);
        }
    }

    /// When the run is over: counts the queued writes that never reached
    /// L3 (the engine's `Unflushed` keys) and the writes still waiting for
    /// room (they get the backpressure error).
    pub(crate) fn count_unwritten(&mut self) {
        for inst in &self.inst {
            self.c.unflushed_writes += inst.queue.len() as u64;
            self.c.failed_writes += inst.parked.len() as u64;
        }
    }

    /// Whether a flush check of instance `i` due at `t` is void: after
    /// shutdown only the check `pump` armed last (a retry after a backoff)
    /// counts; the others were the stopped background flusher's timers, and
    /// are dropped without moving virtual time to them.
    pub(crate) fn is_void(&self, i: usize, t: u64) -> bool {
        self.shutdown_at.is_some() && self.inst[i].flush_at != Some(t)
    }

    /// A scheduled flush check of instance `i` fires.
    pub(crate) fn on_flush_check(&mut self, i: usize) {
        let inst = &mut self.inst[i];
        if inst.flush_at == Some(self.now) {
            inst.flush_at = None;
        }
        self.pump(i);
    }
}
