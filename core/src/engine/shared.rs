//! How the engine uses L2: every call is counted and timed, and an error is
//! never the caller's: a failed read is a miss, a failed write is counted and
//! the key is deleted best-effort (so L2 does not keep a value older than
//! L3 for long; its TTL bounds the rest). Coherence: after a write, delete or
//! invalidation the key is published; the subscriber task drops keys other
//! instances published from this instance's L1. After a queued batch lands
//! in L3, its writes are written to L2 again, in L3's order (see
//! [`Inner::l2_after_flush`]).

use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;

use super::l2_value::{self, L2Read, encode, encode_all};
use super::{Inner, QueuedValue};
use crate::backend::StateBackend;
use crate::clock::Clock;
use crate::l1::ByteKey;
use crate::l2::Invalidation;
use crate::policy::PendingOp;

const SUBSCRIBE_RETRY_MAX: Duration = Duration::from_secs(5);

pub use crate::policy::TOMBSTONE_TTL;

/// The writes of a batch that landed in L3, as L2 must mirror them (see
/// [`Inner::l2_after_flush`]).
pub(crate) struct LandedWrites {
    /// Puts with the default TTL.
    puts: Vec<(Bytes, Bytes)>,
    /// Puts with a TTL of their own (`put_with_ttl`).
    puts_with_ttl: Vec<((Bytes, Bytes), Duration)>,
    deletes: Vec<Bytes>,
}

impl<B: StateBackend> Inner<B> {
    fn l2_ttl(&self) -> Option<Duration> {
        self.config.l2.as_ref().and_then(|c| c.ttl)
    }

    /// Reads `key` from L2: a miss on an error (counted). A marker is an
    /// L2 hit, also counted as a negative hit.
    pub(crate) async fn l2_get(&self, key: &[u8]) -> L2Read {
        let Some(l2) = self.l2.as_ref() else { return L2Read::Miss };
        let t0 = self.stopwatch.now();
        let r = l2.get(key).await;
        self.record_since(&self.metrics.l2_latency, t0);
        match r {
            Ok(v) => {
                let v = l2_value::decode(v, self.l2_negative());
                self.count_l2_read(&v);
                v
            }
            Err(e) => {
                tracing::debug!(error = %e, "strata: L2 read failed; going to L3");
                self.metrics.l2_misses.incr();
                self.metrics.l2_errors.incr();
                L2Read::Miss
            }
        }
    }

    /// Reads `keys` from L2 in one round trip: all misses on an error.
    pub(crate) async fn l2_get_many(&self, keys: &[Bytes]) -> Vec<L2Read> {
        let Some(l2) = self.l2.as_ref() else { return vec![L2Read::Miss; keys.len()] };
        let t0 = self.stopwatch.now();
        let r = l2.get_many(keys).await;
        self.record_since(&self.metrics.l2_latency, t0);
        match r {
            Ok(v) if v.len() == keys.len() => {
                let negative = self.l2_negative();
                let v: Vec<L2Read> = v.into_iter().map(|v| l2_value::decode(v, negative)).collect();
                v.iter().for_each(|r| self.count_l2_read(r));
                v
            }
            _ => {
                self.metrics.l2_errors.incr();
                self.metrics.l2_misses.add(keys.len() as u64);
                vec![L2Read::Miss; keys.len()]
            }
        }
    }

    /// Whether L2 remembers absent keys (`[l2] negative_ttl_ms`): then a
    /// tombstone answers "absent" as a marker does.
    fn l2_negative(&self) -> bool {
        self.config.l2.as_ref().is_some_and(crate::policy::absent::l2_tombstone_is_absent)
    }

    fn count_l2_read(&self, r: &L2Read) {
        match r {
            L2Read::Value(_) => self.metrics.l2_hits.incr(),
            L2Read::Absent => {
                self.metrics.l2_hits.incr();
                self.metrics.l2_negative_hits.incr();
            }
            L2Read::Miss => self.metrics.l2_misses.incr(),
        }
    }

    /// Copies values loaded from L3 into L2 without overwriting newer writes
    /// (in the background: the read does not wait for it).
    pub(crate) fn l2_populate(&self, entries: Vec<(Bytes, Bytes)>) {
        self.spawn_populate(encode_all(&entries), self.l2_ttl());
    }

