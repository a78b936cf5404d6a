//! The state of a full simulation: instances, tiers, events, measurements,
//! and the helpers the read and write paths share.

use std::collections::VecDeque;
use std::time::Duration;

use hashbrown::HashMap;
use strata_core::config::Capacity;
use strata_core::l1::{KeyHasher, hash_key_with, key_hasher};
use strata_core::policy::{Isolation, PendingOp, RefreshPolicy, WriteBehindQueue, WritePlan};
use strata_core::{CacheConfig, Instant};

use super::truth::Truth;
use crate::config::{LatencyModels, SimConfig};
use crate::error::Result;
use crate::event::EventQueue;
use crate::rng::{SimRng, Stream, stream_rng};
use crate::stats::{Counters, LatencyRecorder, Series};
use crate::tier::{
    AbsentMarkers, L2Lookup, L2Model, L3Failures, L3Queue, L3Store, SimL1, build_l1, hash_seed, trace_ttl,
    weight,
};

/// A get waiting for a load.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Waiter {
    /// Arrival time.
    pub(crate) start: u64,
    /// L1 lookup time added to the wait.
    pub(crate) extra: u64,
    /// Newest committed version when the get began.
    pub(crate) committed: u64,
}

/// A load in flight (single-flight): the gets waiting for it (none for a
/// refresh-ahead until a get misses and joins it).
#[derive(Debug)]
pub(crate) struct Load {
    /// Which load (the events of a load carry it): a load made stale and
    /// one started after it can be in flight for one key at once.
    pub(crate) id: u64,
    pub(crate) size: u32,
    pub(crate) waiters: Vec<Waiter>,
    /// Started by refresh-ahead (its end ends the key's refresh).
    pub(crate) refresh: bool,
    /// L1's TTL for what it loads: `None` for the default, a refresh's
    /// entry's own (as the engine's `maybe_refresh`).
    pub(crate) ttl: Option<Duration>,
}

/// A set or delete on its way.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PendingWrite {
    pub(crate) key: u64,
    pub(crate) version: u64,
    pub(crate) size: u32,
    pub(crate) ttl: Option<u32>,
    pub(crate) delete: bool,
    pub(crate) start: u64,
    /// Write-through: the instance's count of invalidations received when
    /// the write began (see [`Instance::remote_epoch`]).
    pub(crate) epoch: u64,
}

/// One simulated application instance: its L1 and its engine's decisions.
#[derive(Debug)]
pub(crate) struct Instance {
    pub(crate) l1: SimL1<u64>,
    /// The write queue; a put's entry is the whole write, so that once it
    /// lands L2 can be written with it again.
    pub(crate) queue: WriteBehindQueue<u64, PendingWrite>,
    pub(crate) refresh: RefreshPolicy<u64>,
    /// The load of each key that gets join (key → load).
    pub(crate) loads: HashMap<u64, Load, KeyHasher>,
    /// Loads a write or an invalidation made stale (id → load): as the
    /// engine's single-flight, they still answer their gets but cache
    /// nothing, and later gets start a load of their own.
    pub(crate) stale_loads: HashMap<u64, Load, KeyHasher>,
    /// Writes of this instance not yet in L3: key → (version, whether a delete).
    pub(crate) own_writes: HashMap<u64, (u64, bool), KeyHasher>,
    /// Flusher turns in flight to L3.
    pub(crate) in_flight: u32,
    /// Writes in flight per key, and whether two of them overlapped (the
    /// engine's write tickets): write-through writes, and the deletes of
    /// the queued strategies while they ask L3 whether the key exists.
    pub(crate) tickets: HashMap<u64, (u32, bool), KeyHasher>,
    /// Invalidations this instance received so far: a write-through write
    /// during which one arrived caches nothing (the engine's remote epoch).
    pub(crate) remote_epoch: u64,
    /// Flusher turns in flight that write one write per L3 call:
    /// write-back turns, and write-behind batches being isolated.
    pub(crate) turns: HashMap<u64, Turn, KeyHasher>,
    /// Time of the earliest scheduled flush check.
    pub(crate) flush_at: Option<u64>,
    /// The flusher's wait after its last failed L3 write (zero after a
    /// success), and the time before which it starts no turn.
    pub(crate) backoff: Duration,
    pub(crate) retry_at: u64,
    /// Writes waiting for room in a full queue.
    pub(crate) parked: VecDeque<PendingWrite>,
}

