//! Draining the write queue into L3: the background flusher task, `flush()`
//! and `shutdown()`.
//!
//! One batch is written at a time (under `flush_lock`), so writes of a key
//! reach L3 in the order they were made. Write-behind writes a batch as
//! one L3 call; write-back writes each of its writes with a call of its
//! own, [`WRITE_BACK_CONCURRENCY`] at a time (a batch holds a key at most
//! once, so they commit in any order). A write-behind batch that fails is
//! written again one write at a time (`isolate.rs`), so that one write L3
//! refuses (a key too long for its index, say) does not hold back the
//! others. A write L3 refused on its own goes to the back of the queue; a
//! batch that L3 took none of (it looks down), or whose write is
//! cancelled, goes back to the front (newer writes of a key win), and the
//! flusher backs off exponentially (`policy::backoff`); nothing is dropped.
//! Writes that landed are written to L2 again (see `Inner::l2_after_flush`).

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

/// What became of one write of a batch.
pub(super) enum Outcome {
    /// L3 has it.
    Landed,
    /// L3 refused it, written on its own: it goes to the back of the queue.
    Refused(StateError),
    /// Not written (L3 looked down): it goes back to the front.
    Untried,
}

/// What one batch did.
#[derive(Default)]
pub(crate) struct Flushed {
    /// Writes taken from the queue (0: nothing was pending).
    pub(crate) taken: usize,
    /// Of those, the writes that reached L3.
    pub(crate) landed: usize,
    /// The first error, if any write did not land.
    pub(crate) error: Option<StateError>,
}

impl<B: StateBackend> Taken<'_, B> {
    /// Sorts the batch by outcome (in order): landed writes leave the
    /// in-flight map, refused ones go to the back of the queue and untried
    /// ones to its front. Returns the landed writes and the first error.
    fn settle(mut self, outcomes: Vec<Outcome>) -> (Batch, Option<StateError>) {
        let (mut landed, mut refused, mut untried, mut first) = (Vec::new(), Vec::new(), Vec::new(), None);
        for (w, outcome) in std::mem::take(&mut self.batch).into_iter().zip(outcomes) {
            match outcome {
                Outcome::Landed => landed.push(w),
                Outcome::Refused(e) => {
                    tracing::warn!(key = ?w.0.to_bytes(), error = %e, "strata: L3 refused a queued write; it goes to the back of the queue and is retried");
                    first.get_or_insert(refused_error(&w.0, e));
                    refused.push(w);
                }
                Outcome::Untried => untried.push(w),
            }
        }
        // Landed writes can leave the in-flight map at leisure (L3 has them).
        self.inner.finish_flushing(&landed);
        self.inner.requeue(untried);
        self.inner.requeue_back(refused);
        self.done = true;
        (landed, first)
    }
}

