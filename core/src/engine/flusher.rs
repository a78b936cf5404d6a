//! Draining the write queue into L3: the background flusher task, `flush()`
//! and `shutdown()`.
//!
//! One batch is written at a time (under `flush_lock`), so writes of a key
//! reach L3 in the order they were made. Write-behind writes a batch as
//! one L3 call; write-back writes each of its writes with a call of its
//! own, [`WRITE_BACK_CONCURRENCY`] at a time (a batch holds a key at most
//! once, so they commit in any order). A batch that fails, or whose write
//! is cancelled, goes back to the queue (newer writes of a key win) and is
//! retried with exponential backoff (`policy::backoff`); nothing is dropped. A batch that
//! landed is written to L2 again (see `Inner::l2_after_flush`).

use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;

use super::{Inner, QueuedValue};
use crate::backend::{BatchOp, StateBackend};
use crate::error::{Result, StateError};
use crate::l1::ByteKey;
use crate::policy::{PendingOp, WRITE_BACK_CONCURRENCY, WritePlan, next_flush_backoff};

type Batch = Vec<(ByteKey, PendingOp<QueuedValue>)>;

/// A batch taken from the queue; unless `done`, dropping it puts it back.
struct Taken<'a, B: StateBackend> {
    inner: &'a Inner<B>,
    batch: Batch,
    done: bool,
}

impl<B: StateBackend> Taken<'_, B> {
    /// The writes from `from` on failed: queue them again; the rest landed.
    fn settle(mut self, failed_from: Option<usize>) {
        let failed = failed_from.map(|i| self.batch.split_off(i));
        // Landed writes can leave the in-flight map at leisure (L3 has them).
        self.inner.finish_flushing(&self.batch);
        if let Some(failed) = failed {
            self.inner.requeue(failed);
        }
        self.done = true;
    }
}

impl<B: StateBackend> Drop for Taken<'_, B> {
    fn drop(&mut self) {
        if !self.done {
            self.inner.requeue(std::mem::take(&mut self.batch));
        }
    }
}

/// Most writes moved between the queue and the in-flight map per hold of
/// the write lock: puts wait at most this long for it (a few µs), rather
/// than for a whole batch, and then spin instead of sleeping.
pub(super) const LOCK_CHUNK: usize = 32;

/// Who a batch is written for: the background flusher (nobody waits: the
/// backend may write it at a lower CPU priority, see
/// [`StateBackend::apply_batch_background`]) or a caller waiting in
/// `flush()` / `shutdown()` (at the caller's priority).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FlushFor {
    Background,
    Caller,
}

/// The background flusher: writes batches when due, sleeps otherwise; ends
/// when the cache is dropped.
pub(crate) async fn run<B: StateBackend>(weak: Weak<Inner<B>>) {
    let mut backoff = Duration::ZERO;
    loop {
        let Some(inner) = weak.upgrade() else { return };
        if inner.shut_down.load(Ordering::Acquire) {
            return; // shutdown() drains the queue itself
        }
        let idle = inner.config.write.flush_interval.clamp(Duration::from_millis(1), Duration::from_secs(1));
        let wait = {
            let mut w = inner.writes.lock();
            let now = inner.clock.now();
            let due = inner.plan.flush_due(&mut w.queue, now);
            if due {
                None
            } else {
                Some(w.queue.next_deadline().map_or(idle, |d| d.saturating_duration_since(now).min(idle)))
            }
        };
        match wait {
            None => match inner.flush_once(FlushFor::Background).await {
                Ok(_) => backoff = Duration::ZERO,
                Err(e) => {
                    backoff = next_flush_backoff(backoff);
                    tracing::warn!(error = %e, retry_in = ?backoff, "strata: L3 write failed; batch queued again");
                    // Only shutdown() cuts the backoff short (it drains by itself).
                    let until = tokio::time::Instant::now() + backoff;
                    while !inner.shut_down.load(Ordering::Acquire) && tokio::time::Instant::now() < until {
                        let wake = inner.flush_wakeup.notified();
                        tokio::select! {
                            () = wake => {}
                            () = tokio::time::sleep_until(until) => {}
                        }
                    }
                }
            },
            Some(d) => {
                let wake = inner.flush_wakeup.notified();
                tokio::select! {
                    () = wake => {}
                    () = tokio::time::sleep(d.max(Duration::from_micros(100))) => {}
                }
            }
        }
    }
}