/// A flusher turn in flight whose writes go to L3 one write per call:
/// a write-back turn (every write, up to `WRITE_BACK_CONCURRENCY` at
/// once), or a write-behind batch whose one call failed, written again one
/// write at a time in order (the engine's `isolate.rs`, one call in flight
/// at a time, stopping after `ISOLATE_DOWN_AFTER` failures in a row).
#[derive(Debug)]
pub(crate) struct Turn {
    /// The turn's writes, in queue order.
    pub(crate) ops: Vec<PendingWrite>,
    /// Calls started and not finished yet.
    pub(crate) left: usize,
    /// Writes started so far (`ops[..started]`); the rest are untried.
    pub(crate) started: usize,
    /// Writes whose own call failed, in the order they failed.
    pub(crate) failed: Vec<PendingWrite>,
    /// Isolation: whether L3 looks down (the shared rule).
    pub(crate) isolation: Isolation,
}

impl PendingWrite {
    /// The write as the queue holds it: a put carries the whole write (so
    /// that once it lands L2 can be written with it again), a delete
    /// nothing (its version is the instance's latest write of the key).
    pub(crate) fn into_op(self) -> PendingOp<PendingWrite> {
        if self.delete { PendingOp::Delete } else { PendingOp::Put(self) }
    }
}

/// An L3 request.
#[derive(Debug)]
pub(crate) enum Job {
    /// Read a key for a miss (or a refresh).
    Load { inst: u32, key: u64, size: u32, refresh: bool, load: u64 },
    /// A write-through write; its writer waits.
    Write { inst: u32, write: PendingWrite },
    /// Queue writes (a delete's version is the instance's latest write of
    /// the key) of one turn of the flusher. Write-behind writes a turn as
    /// one batch, one L3 call (`turn: None`); write-back each of its writes
    /// with an L3 call of its own, up to `WRITE_BACK_CONCURRENCY` at once
    /// (`turn: Some(t)`, one write of turn `t`), as the engine's flusher
    /// does. A write-behind batch of several writes whose call failed is
    /// written again one write at a time (`turn: Some(t)` too, each a
    /// batch call of one write: the engine's `isolate`).
    Flush { inst: u32, ops: Vec<PendingWrite>, turn: Option<u64> },
    /// A write-back or write-behind delete asks whether L3 holds the key
    /// (what `delete` returns) before it is queued.
    Exists { inst: u32, write: PendingWrite },
}

/// Something that happens at a point of virtual time.
#[derive(Debug)]
pub(crate) enum Event {
    /// An L2 get (issued earlier) answers: a value's version, an absent
    /// key's marker (the version L3 was found absent at), or a miss.
    L2Reply { inst: u32, key: u64, found: L2Lookup<u64>, load: u64 },
    /// An L3 request completes; `true`: it failed.
    L3Done(Job, bool),
    /// An invalidation reaches an instance.
    Invalidate { inst: u32, key: u64 },
    /// A write-behind queue may be due.
    FlushCheck { inst: u32 },
}

/// The generators of the latency models.
#[derive(Debug)]
pub(crate) struct Rngs {
    pub(crate) l1: SimRng,
    pub(crate) l2: SimRng,
    pub(crate) l3_read: SimRng,
    pub(crate) l3_write: SimRng,
    pub(crate) invalidation: SimRng,
}

/// The bit an L1 entry's version carries when the entry is an absent
/// key's marker (`l1.negative_ttl_ms`): the version is then the delete's
/// (versions never reach it).
pub(crate) const ABSENT: u64 = 1 << 63;