/// `e`, naming the key L3 refused (backends' batch errors do not).
fn refused_error(key: &ByteKey, e: StateError) -> StateError {
    match e {
        StateError::Backend { tier, backend, op, source } => StateError::Backend {
            tier,
            backend,
            op,
            source: format!("key {:?}: {source}", key.to_bytes()).into(),
        },
        other => other,
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
                // Some writes landed: L3 is up (refused writes wait at the
                // back of the queue, and were logged).
                Flushed { error: None, .. } | Flushed { landed: 1.., .. } => backoff = Duration::ZERO,
                Flushed { error: Some(e), .. } => {
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
    /// Writes one batch (see [`Flushed`]).
    #[tracing::instrument(level = "debug", name = "strata.flush_batch", skip_all)]
    pub(crate) async fn flush_once(&self, by: FlushFor) -> Flushed {
        let _turn = self.flush_lock.lock().await;
        let taken = Taken { inner: self, batch: self.take_flushing(), done: false };
        let n = taken.batch.len();
        if n == 0 {
            taken.settle(Vec::new());
            return Flushed::default();
        }
        self.space.notify_waiters();
        let outcomes = match self.plan {
            WritePlan::CachesThenL3Each => self.write_each(&taken.batch).await,
            _ => {
                self.metrics.batches.incr();
                match self.write_batch(&taken.batch, by).await {
                    Ok(()) => (0..n).map(|_| Outcome::Landed).collect(),
                    Err(e) if n == 1 => vec![Outcome::Refused(e)],
                    Err(e) => {
                        tracing::debug!(error = %e, writes = n, "strata: L3 batch failed; writing it one write at a time");
                        self.isolate(&taken.batch, by).await
                    }
                }
            }
        };
        let (landed, error) = taken.settle(outcomes);
        self.metrics.batched_writes.add(landed.len() as u64);
        let done = Flushed { taken: n, landed: landed.len(), error };
        if !landed.is_empty() {
            let landed = self.landed_for_l2(&landed);
            // Still this batch's turn: L2 sees batches in L3's order.
            self.l2_after_flush(landed).await;
        }
        done
    }

    /// Write-back: each write of the batch with a call of its own,
    /// [`WRITE_BACK_CONCURRENCY`] at once.
    async fn write_each(&self, batch: &Batch) -> Vec<Outcome> {
        use futures::StreamExt;
        // Collected first: a lazy map's closure in the stream trips the
        // `Send` check of the futures that await this one.
        let writes: Vec<_> = batch
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
        self.metrics.batches.add(batch.len() as u64);
        results.sort_unstable_by_key(|(i, _)| *i);
        results
            .into_iter()
            .map(|(_, r)| match r {
                Ok(()) => Outcome::Landed,
                Err(e) => {
                    self.metrics.write_errors.incr();
                    Outcome::Refused(e)
                }
            })
            .collect()
    }

    /// Write-behind: `batch` (or part of it) as one L3 call.
    pub(super) async fn write_batch(
        &self,
        batch: &[(ByteKey, PendingOp<QueuedValue>)],
        by: FlushFor,
    ) -> Result<()> {
        let ops: Vec<BatchOp> = batch
            .iter()
            .map(|(k, op)| match op {
                PendingOp::Put(v) => (k.to_bytes(), Some(v.to_bytes())),
                PendingOp::Delete => (k.to_bytes(), None),
            })
            .collect();
        let written = match by {
            FlushFor::Background => self.timed_write(self.l3.apply_batch_background(ops)).await,
            FlushFor::Caller => self.timed_write(self.l3.apply_batch(ops)).await,
        };
        if written.is_err() {
            self.metrics.write_errors.incr();
        }
        written
    }

    /// Takes the next batch (up to `batch_size` writes, oldest first) from
    /// the queue into the in-flight map, [`LOCK_CHUNK`] writes per lock hold.
    /// Taking in chunks changes nothing a put can observe: a write of a key
    /// not yet taken coalesces as before, one of a key already taken queues
    /// again and is flushed after this batch. The batch ends before such a
    /// write (`take_until`): it holds a key at most once, so write-back may
    /// commit its writes in any order (a key twice in one batch, written
    /// concurrently, could land older-last).
    fn take_flushing(&self) -> Batch {
        let mut batch = Vec::new();
        loop {
            let mut guard = self.writes.lock();
            let w = &mut *guard;
            let want = w.queue.batch_size() - batch.len();
            if want == 0 {
                break;
            }
            let flushing = &w.flushing;
            let chunk = w.queue.take_until(LOCK_CHUNK.min(want), |k| flushing.contains_key(k));
            if chunk.is_empty() {
                break;
            }
            for (k, op) in &chunk {
                w.flushing.insert(k.clone(), op.clone());
            }
            drop(guard);
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

    /// Gives writes L3 refused one by one back to the queue, behind the
    /// pending ones (see `WriteBehindQueue::requeue_back`).
    fn requeue_back(&self, writes: Batch) {
        if writes.is_empty() {
            return;
        }
        let mut w = self.writes.lock();
        for (k, _) in &writes {
            w.flushing.remove(k);
        }
        w.queue.requeue_back(writes, self.clock.now());
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
        let mut refused = None;
        loop {
            let done = self.flush_once(FlushFor::Caller).await;
            if let Some(e) = done.error {
                if done.landed == 0 {
                    return Err(e); // L3 took nothing: it looks down
                }
                // Refused writes went behind the mark: the rest goes on.
                refused.get_or_insert(e);
            }
            if done.taken == 0 {
                break; // nothing pending at our turn, nor in flight (we held it)
            }
            // Looked at in our turn, so no batch holding an older write is
            // in flight (a failed one is queued again, before the mark).
            let _turn = self.flush_lock.lock().await;
            if !self.writes.lock().queue.pending_before(mark) {
                break;
            }
        }
        refused.map_or(Ok(()), Err)
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
