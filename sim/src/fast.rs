//! The hit-ratio-only replay: a straight loop over the requests through
//! each instance's L1 (and the shared L2 when configured), with no latency
//! model and no event heap. With L2, writes invalidate other instances at
//! once (without it the engine's instances never hear of each other's
//! writes, and neither do these); a due refresh-ahead reloads at once
//! (from L2 when it holds the key, else from L3);
//! every L3 write is one request. A deleted key is absent from L3 until a
//! put stores it again: its reads load nothing and cache nothing. A
//! write-back or write-behind delete of a key L1 does not hold counts an
//! L3 existence check (what the engine's `delete` returns; the engine
//! skips it for a key still in its write queue, which this loop does not
//! model). Invalidation messages are counted as the engine sends them: one
//! to each other instance per write-through write, two per queued write
//! (when it is made and when it lands; the full replay counts one less
//! where a write coalesces with a later one).
//!
//! With negative caching (`l1.negative_ttl_ms`), a read that finds a key
//! absent leaves a marker in L1, as the engine's; the engine finds the key
//! absent in its own pending delete without an L3 read, which this loop,
//! having no queue, counts as one (the L1 contents are the same). With
//! `l2.negative_ttl_ms`, an L3 read (a miss's or a refresh's) that finds a
//! key absent also leaves a marker in L2 (`SET NX`); a load that finds it
//! there is an L2 hit answering "absent" without L3 (and L1 remembers the
//! absence as after L3).
//!
//! It drives the same `L1Store` and policies as the full engine, so its L1
//! hits equal the full engine's whenever loads finish before the next
//! request of their key arrives.

use std::time::Duration;

use hashbrown::HashSet;
use strata_core::config::Capacity;
use strata_core::l1::{KeyHasher, hash_key_with, key_hasher};
use strata_core::policy::{RefreshPolicy, WritePlan};
use strata_core::{CacheConfig, Instant};

use crate::arrival::{Arrivals, Router};
use crate::config::SimConfig;
use crate::error::Result;
use crate::replay::in_chunks;
use crate::report::{Mode, Report, RunStats};
use crate::stats::{Counters, Series};
use crate::tier::{AbsentMarkers, L2Lookup, L2Model, SimL1, build_l1, hash_seed, trace_ttl, weight};
use crate::trace::{Op, Request};

/// What one request did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A get served by L1.
    L1Hit,
    /// A get served by L2.
    L2Hit,
    /// A get loaded from L3.
    Miss,
    /// A set or delete.
    Write,
}

/// The fast simulator; feed it requests with [`FastSim::step`].
pub struct FastSim {
    /// Each instance's L1; an entry's value says whether it is an absent
    /// key's marker (`l1.negative_ttl_ms`).
    l1: Vec<SimL1<bool>>,
    refresh: Vec<RefreshPolicy<u64>>,
    refresh_enabled: bool,
    l2: Option<L2Model<()>>,
    /// The seed of key hashes (see [`hash_seed`]).
    seed: u64,
    l1_capacity: Capacity,
    /// `l1.negative_ttl_ms`: how L1 remembers a key found absent.
    absent: AbsentMarkers,
    /// `write.allocate`: whether a write caches a key L1 does not hold.
    allocate: bool,
    /// Write-back or write-behind (writes queued, not written at once).
    queued: bool,
    arrivals: Arrivals,
    router: Router,
    series: Series,
    c: Counters,
    now: u64,
    /// Keys a delete removed from L3 and no put stored since: a read finds
    /// nothing and, as in the engine, caches nothing.
    deleted: HashSet<u64, KeyHasher>,
}

impl FastSim {
    /// A fast simulation of `cache` under `sim` (latencies are ignored).
    ///
    /// # Errors
    /// [`crate::SimError`] when either configuration is invalid.
    pub fn new(cache: &CacheConfig, sim: &SimConfig) -> Result<Self> {
        cache.validate()?;
        sim.validate()?;
        let n = sim.instances as usize;
        Ok(Self {
            l1: (0..n).map(|_| build_l1(&cache.l1)).collect(),
            refresh: (0..n).map(|_| RefreshPolicy::new(&cache.refresh)).collect(),
            refresh_enabled: cache.refresh.enabled,
            l2: cache.l2.as_ref().map(|l2| L2Model::new(l2, hash_seed(&cache.l1))),
            seed: hash_seed(&cache.l1),
            l1_capacity: cache.l1.capacity,
            absent: AbsentMarkers::new(&cache.l1),
            allocate: cache.write.allocate,
            queued: WritePlan::of(cache.write.strategy).is_queued(),
            arrivals: Arrivals::new(sim.arrival),
            router: Router::for_sim(sim),
            series: Series::new(sim.window_ms.saturating_mul(1_000_000), cache.l2.is_some()),
            c: Counters::default(),
            now: 0,
            deleted: HashSet::with_hasher(key_hasher()),
        })
    }