/// The whole simulation.
pub(crate) struct Sim {
    pub(crate) now: u64,
    pub(crate) events: EventQueue<Event>,
    pub(crate) inst: Vec<Instance>,
    pub(crate) l2: Option<L2Model<u64>>,
    pub(crate) l3: L3Store,
    pub(crate) l3q: L3Queue<Job>,
    pub(crate) failures: L3Failures,
    pub(crate) truth: Truth,
    pub(crate) lat: LatencyModels,
    pub(crate) rng: Rngs,
    pub(crate) plan: WritePlan,
    pub(crate) l1_capacity: Capacity,
    /// `l1.negative_ttl_ms`: how L1 remembers a key found absent.
    pub(crate) absent: AbsentMarkers,
    /// The seed of key hashes (see [`hash_seed`]).
    pub(crate) seed: u64,
    /// `write.allocate`: whether a write caches a key L1 does not hold.
    pub(crate) allocate: bool,
    pub(crate) flushers: u32,
    pub(crate) backpressure_ns: u64,
    /// `shutdown_ms` in nanoseconds.
    pub(crate) shutdown_ns: u64,
    /// The shutdown deadline, once the trace has ended: no flusher turn
    /// starts at or after it.
    pub(crate) shutdown_at: Option<u64>,
    pub(crate) c: Counters,
    pub(crate) reads: LatencyRecorder,
    pub(crate) writes: LatencyRecorder,
    pub(crate) batch_sizes: LatencyRecorder,
    pub(crate) series: Series,
    pub(crate) max_stale_age: u64,
    /// The id of the next load.
    pub(crate) next_load: u64,
    /// The id of the next write-back turn.
    pub(crate) next_turn: u64,
}

impl Sim {
    /// A simulation of `cache` under `sim`.
    pub(crate) fn new(cache: &CacheConfig, sim: &SimConfig) -> Result<Self> {
        cache.validate()?;
        sim.validate()?;
        let lat = sim.latency.build()?;
        let inst = (0..sim.instances)
            .map(|_| Instance {
                l1: build_l1(&cache.l1),
                queue: WriteBehindQueue::from_config(&cache.write),
                refresh: RefreshPolicy::new(&cache.refresh),
                loads: HashMap::with_hasher(key_hasher()),
                stale_loads: HashMap::with_hasher(key_hasher()),
                own_writes: HashMap::with_hasher(key_hasher()),
                in_flight: 0,
                turns: HashMap::with_hasher(key_hasher()),
                tickets: HashMap::with_hasher(key_hasher()),
                remote_epoch: 0,
                flush_at: None,
                backoff: Duration::ZERO,
                retry_at: 0,
                parked: VecDeque::new(),
            })
            .collect();
        let seed = sim.seed;
        Ok(Self {
            now: 0,
            events: EventQueue::new(),
            inst,
            l2: cache.l2.as_ref().map(|l2| L2Model::new(l2, hash_seed(&cache.l1))),
            l3: L3Store::default(),
            l3q: L3Queue::new(sim.l3.concurrency),
            failures: L3Failures::new(&sim.l3, sim.seed),
            truth: Truth::default(),
            lat,
            rng: Rngs {
                l1: stream_rng(seed, Stream::L1Latency, 0),
                l2: stream_rng(seed, Stream::L2Latency, 0),
                l3_read: stream_rng(seed, Stream::L3Read, 0),
                l3_write: stream_rng(seed, Stream::L3Write, 0),
                invalidation: stream_rng(seed, Stream::Invalidation, 0),
            },
            plan: WritePlan::of(cache.write.strategy),
            l1_capacity: cache.l1.capacity,
            absent: AbsentMarkers::new(&cache.l1),
            seed: hash_seed(&cache.l1),
            allocate: cache.write.allocate,
            flushers: sim.flushers,
            backpressure_ns: u64::try_from(cache.write.backpressure_timeout.as_nanos()).unwrap_or(u64::MAX),
            shutdown_ns: sim.shutdown_ms.saturating_mul(1_000_000),
            shutdown_at: None,
            c: Counters::default(),
            reads: LatencyRecorder::new(),
            writes: LatencyRecorder::new(),
            batch_sizes: LatencyRecorder::new(),
            series: Series::new(sim.window_ms.saturating_mul(1_000_000), cache.l2.is_some()),
            max_stale_age: 0,
            next_load: 0,
            next_turn: 0,
        })
    }