    /// Leaves markers in L2 for keys a load found absent in L3, if
    /// `[l2] negative_ttl_ms` is set: `SET NX`, so a write (or a delete's
    /// tombstone) that reached L2 meanwhile stays. In the background, as
    /// [`Self::l2_populate`].
    pub(crate) fn l2_populate_absent(&self, keys: Vec<Bytes>) {
        let Some(ttl) = self.config.l2.as_ref().and_then(|c| c.negative_ttl) else { return };
        let entries = keys.into_iter().map(|k| (k, l2_value::absent())).collect();
        self.spawn_populate(entries, Some(ttl));
    }

    /// `SET NX` of encoded `entries` with `ttl`, in the background (one
    /// round trip); failures are counted.
    fn spawn_populate(&self, entries: Vec<(Bytes, Bytes)>, ttl: Option<Duration>) {
        let Some(l2) = self.l2.clone() else { return };
        if entries.is_empty() {
            return;
        }
        let errors = Arc::clone(&self.l2_populate_errors);
        self.background.spawn(async move {
            let r = match &entries[..] {
                [(k, v)] => l2.populate(k, v.clone(), ttl).await,
                _ => l2.populate_many(&entries, ttl).await,
            };
            if r.is_err() {
                errors.incr();
            }
        });
    }

    /// Writes values to L2 (with `ttl`, see [`Self::l2_write`]) and tells
    /// the other instances. Entries whose write raced with another
    /// instance's (not `stored` in L1) are removed from L2 instead, so
    /// neither tier pins a value that may be older than L3's.
    pub(crate) async fn l2_write_after(
        &self,
        entries: &[(Bytes, Bytes)],
        stored: &[bool],
        ttl: Option<Duration>,
    ) {
        if stored.iter().all(|s| *s) {
            return self.l2_write(entries, ttl).await;
        }
        let (fresh, raced): (Vec<_>, Vec<_>) = entries.iter().zip(stored).partition(|(_, s)| **s);
        let fresh: Vec<(Bytes, Bytes)> = fresh.into_iter().map(|(e, _)| e.clone()).collect();
        let raced: Vec<Bytes> = raced.into_iter().map(|((k, _), _)| k.clone()).collect();
        if !fresh.is_empty() {
            self.l2_write(&fresh, ttl).await;
        }
        self.l2_remove(&raced, false).await;
    }

    /// Writes values to L2 and tells the other instances. `ttl`: the
    /// writes' own TTL (`put_with_ttl`), which replaces `[l2] ttl_ms` for
    /// them as it replaces `[l1] ttl_ms` in L1; `None`: the default.
    pub(crate) async fn l2_write(&self, entries: &[(Bytes, Bytes)], ttl: Option<Duration>) {
        let Some(l2) = self.l2.as_ref() else { return };
        let ttl = match ttl {
            // A zero TTL expires at once, as in L1; for Redis (and `L2Tier`)
            // zero means "no expiry", so the shortest it keeps: 1 ms.
            Some(t) if t.is_zero() => Some(Duration::from_millis(1)),
            Some(t) => Some(t),
            None => self.l2_ttl(),
        };
        let r = match entries {
            [(k, v)] => l2.put(k, encode(v), ttl).await,
            _ => l2.put_many(&encode_all(entries), ttl).await,
        };
        let keys: Vec<Bytes> = entries.iter().map(|(k, _)| k.clone()).collect();
        if r.is_err() {
            self.metrics.l2_errors.incr();
            // Do not leave an older value behind (best effort; TTL bounds it).
            if l2.delete_many(&keys).await.is_err() {
                self.metrics.l2_errors.incr();
            }
        }
        self.l2_publish(&keys).await;
    }

    /// The writes of `batch` (just landed in L3) that L2 must mirror: each
    /// key's value, or a tombstone for a delete, unless a newer write of
    /// the key is queued again (its own flush will mirror it). `None`
    /// without L2.
    pub(crate) fn landed_for_l2(&self, batch: &[(ByteKey, PendingOp<QueuedValue>)]) -> Option<LandedWrites> {
        self.l2.as_ref()?;
        let mut landed = LandedWrites { puts: Vec::new(), puts_with_ttl: Vec::new(), deletes: Vec::new() };
        // In chunks, as the flusher holds the write lock (see `LOCK_CHUNK`).
        for chunk in batch.chunks(super::flusher::LOCK_CHUNK) {
            let w = self.writes.lock();
            for (k, op) in chunk {
                if w.queue.get(k).is_some() {
                    continue;
                }
                match op {
                    PendingOp::Put(v) => match v.ttl() {
                        None => landed.puts.push((k.to_bytes(), v.to_bytes())),
                        Some(ttl) => landed.puts_with_ttl.push(((k.to_bytes(), v.to_bytes()), ttl)),
                    },
                    PendingOp::Delete => landed.deletes.push(k.to_bytes()),
                }
            }
        }
        Some(landed)
    }