    /// Replays one request.
    #[inline(always)]
    pub fn step(&mut self, r: &Request) -> Outcome {
        let t = self.arrivals.next(r.time_ns);
        if t != self.now {
            self.now = t;
            self.series.tick(t, &self.c);
        }
        self.c.requests += 1;
        let now = Instant::from_nanos(t);
        let hash = hash_key_with(self.seed, &r.key);
        let i = self.router.route(hash);
        match r.op {
            Op::Get => self.get(i, hash, r.key, r.size, now),
            Op::Set => {
                self.c.writes += 1;
                self.write(i, hash, r, now);
                Outcome::Write
            }
            Op::Delete => {
                self.c.deletes += 1;
                self.write(i, hash, r, now);
                Outcome::Write
            }
        }
    }

    #[inline(always)]
    fn get(&mut self, i: usize, hash: u64, key: u64, size: u32, now: Instant) -> Outcome {
        let c = &mut self.c;
        c.reads += 1;
        c.read_bytes += u64::from(size);
        let l1 = &mut self.l1[i];
        if let Some(e) = l1.get_hashed(hash, &key, now) {
            c.l1_hits += 1;
            c.l1_hit_bytes += u64::from(size);
            if e.value {
                // A marker answers "absent" and starts no refresh.
                c.negative_hits += 1;
            } else if self.refresh_enabled {
                let (inserted, expires) = (e.inserted_at, e.expires_at);
                if self.refresh[i].on_hit(&key, inserted, expires, now) {
                    c.refreshes += 1;
                    // As the engine's: from L2 when it holds the key (or
                    // its marker), else from L3; a refresh that finds
                    // nothing (deleted) stores nothing but the markers.
                    let load = Load::run(&mut self.l2, c, &self.deleted, hash, key, size, now);
                    if load.from_l3 {
                        c.l3_refresh_reads += 1;
                    }
                    // The reloaded value keeps the entry's own TTL.
                    let ttl = Some(expires.saturating_duration_since(inserted));
                    load.fill_l1(l1, self.absent, self.l1_capacity, hash, key, size, ttl, now);
                    self.refresh[i].finish(&key);
                }
            }
            return Outcome::L1Hit;
        }
        let load = Load::run(&mut self.l2, c, &self.deleted, hash, key, size, now);
        let outcome = if load.from_l3 {
            c.l3_reads += 1;
            Outcome::Miss
        } else {
            Outcome::L2Hit
        };
        load.fill_l1(l1, self.absent, self.l1_capacity, hash, key, size, None, now);
        outcome
    }

    fn write(&mut self, i: usize, hash: u64, r: &Request, now: Instant) {
        self.c.l3_write_ops += 1;
        self.c.l3_write_requests += 1;
        if r.op == Op::Delete {
            self.deleted.insert(r.key);
        } else if !self.deleted.is_empty() {
            self.deleted.remove(&r.key);
        }
        if r.op == Op::Delete && self.queued && self.l1[i].peek(&r.key, now).is_none() {
            self.c.l3_exists_reads += 1;
        }
        if self.l2.is_some() {
            let notices = if self.queued { 2 } else { 1 };
            self.c.invalidations += notices * (self.l1.len() as u64 - 1);
        }
        let ttl = trace_ttl(r.ttl);
        for (j, l1) in self.l1.iter_mut().enumerate() {
            if j == i && r.op == Op::Set {
                l1.write_hashed(
                    self.allocate,
                    hash,
                    &r.key,
                    || r.key,
                    false,
                    weight(self.l1_capacity, r.size),
                    ttl,
                    now,
                );
            } else if j == i {
                // A delete, on the instance that makes it.
                l1.remove(&r.key);
            } else if self.l2.is_some() {
                l1.remove(&r.key);
            }
        }
        if let Some(l2) = &mut self.l2 {
            if r.op == Op::Set {
                l2.set(hash, r.key, (), r.size, ttl, now);
            } else {
                l2.delete(hash, r.key, (), now);
            }
        }
    }