    /// Virtual now as a core `Instant`.
    #[inline]
    pub(crate) fn instant(&self) -> Instant {
        Instant::from_nanos(self.now)
    }

    #[inline]
    pub(crate) fn l1_ns(&mut self) -> u64 {
        self.lat.l1.sample_ns(&mut self.rng.l1)
    }

    #[inline]
    pub(crate) fn l2_ns(&mut self) -> u64 {
        self.lat.l2.sample_ns(&mut self.rng.l2)
    }

    /// A get of `key` that began with `committed` returned `version` after `latency`.
    #[inline]
    pub(crate) fn finish_read(&mut self, key: u64, version: u64, committed: u64, latency: u64) {
        self.reads.record(latency);
        self.series.record_read(latency);
        if let Some(age) = self.truth.stale_age(key, version, committed, self.now) {
            self.c.stale_reads += 1;
            self.max_stale_age = self.max_stale_age.max(age);
        }
    }

    /// Sends `job` to L3 now (it may wait for a free slot).
    pub(crate) fn submit_l3(&mut self, job: Job) {
        match &job {
            Job::Load { refresh: false, .. } => self.c.l3_reads += 1,
            Job::Load { refresh: true, .. } => self.c.l3_refresh_reads += 1,
            Job::Exists { .. } => self.c.l3_exists_reads += 1,
            // Keys written count when they land (`l3_write_ops`).
            Job::Write { .. } | Job::Flush { .. } => self.c.l3_write_requests += 1,
        }
        if let Some(job) = self.l3q.submit(job, self.now) {
            self.start_l3(job);
        }
    }

    /// `job` enters service now.
    pub(crate) fn start_l3(&mut self, job: Job) {
        let ns = match &job {
            Job::Load { .. } | Job::Exists { .. } => self.lat.l3_read.sample_ns(&mut self.rng.l3_read),
            // A write-through write, and each of write-back's, is a call
            // of its own (`put`, `delete`).
            Job::Write { .. } => self.lat.l3_write.sample_ns(&mut self.rng.l3_write),
            Job::Flush { .. } if self.plan != WritePlan::CachesThenL3Batched => {
                self.lat.l3_write.sample_ns(&mut self.rng.l3_write)
            }
            // Write-behind's batches, those of one write isolating a failed batch too.
            Job::Flush { ops, .. } => self
                .lat
                .l3_write
                .sample_ns(&mut self.rng.l3_write)
                .saturating_add(self.lat.l3_batch_item_ns.saturating_mul(ops.len() as u64)),
        };
        let failed = self.failures.fails(self.now);
        self.events.push(self.now.saturating_add(ns), Event::L3Done(job, failed));
    }

    /// A write of `key` at instance `i` takes a ticket (the engine's
    /// `begin_write`): if another is in flight, both overlapped.
    pub(crate) fn begin_ticket(&mut self, i: usize, key: u64) {
        let (n, overlapped) = self.inst[i].tickets.entry(key).or_insert((0, false));
        *n += 1;
        *overlapped |= *n > 1;
    }

    /// The write's ticket ends: whether it overlapped another write of
    /// the key at instance `i`.
    pub(crate) fn end_ticket(&mut self, i: usize, key: u64) -> bool {
        let tickets = &mut self.inst[i].tickets;
        match tickets.get_mut(&key) {
            Some((n, overlapped)) => {
                let o = *overlapped;
                *n -= 1;
                if *n == 0 {
                    tickets.remove(&key);
                }
                o
            }
            None => false,
        }
    }