    /// Writes a batch that landed in L3 to L2 again, and tells the other
    /// instances. A queued put wrote L2 when it was made, but L3 only now:
    /// when two instances write one key within a flush interval, their L2
    /// writes and their L3 writes can land in opposite orders, and L2 would
    /// keep the value L3 lost until its TTL. Written again after each
    /// batch, in this instance's batch order, L2 ends with the value of the
    /// last batch to land (up to one Redis round trip, the window
    /// write-through has too). A put of a key made after
    /// [`Self::landed_for_l2`] looked may be overwritten in L2 by this
    /// older value until its own batch lands (L2 then equals L3 meanwhile).
    pub(crate) async fn l2_after_flush(&self, landed: Option<LandedWrites>) {
        let Some(landed) = landed else { return };
        if !landed.puts.is_empty() {
            self.l2_write(&landed.puts, None).await;
        }
        // Each with its own TTL (`put_with_ttl` is the exception: one call each).
        for (entry, ttl) in &landed.puts_with_ttl {
            self.l2_write(std::slice::from_ref(entry), Some(*ttl)).await;
        }
        if !landed.deletes.is_empty() {
            self.l2_remove(&landed.deletes, true).await;
        }
    }

    /// Removes keys from L2 and tells the other instances. After a delete
    /// (`tombstone`), the keys are replaced by tombstones (see
    /// [`TOMBSTONE_TTL`]) rather than removed.
    pub(crate) async fn l2_remove(&self, keys: &[Bytes], tombstone: bool) {
        let Some(l2) = self.l2.as_ref() else { return };
        let tomb = l2_value::tombstone();
        let ttl = Some(crate::policy::tombstone_ttl(self.l2_ttl()));
        let r = match (keys, tombstone) {
            ([k], true) => l2.put(k, tomb, ttl).await,
            (_, true) => {
                let entries: Vec<(Bytes, Bytes)> = keys.iter().map(|k| (k.clone(), tomb.clone())).collect();
                l2.put_many(&entries, ttl).await
            }
            ([k], false) => l2.delete(k).await,
            (_, false) => l2.delete_many(keys).await,
        };
        if r.is_err() {
            self.metrics.l2_errors.incr();
        }
        self.l2_publish(keys).await;
    }

    async fn l2_publish(&self, keys: &[Bytes]) {
        let Some(l2) = self.l2.as_ref() else { return };
        match l2.publish_invalidation(keys).await {
            Ok(()) => self.metrics.published_invalidations.add(keys.len() as u64),
            Err(_) => self.metrics.l2_errors.incr(),
        }
    }

    /// Empties this namespace of L2 and tells the other instances.
    pub(crate) async fn l2_clear(&self) {
        let Some(l2) = self.l2.as_ref() else { return };
        if l2.clear().await.is_err() {
            self.metrics.l2_errors.incr();
        }
        match l2.publish_clear().await {
            Ok(()) => self.metrics.published_invalidations.incr(),
            Err(_) => self.metrics.l2_errors.incr(),
        }
    }

    /// Applies an invalidation received from another instance.
    fn apply_remote(&self, msg: Invalidation) {
        match msg {
            Invalidation::Key(k) => {
                self.loads.invalidate_remote(Some(&k));
                self.l1.remove(&k[..]);
            }
            Invalidation::All => {
                self.loads.invalidate_remote(None);
                self.l1.clear();
            }
        }
        // Counted once applied: whoever sees the count sees its effect.
        self.metrics.remote_invalidations.incr();
    }
}

/// The subscriber task: subscribes (retrying with backoff until it works),
/// marks `ready`, then applies invalidations until the cache is dropped.
pub(crate) async fn subscriber<B: StateBackend>(weak: Weak<Inner<B>>, ready: watch::Sender<bool>) {
    let mut backoff = Duration::from_millis(50);
    let mut rx = loop {
        let Some(inner) = weak.upgrade() else { return };
        let Some(l2) = inner.l2.clone() else { return };
        drop(inner);
        match l2.subscribe_invalidations().await {
            Ok(rx) => break rx,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "strata: L2 invalidation subscribe failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(SUBSCRIBE_RETRY_MAX);
            }
        }
    };
    let _ = ready.send(true);
    while let Some(msg) = rx.recv().await {
        let Some(inner) = weak.upgrade() else { return };
        inner.apply_remote(msg);
    }
}