    /// The counters so far.
    #[must_use]
    pub fn counters(&self) -> &Counters {
        &self.c
    }

    /// Ends the run and builds the report.
    #[must_use]
    pub fn finish(self, cache: &CacheConfig, sim: &SimConfig) -> Report {
        let mut l1 = strata_core::l1::StoreCounters::default();
        for s in &self.l1 {
            l1 += s.counters();
        }
        let stats = RunStats {
            counters: self.c,
            l1,
            l2: self.l2.as_ref().map(L2Model::counters),
            duration_ns: self.now,
            series: self.series.finish(&self.c),
            ..RunStats::default()
        };
        stats.into_report(Mode::HitRatioOnly, cache, sim)
    }
}

/// What a load (a miss's or a refresh's) found, and where.
#[derive(Clone, Copy, Debug)]
struct Load {
    /// L2 answered neither a value nor a marker: L3 was read.
    from_l3: bool,
    /// The key is absent (L2's marker, or L3 found nothing).
    absent: bool,
}

impl Load {
    /// Loads `key` as the engine does: from L2 when configured (counting
    /// the lookup), else or on a miss from L3 (counted by the caller, a
    /// miss's and a refresh's reads apart), filling L2 after an L3 read
    /// where it holds nothing (`SET NX`): the value or, if the key is
    /// absent, the marker `l2.negative_ttl_ms` asks for.
    #[inline(always)]
    fn run(
        l2: &mut Option<L2Model<()>>,
        c: &mut Counters,
        deleted: &HashSet<u64, KeyHasher>,
        hash: u64,
        key: u64,
        size: u32,
        now: Instant,
    ) -> Self {
        match l2.as_mut().map(|l2| l2.get(hash, key, now)) {
            Some(found) if found.is_hit() => {
                c.l2_hits += 1;
                c.l2_hit_bytes += u64::from(size);
                let absent = matches!(found, L2Lookup::Absent(()));
                c.l2_negative_hits += u64::from(absent);
                return Self { from_l3: false, absent };
            }
            Some(_) => {
                c.l2_misses += 1;
                c.l2_miss_bytes += u64::from(size);
            }
            None => {}
        }
        let absent = !deleted.is_empty() && deleted.contains(&key);
        if let Some(l2) = l2 {
            if absent {
                l2.populate_absent(hash, key, (), now);
            } else {
                l2.populate(hash, key, (), size, now);
            }
        }
        Self { from_l3: true, absent }
    }

    /// Fills `l1` with what the load found: the value (with `ttl`: `None`
    /// for the default, a refresh's entry's own), or (absent) the marker
    /// `l1.negative_ttl_ms` asks for.
    #[allow(clippy::too_many_arguments)] // the request's parts and the state it reads
    #[inline(always)]
    fn fill_l1(
        self,
        l1: &mut SimL1<bool>,
        markers: AbsentMarkers,
        capacity: Capacity,
        hash: u64,
        key: u64,
        size: u32,
        ttl: Option<Duration>,
        now: Instant,
    ) {
        if self.absent {
            markers.remember(l1, hash, key, true, now);
        } else {
            l1.insert_hashed(hash, key, false, weight(capacity, size), ttl, now);
        }
    }
}

/// Replays `requests` through `cache` counting hits only; `progress` as in
/// [`crate::replay::run`].
///
/// # Errors
/// [`crate::SimError`] when either configuration is invalid.
pub fn run_hit_ratio_only<I, P>(
    cache: &CacheConfig,
    sim: &SimConfig,
    requests: I,
    mut progress: P,
) -> Result<Report>
where
    I: IntoIterator<Item = Request>,
    P: FnMut(u64),
{
    let mut s = FastSim::new(cache, sim)?;
    in_chunks(requests, |chunk| {
        for r in chunk {
            s.step(r);
        }
        progress(s.c.requests);
    });
    Ok(s.finish(cache, sim))
}