    /// A write of `key` reached instance `i`'s caches (its own, or another
    /// instance's by invalidation): its load of the key in flight (a
    /// refresh's too), if any, must not cache what it reads (the engine's
    /// `SingleFlight::mark_stale`).
    pub(crate) fn stale_load(&mut self, i: usize, key: u64) {
        let inst = &mut self.inst[i];
        if let Some(load) = inst.loads.remove(&key) {
            inst.stale_loads.insert(load.id, load);
        }
    }

    /// A write of instance `i` that may not cache (see
    /// `on_write_through_done`): commits it, drops the key from the
    /// instance's L1 and from L2 (a delete leaves its tombstone), and
    /// invalidates the other instances. Returns the L2 call's latency (0
    /// without L2).
    pub(crate) fn drop_from_caches(&mut self, i: usize, w: &PendingWrite) -> u64 {
        let l2_ns = self.uncache(i, w.key, w.delete.then_some(w.version));
        self.truth.commit(w.key, w.version, self.now);
        self.invalidate_others(i, w.key);
        l2_ns
    }

    /// Drops `key` from instance `i`'s L1 (its load in flight made stale)
    /// and from L2, leaving there the tombstone of a delete at `deleted`
    /// (its version), if any. Returns the L2 call's latency (0 without L2).
    pub(crate) fn uncache(&mut self, i: usize, key: u64, deleted: Option<u64>) -> u64 {
        self.stale_load(i, key);
        self.inst[i].l1.remove(&key);
        let mut l2_ns = 0;
        if self.l2.is_some() {
            l2_ns = self.l2_ns();
            let (hash, now) = (self.hash(key), self.instant());
            if let Some(l2) = &mut self.l2 {
                if let Some(version) = deleted {
                    l2.delete(hash, key, version, now);
                } else {
                    l2.remove(key);
                }
            }
        }
        l2_ns
    }

    /// Tells every instance but `writer` to drop `key`, each after a sampled
    /// delay. Only with L2: the engine's instances hear of each other's
    /// writes through Redis (pub/sub), and without it they never do.
    pub(crate) fn invalidate_others(&mut self, writer: usize, key: u64) {
        if self.l2.is_none() {
            return;
        }
        for j in 0..self.inst.len() {
            if j != writer {
                let at = self.now.saturating_add(self.lat.invalidation.sample_ns(&mut self.rng.invalidation));
                self.events.push(at, Event::Invalidate { inst: j as u32, key });
            }
        }
    }

    /// The hash of `key` under the simulation's seed: L1, the L2 model and
    /// routing all file a key under it.
    #[inline]
    pub(crate) fn hash(&self, key: u64) -> u64 {
        hash_key_with(self.seed, &key)
    }

    /// Writes `w` to L2, if there is one: its value, or (a delete) a
    /// tombstone. `hash` is [`Self::hash`] of `w.key`.
    pub(crate) fn write_l2(&mut self, w: &PendingWrite, hash: u64, now: Instant) {
        if let Some(l2) = &mut self.l2 {
            if w.delete {
                l2.delete(hash, w.key, w.version, now);
            } else {
                l2.set(hash, w.key, w.version, w.size, trace_ttl(w.ttl), now);
            }
        }
    }

    /// Applies `w` to instance `i`'s L1 and to L2, commits it and invalidates
    /// the other instances. Returns the L2 call's latency (0 without L2).
    pub(crate) fn apply_to_caches(&mut self, i: usize, w: &PendingWrite) -> u64 {
        let now = self.instant();
        let hash = self.hash(w.key);
        let ttl = trace_ttl(w.ttl);
        self.stale_load(i, w.key);
        let inst = &mut self.inst[i];
        if w.delete {
            inst.l1.remove(&w.key);
        } else {
            inst.l1.write_hashed(
                self.allocate,
                hash,
                &w.key,
                || w.key,
                w.version,
                weight(self.l1_capacity, w.size),
                ttl,
                now,
            );
        }
        let mut l2_ns = 0;
        if self.l2.is_some() {
            l2_ns = self.l2_ns();
            self.write_l2(w, hash, now);
        }
        self.truth.commit(w.key, w.version, self.now);
        self.invalidate_others(i, w.key);
        l2_ns
    }
}
