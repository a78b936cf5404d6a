//! The write path: puts, deletes and invalidations by the write plan, and the
//! backpressured enqueue of L3 writes.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use tracing::Instrument;

use super::cancel::DropOnCancel;
use super::single_flight::WriteTicket;
use super::{Inner, QueuedValue, absent};
use crate::backend::StateBackend;
use crate::clock::Instant;
use crate::error::{Result, StateError};
use crate::l1::ByteKey;
use crate::policy::{Enqueued, PendingOp, WritePlan};

impl<B: StateBackend> Inner<B> {
    fn check_open(&self) -> Result<()> {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(StateError::ShutDown);
        }
        Ok(())
    }

    /// One attempt to queue `op`: `Ok(None)` when the queue is full (and
    /// the key not pending), else whether a batch is due. Checks for
    /// shutdown under the queue's lock, like every push: `shutdown()` sets
    /// its flag before it takes the lock to drain, so a push that still
    /// finds the cache open is in the queue before the drain looks (and is
    /// written by it).
    fn try_push(&self, key: &Bytes, op: &PendingOp<QueuedValue>) -> Result<Option<bool>> {
        let mut w = self.writes.lock();
        self.check_open()?;
        let now = self.clock.now();
        let outcome = w.queue.push(ByteKey::from_bytes(key.clone()), op.clone(), now);
        Ok((outcome != Enqueued::Full).then(|| self.plan.due_by_size(&w.queue)))
    }

    /// One attempt to queue the puts of `entries` all at once: `Ok(None)`
    /// when there is no room for every new key among them (nothing queued),
    /// else whether a batch is due. Checks for shutdown like [`Self::try_push`].
    fn try_push_all(&self, entries: &[(Bytes, Bytes)]) -> Result<Option<bool>> {
        let mut w = self.writes.lock();
        self.check_open()?;
        let mut seen = hashbrown::HashSet::with_capacity(entries.len());
        let new =
            entries.iter().filter(|(k, _)| seen.insert(&k[..]) && w.queue.get(&k[..]).is_none()).count();
        if w.queue.len() + new > w.queue.capacity() {
            return Ok(None);
        }
        let now = self.clock.now();
        for (k, v) in entries {
            let op = PendingOp::Put(QueuedValue::from_shared(v, None));
            let pushed = w.queue.push(ByteKey::from_bytes(k.clone()), op, now);
            debug_assert_ne!(pushed, Enqueued::Full, "room was checked under the same lock");
        }
        Ok(Some(self.plan.due_by_size(&w.queue)))
    }

    /// Queues the puts of `entries` all or none, waiting (real time) up to
    /// the backpressure timeout for room for every new key among them.
    async fn enqueue_all(&self, entries: &[(Bytes, Bytes)]) -> Result<()> {
        self.with_room(|| self.try_push_all(entries)).await
    }

    /// Queues `op` for `key`, waiting (real time) up to the backpressure
    /// timeout while the queue is full. (Age-based flushes are the flusher's
    /// own timer; a put only wakes it when a batch is full.)
    async fn enqueue(&self, key: Bytes, op: PendingOp<QueuedValue>) -> Result<()> {
        self.with_room(|| self.try_push(&key, &op)).await
    }

    /// Runs `attempt` (`Ok(None)`: no room, nothing queued; `Ok(Some(due))`:
    /// queued, and whether a batch is due) until it queues, waking the
    /// flusher while there is no room and waiting (real time) up to the
    /// backpressure timeout, then failing with `QueueFull`.
    async fn with_room(&self, mut attempt: impl FnMut() -> Result<Option<bool>>) -> Result<()> {
        let limit = self.config.write.backpressure_timeout;
        let deadline = super::deadline_after(limit);
        loop {
            // Register for a wake-up before looking, so a flush that makes
            // room between the look and the wait is not missed.
            let room = self.space.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            if let Some(due) = attempt()? {
                if due {
                    self.flush_wakeup.notify_one();
                }
                return Ok(());
            }
            self.flush_wakeup.notify_one();
            if tokio::time::timeout_at(deadline, room).await.is_err() {
                return Err(StateError::QueueFull {
                    pending: self.writes.lock().queue.len(),
                    limit: self.config.write.queue_capacity,
                    waited: limit,
                });
            }
        }
    }

    /// Caches a value just written (to L3 or its queue) unless the write
    /// raced with another write of the key (see `store_after_write`); then
    /// drops the key from L1 instead.
    fn cache_written(
        &self,
        ticket: WriteTicket<'_>,
        key: &Bytes,
        value: &Bytes,
        ttl: Option<Duration>,
    ) -> bool {
        let stored = self.loads.store_after_write(ticket, || self.l1_write(key, value, ttl));
        if !stored {
            self.l1.remove(&key[..]);
        }
        stored
    }

    /// The put of a queued strategy done now, without waiting: the L3 write
    /// queued and L1 written (see `write.allocate`), atomically with respect
    /// to loads, other writes of the key and remote invalidations (see
    /// `SingleFlight::write_now`). One clock read; the key is copied only
    /// if the queue or L1 does not hold it yet (inline in their slots when
    /// short), and the queue copies a short value into its slot
    /// ([`QueuedValue`]) while L1 takes the caller's: a put of a short key
    /// and value allocates nothing. `Err`: nothing done (queue full, or another
    /// write of the key in flight); take the general path with the value
    /// handed back.
    fn put_queued_now(&self, key: &[u8], value: Bytes, ttl: Option<Duration>) -> Result<(), Bytes> {
        let now = self.clock.now();
        let weight = self.weigh(key, &value);
        let done = self.loads.write_now(key, value, |value| {
            if self.config.write.allocate {
                self.queue_then_cache(key, value, weight, ttl, now)
            } else {
                self.queue_then_update(key, value, weight, ttl, now)
            }
        });
        match done {
            Ok(Ok(due)) => {
                if due {
                    self.flush_wakeup.notify_one();
                }
                Ok(())
            }
            Ok(Err(value)) | Err(value) => Err(value),
        }
    }

    /// Write-allocate: queues the write, then caches the value (the
    /// caller's, moved into L1). `Ok`: whether a batch is due; `Err`: the
    /// queue is full.
    fn queue_then_cache(
        &self,
        key: &[u8],
        value: Bytes,
        weight: u64,
        ttl: Option<Duration>,
        now: Instant,
    ) -> Result<bool, Bytes> {
        let mut owned: Option<ByteKey> = None;
        let due = {
            let mut w = self.writes.lock();
            if self.shut_down.load(Ordering::Acquire) {
                return Err(value); // the general path reports it
            }
            let op = PendingOp::Put(QueuedValue::from_shared(&value, ttl));
            let make = || owned.get_or_insert_with(|| ByteKey::copy_from_slice(key)).clone();
            if w.queue.push_with(key, make, op, now) == Enqueued::Full {
                return Err(value);
            }
            self.plan.due_by_size(&w.queue)
        };
        let make = || owned.unwrap_or_else(|| ByteKey::copy_from_slice(key));
        self.l1.insert_with(key, make, value, weight, ttl, now);
        Ok(due)
    }

    /// No-write-allocate: replaces the value in L1 only if L1 holds the key
    /// (the value is shared with the queue only then), then queues the
    /// write. L1 is written under the queue's lock, after the room check,
    /// so a put that fails leaves L1 as it was.
    fn queue_then_update(
        &self,
        key: &[u8],
        value: Bytes,
        weight: u64,
        ttl: Option<Duration>,
        now: Instant,
    ) -> Result<bool, Bytes> {
        let mut w = self.writes.lock();
        if !w.queue.accepts(key) || self.shut_down.load(Ordering::Acquire) {
            return Err(value);
        }
        // If L1 holds the key it takes the caller's value and the queue a
        // copy (or, for a long value, a share); else the queue takes it.
        let mut value = value;
        let mut queued = None;
        let replace = || {
            queued = Some(QueuedValue::from_shared(&value, ttl));
            std::mem::take(&mut value)
        };
        self.l1.write_shard(key, ttl, |s, hash| s.update_hashed(hash, key, replace, weight, ttl, now));
        let op = PendingOp::Put(queued.unwrap_or_else(|| QueuedValue::from_bytes(value, ttl)));
        let pushed = w.queue.push_with(key, || ByteKey::copy_from_slice(key), op, now);
        debug_assert_ne!(pushed, Enqueued::Full, "room was checked under the same lock");
        Ok(self.plan.due_by_size(&w.queue))
    }

    pub(crate) async fn put(self: &Arc<Self>, key: &[u8], value: Bytes, ttl: Option<Duration>) -> Result<()> {
        self.check_open()?;
        if !self.plan.is_queued() {
            // Boxed: the future of a put that is done at once stays small.
            return Box::pin(self.put_general(Bytes::copy_from_slice(key), value, ttl)).await;
        }
        let for_l2 = self.l2.is_some().then(|| value.clone());
        match self.put_queued_now(key, value, ttl) {
            Ok(()) => {
                self.metrics.writes.incr();
                if let Some(value) = for_l2 {
                    let entry = (Bytes::copy_from_slice(key), value);
                    Box::pin(self.l2_write(std::slice::from_ref(&entry), ttl)).await;
                }
                Ok(())
            }
            Err(value) => Box::pin(self.put_general(Bytes::copy_from_slice(key), value, ttl)).await,
        }
    }

    /// A put by the write plan, with a ticket: write-through, and queued
    /// puts that must wait for room or overlap another write of the key.
    async fn put_general(self: &Arc<Self>, key: Bytes, value: Bytes, ttl: Option<Duration>) -> Result<()> {
        let span = tracing::debug_span!("strata.put", key_len = key.len(), value_len = value.len());
        async {
            let ticket = self.loads.begin_write(&key);
            let keys = std::slice::from_ref(&key);
            let guard = match self.plan {
                WritePlan::L3ThenCaches => {
                    let guard = DropOnCancel::arm(self, keys);
                    if let Err(e) = self.timed_write(self.l3.put(&key, value.clone())).await {
                        self.metrics.write_errors.incr();
                        // L3 may or may not have applied it: no cache may
                        // keep a value L3 does not have.
                        self.drop_from_caches(&key, false).await;
                        guard.disarm();
                        return Err(e);
                    }
                    Some(guard)
                }
                WritePlan::CachesThenL3Each | WritePlan::CachesThenL3Batched => {
                    self.enqueue(key.clone(), PendingOp::Put(QueuedValue::from_shared(&value, ttl))).await?;
                    None
                }
            };
            self.metrics.writes.incr();
            let stored = self.cache_written(ticket, &key, &value, ttl);
            self.l2_write_after(&[(key.clone(), value)], &[stored], ttl).await;
            if let Some(guard) = guard {
                guard.disarm();
            }
            Ok(())
        }
        .instrument(span)
        .await
    }

    /// Write-through: one L3 call for the batch, then the caches. Queued
    /// strategies: the batch is queued all or none (see [`Self::enqueue_all`]),
    /// in parts of at most `queue_capacity` entries when it is longer (an
    /// error then leaves the parts before it queued, and cached); each part's
    /// keys are cached with no await between their push and their L1 update.
    pub(crate) async fn put_batch(self: &Arc<Self>, entries: Vec<(Bytes, Bytes)>) -> Result<()> {
        self.check_open()?;
        let span = tracing::debug_span!("strata.put_batch", len = entries.len());
        async {
            let mut tickets =
                entries.iter().map(|(k, _)| self.loads.begin_write(k)).collect::<Vec<_>>().into_iter();
            let mut stored = Vec::with_capacity(entries.len());
            let mut failed = None;
            let keys: Vec<Bytes>;
            let mut guard = None;
            match self.plan {
                WritePlan::L3ThenCaches => {
                    keys = entries.iter().map(|(k, _)| k.clone()).collect();
                    let armed = DropOnCancel::arm(self, &keys);
                    if let Err(e) = self.timed_write(self.l3.put_many(entries.clone())).await {
                        self.metrics.write_errors.incr();
                        for (k, _) in &entries {
                            self.drop_from_caches(k, false).await;
                        }
                        armed.disarm();
                        return Err(e);
                    }
                    guard = Some(armed);
                    for ((k, v), ticket) in entries.iter().zip(tickets.by_ref()) {
                        self.metrics.writes.incr();
                        stored.push(self.cache_written(ticket, k, v, None));
                    }
                }
                WritePlan::CachesThenL3Each | WritePlan::CachesThenL3Batched => {
                    for part in entries.chunks(self.config.write.queue_capacity.max(1)) {
                        if let Err(e) = self.enqueue_all(part).await {
                            failed = Some(e);
                            break;
                        }
                        for ((k, v), ticket) in part.iter().zip(tickets.by_ref()) {
                            self.metrics.writes.incr();
                            stored.push(self.cache_written(ticket, k, v, None));
                        }
                    }
                }
            }
            self.l2_write_after(&entries[..stored.len()], &stored, None).await;
            if let Some(guard) = guard {
                guard.disarm();
            }
            failed.map_or(Ok(()), Err)
        }
        .instrument(span)
        .await
    }

    pub(crate) async fn delete(self: &Arc<Self>, key: Bytes) -> Result<bool> {
        self.check_open()?;
        let span = tracing::debug_span!("strata.delete", key_len = key.len());
        async {
            // A put of the key overlapping this delete must not cache its value.
            let ticket = self.loads.begin_write(&key);
            let existed = match self.plan {
                WritePlan::L3ThenCaches => {
                    let guard = DropOnCancel::arm(self, std::slice::from_ref(&key));
                    let r = self.timed_write(self.l3.delete(&key)).await;
                    self.loads.store_after_write(ticket, || {});
                    // Whatever L3 did, the caches must not keep the key.
                    self.drop_from_caches(&key, r.is_ok()).await;
                    guard.disarm();
                    r.inspect_err(|_| self.metrics.write_errors.incr())?
                }
                WritePlan::CachesThenL3Each | WritePlan::CachesThenL3Batched => {
                    let visible = match self.pending_value(&key) {
                        Some(v) => v.is_some(),
                        None => match self.l1.peek_map(&key[..], self.clock.now(), |v| !absent::is_absent(v))
                        {
                            // L1 holds a value, or marks the key absent.
                            Some(present) => present,
                            None => self.exists_l3(&key).await?,
                        },
                    };
                    self.enqueue(key.clone(), PendingOp::Delete).await?;
                    self.loads.store_after_write(ticket, || {});
                    self.drop_from_caches(&key, true).await;
                    visible
                }
            };
            self.metrics.deletes.incr();
            Ok(existed)
        }
        .instrument(span)
        .await
    }

    /// Removes `key` from L1 (and L2) and stops loads in flight from
    /// re-populating it; `deleted`: the key is gone from L3 (L2 keeps a
    /// tombstone).
    pub(crate) async fn drop_from_caches(&self, key: &[u8], deleted: bool) {
        self.loads.invalidate(key);
        self.l1.remove(key);
        if self.l2.is_some() {
            self.l2_remove(&[Bytes::copy_from_slice(key)], deleted).await;
        }
    }

    pub(crate) async fn invalidate(&self, key: &[u8]) {
        if self.plan.is_queued() {
            let cancelled = self.writes.lock().queue.cancel(key);
            if cancelled {
                self.space.notify_waiters();
            }
        }
        // A reload in flight keeps its mark until it ends (its flight is
        // stale now and caches nothing): at most one per key, as in the
        // simulator.
        self.drop_from_caches(key, false).await;
    }

    pub(crate) async fn clear_cache(&self) {
        self.loads.invalidate_all();
        self.l1.clear();
        self.l2_clear().await;
    }
}