impl<B: StateBackend> Inner<B> {
    /// Writes one batch; returns how many writes it held (0: nothing pending).
    #[tracing::instrument(level = "debug", name = "strata.flush_batch", skip_all)]
    pub(crate) async fn flush_once(&self, by: FlushFor) -> Result<usize> {
        let _turn = self.flush_lock.lock().await;
        let mut taken = Taken { inner: self, batch: self.take_flushing(), done: false };
        let n = taken.batch.len();
        if n == 0 {
            taken.settle(None);
            return Ok(0);
        }
        self.space.notify_waiters();
        match self.plan {
            WritePlan::CachesThenL3Each => {
                use futures::StreamExt;
                // Collected first: a lazy map's closure in the stream trips
                // the `Send` check of the futures that await this one.
                let writes: Vec<_> = taken
                    .batch
                    .iter()
                    .enumerate()
                    .map(|(i, (k, op))| async move {
                        let r = match op {
                            PendingOp::Put(v) => self.timed_write(self.l3.put(k, v.to_bytes())).await,
                            PendingOp::Delete => self.timed_write(self.l3.delete(k)).await.map(|_| ()),
                        };
                        (i, r)
                    })
                    .collect();
                let mut results: Vec<(usize, Result<()>)> =
                    futures::stream::iter(writes).buffer_unordered(WRITE_BACK_CONCURRENCY).collect().await;
                self.metrics.batches.add(n as u64);
                if results.iter().any(|(_, r)| r.is_err()) {
                    // The writes that failed go back to the queue (at the end
                    // of the batch, in its order); the rest landed.
                    results.sort_unstable_by_key(|(i, _)| *i);
                    let mut first_error = None;
                    let (mut landed, mut failed) = (Vec::new(), Vec::new());
                    for (w, (_, r)) in std::mem::take(&mut taken.batch).into_iter().zip(results) {
                        match r {
                            Ok(()) => landed.push(w),
                            Err(e) => {
                                self.metrics.write_errors.incr();
                                first_error.get_or_insert(e);
                                failed.push(w);
                            }
                        }
                    }
                    let split = landed.len();
                    landed.extend(failed);
                    taken.batch = landed;
                    if let Some(e) = first_error {
                        self.metrics.batched_writes.add(split as u64);
                        taken.settle(Some(split));
                        return Err(e);
                    }
                }
            }
            _ => {
                let ops: Vec<BatchOp> = taken
                    .batch
                    .iter()
                    .map(|(k, op)| match op {
                        PendingOp::Put(v) => (k.to_bytes(), Some(v.to_bytes())),
                        PendingOp::Delete => (k.to_bytes(), None),
                    })
                    .collect();
                self.metrics.batches.incr();
                let written = match by {
                    FlushFor::Background => self.timed_write(self.l3.apply_batch_background(ops)).await,
                    FlushFor::Caller => self.timed_write(self.l3.apply_batch(ops)).await,
                };
                if let Err(e) = written {
                    self.metrics.write_errors.incr();
                    taken.settle(Some(0));
                    return Err(e);
                }
            }
        }
        self.metrics.batched_writes.add(n as u64);
        let landed = self.landed_for_l2(&taken.batch);
        taken.settle(None);
        // Still this batch's turn: L2 sees batches in L3's order.
        self.l2_after_flush(landed).await;
        Ok(n)
    }

    /// Takes the next batch (up to `batch_size` writes, oldest first) from
    /// the queue into the in-flight map, [`LOCK_CHUNK`] writes per lock hold.
    /// Taking in chunks changes nothing a put can observe: a write of a key
    /// not yet taken coalesces as before, one of a key already taken queues
    /// again and is flushed after this batch.
    fn take_flushing(&self) -> Batch {
        let mut batch = Vec::new();
        loop {
            let mut w = self.writes.lock();
            let want = w.queue.batch_size() - batch.len();
            if want == 0 {
                break;
            }
            let chunk = w.queue.take(LOCK_CHUNK.min(want));
            if chunk.is_empty() {
                break;
            }
            for (k, op) in &chunk {
                w.flushing.insert(k.clone(), op.clone());
            }
            drop(w);
            batch.extend(chunk);
        }
        batch
    }

    /// Gives writes that did not land back to the queue. One lock hold, so
    /// a read never finds such a key in neither place (rare: failures).
    fn requeue(&self, batch: Batch) {
        let mut w = self.writes.lock();
        for (k, _) in &batch {
            w.flushing.remove(k);
        }
        w.queue.requeue(batch, self.clock.now());
    }

    /// Removes landed writes from the in-flight map, in chunks.
    fn finish_flushing(&self, batch: &Batch) {
        for chunk in batch.chunks(LOCK_CHUNK) {
            let mut w = self.writes.lock();
            for (k, _) in chunk {
                w.flushing.remove(k);
            }
        }
    }

    /// Writes every write pending when it is called (a newer write of a
    /// key still queued goes with it), not the writes made while it runs:
    /// under a steady stream of puts it ends once the queue's front has
    /// passed its mark (see `WriteBehindQueue::mark`), instead of chasing
    /// the stream.
    pub(crate) async fn flush(&self) -> Result<()> {
        if !self.plan.is_queued() {
            return Ok(());
        }
        let mark = self.writes.lock().queue.mark();
        loop {
            if self.flush_once(FlushFor::Caller).await? == 0 {
                // Nothing pending at our turn, nor in flight (we held it).
                return Ok(());
            }
            // Looked at in our turn, so no batch holding an older write is
            // in flight (a failed one is queued again, before the mark).
            let _turn = self.flush_lock.lock().await;
            if !self.writes.lock().queue.pending_before(mark) {
                return Ok(());
            }
        }
    }

    pub(crate) async fn shutdown(&self, deadline: Duration) -> Result<()> {
        self.shut_down.store(true, Ordering::Release);
        let end = super::deadline_after(deadline);
        self.flush_wakeup.notify_one();
        let task = self.flusher.lock().take();
        if let Some(task) = task {
            // It ends at its next turn; a batch it is writing completes or is requeued.
            let _ = tokio::time::timeout_at(end, task).await;
        }
        let mut backoff = Duration::ZERO;
        let mut last_error = None;
        loop {
            match tokio::time::timeout_at(end, self.flush()).await {
                Ok(Ok(())) => {
                    // Written is not yet durable for buffering backends (sled).
                    return self.l3.persist().await;
                }
                Ok(Err(e)) => {
                    last_error = Some(e.to_string());
                    backoff = next_flush_backoff(backoff);
                    if tokio::time::Instant::now() + backoff >= end {
                        break;
                    }
                    tokio::time::sleep(backoff).await;
                }
                Err(_) => break,
            }
        }
        let w = self.writes.lock();
        let mut keys: Vec<Bytes> = w.queue.keys().map(ByteKey::to_bytes).collect();
        keys.extend(w.flushing.keys().map(ByteKey::to_bytes));
        keys.sort();
        keys.dedup();
        if keys.is_empty() {
            return Ok(());
        }
        Err(StateError::Unflushed { keys, last_error })
    }
}
