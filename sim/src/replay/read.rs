//! The read path: L1 → (own pending writes) → single-flight → L2 → L3,
//! read-through population, refresh-ahead. A key an L3 load finds absent
//! leaves a marker in L1 (`l1.negative_ttl_ms`) and in L2
//! (`l2.negative_ttl_ms`); a load that finds L2's marker answers "absent"
//! without L3, and L1 remembers it as if L3 had answered.

use std::time::Duration;

use super::state::{ABSENT, Event, Job, Load, Sim, Waiter};
use crate::tier::{L2Lookup, weight};

impl Sim {
    /// A get of `key` (`size` bytes) arrives at instance `i`.
    pub(crate) fn on_get(&mut self, i: usize, key: u64, hash: u64, size: u32) {
        self.c.reads += 1;
        self.c.read_bytes += u64::from(size);
        let l1_ns = self.l1_ns();
        let now = self.instant();
        let inst = &mut self.inst[i];
        if let Some(e) = inst.l1.get_hashed(hash, &key, now) {
            let (value, inserted, expires) = (e.value, e.inserted_at, e.expires_at);
            let (version, absent) = (value & !ABSENT, value & ABSENT != 0);
            self.c.l1_hits += 1;
            self.c.l1_hit_bytes += u64::from(size);
            if absent {
                // A marker answers "absent" and starts no refresh.
                self.c.negative_hits += 1;
            } else if inst.refresh.is_enabled() && inst.refresh.on_hit(&key, inserted, expires, now) {
                self.c.refreshes += 1;
                // The reloaded value keeps the entry's own TTL.
                self.refresh(i, key, hash, size, Some(expires.saturating_duration_since(inserted)));
            }
            let committed = self.truth.committed(key);
            self.finish_read(key, version, committed, l1_ns);
            return;
        }
        let committed = self.truth.committed(key);
        if let Some(version) = self.cache_pending(i, key, hash, size, None) {
            // Reads see their own writes while the queue still holds them.
            self.c.pending_write_reads += 1;
            self.finish_read(key, version, committed, l1_ns);
            return;
        }
        let waiter = Waiter { start: self.now, extra: l1_ns, committed };
        if let Some(load) = self.inst[i].loads.get_mut(&key) {
            self.c.coalesced_loads += 1;
            load.waiters.push(waiter);
            return;
        }
        self.start_load(i, key, hash, size, Some(waiter), None);
    }

    /// If instance `i` has a write of `key` pending, caches a put's value
    /// (or a delete's absence, with negative caching) as a load would (the
    /// engine's `lead_load`, so that L1's contents do not depend on the
    /// flusher) and returns the write's version. `ttl`: as [`Load::ttl`].
    fn cache_pending(
        &mut self,
        i: usize,
        key: u64,
        hash: u64,
        size: u32,
        ttl: Option<Duration>,
    ) -> Option<u64> {
        let now = self.instant();
        let &(version, deleted) = self.inst[i].own_writes.get(&key)?;
        if deleted {
            self.cache_absent(i, key, hash, version);
        } else {
            self.inst[i].l1.insert_hashed(hash, key, version, weight(self.l1_capacity, size), ttl, now);
        }
        Some(version)
    }

    /// With negative caching, remembers in instance `i`'s L1 that `key`
    /// is absent (deleted at `version`), for the negative TTL.
    fn cache_absent(&mut self, i: usize, key: u64, hash: u64, version: u64) {
        let (now, absent) = (self.instant(), self.absent);
        absent.remember(&mut self.inst[i].l1, hash, key, version | ABSENT, now);
    }

    /// A refresh-ahead of `key` begins at instance `i` (counted by the
    /// caller): as the engine's, it loads through the single-flight (a
    /// pending write, then L2, then L3), unless a load of the key is
    /// already in flight; gets that miss meanwhile join it.
    fn refresh(&mut self, i: usize, key: u64, hash: u64, size: u32, ttl: Option<Duration>) {
        if self.inst[i].loads.contains_key(&key) || self.cache_pending(i, key, hash, size, ttl).is_some() {
            self.inst[i].refresh.finish(&key);
            return;
        }
        self.start_load(i, key, hash, size, None, ttl);
    }

    /// Starts a load of `key` at instance `i` (for `waiter`, or a refresh
    /// when `None`): from L2 when there is one, else from L3.
    fn start_load(
        &mut self,
        i: usize,
        key: u64,
        hash: u64,
        size: u32,
        waiter: Option<Waiter>,
        ttl: Option<Duration>,
    ) {
        let now = self.instant();
        let id = self.next_load;
        self.next_load += 1;
        let refresh = waiter.is_none();
        self.inst[i]
            .loads
            .insert(key, Load { id, size, waiters: waiter.into_iter().collect(), refresh, ttl });
        if self.l2.is_some() {
            let ns = self.l2_ns();
            let found = self.l2.as_mut().map_or(L2Lookup::Miss, |l2| l2.get(hash, key, now));
            if found.is_hit() {
                self.c.l2_hits += 1;
                self.c.l2_hit_bytes += u64::from(size);
                if let L2Lookup::Absent(_) = found {
                    self.c.l2_negative_hits += 1;
                }
            } else {
                self.c.l2_misses += 1;
                self.c.l2_miss_bytes += u64::from(size);
            }
            self.events
                .push(self.now.saturating_add(ns), Event::L2Reply { inst: i as u32, key, found, load: id });
        } else {
            self.submit_l3(Job::Load { inst: i as u32, key, size, refresh, load: id });
        }
    }

    /// Load `id` of `key` at instance `i`: whether it is still the key's
    /// current load (or was made stale), and the load; `None` if gone.
    fn load(&self, i: usize, key: u64, id: u64) -> Option<(bool, &Load)> {
        let inst = &self.inst[i];
        match inst.loads.get(&key) {
            Some(l) if l.id == id => Some((true, l)),
            _ => inst.stale_loads.get(&id).map(|l| (false, l)),
        }
    }

    /// The L2 get of load `id` (instance `i`, `key`) answers: a value
    /// fills L1, a marker resolves the load as absent (L1 remembers it as
    /// after an L3 load that found nothing), a miss goes on to L3.
    pub(crate) fn on_l2_reply(&mut self, i: usize, key: u64, found: L2Lookup<u64>, id: u64) {
        let Some((fresh, load)) = self.load(i, key, id) else { return };
        let (size, refresh, ttl) = (load.size, load.refresh, load.ttl);
        match found {
            L2Lookup::Hit(version) => {
                if fresh {
                    let (now, w, hash) = (self.instant(), weight(self.l1_capacity, size), self.hash(key));
                    self.inst[i].l1.insert_hashed(hash, key, version, w, ttl, now);
                }
                self.resolve_load(i, key, id, version);
            }
            L2Lookup::Absent(version) => {
                if fresh {
                    let hash = self.hash(key);
                    self.cache_absent(i, key, hash, version);
                }
                self.resolve_load(i, key, id, version);
            }
            L2Lookup::Miss => self.submit_l3(Job::Load { inst: i as u32, key, size, refresh, load: id }),
        }
    }

    /// An L3 read of instance `i` completes: unless a write made it stale,
    /// populate L2 (if it holds nothing for the key: `SET NX`) and L1 with
    /// the value or, if the key is absent, the markers negative caching
    /// asks for; answer the waiting gets and end the refresh, if it was one.
    pub(crate) fn on_load_done(&mut self, i: usize, key: u64, size: u32, id: u64, failed: bool) {
        if failed {
            // Its gets are answered with an error (counted, not timed);
            // nothing is cached, and the next get loads again.
            if let Some(load) = self.end_load(i, key, id) {
                self.c.failed_reads += load.waiters.len() as u64;
            }
            return;
        }
        let (version, present) = self.l3.read(key);
        let (fresh, ttl) = self.load(i, key, id).map_or((false, None), |(fresh, l)| (fresh, l.ttl));
        // Nothing found (deleted) goes to no cache, as in the engine; with
        // negative caching L1 and L2 remember the absence.
        if fresh && present {
            let (now, hash) = (self.instant(), self.hash(key));
            if let Some(l2) = &mut self.l2 {
                l2.populate(hash, key, version, size, now);
            }
            let w = weight(self.l1_capacity, size);
            self.inst[i].l1.insert_hashed(hash, key, version, w, ttl, now);
        } else if fresh {
            let (now, hash) = (self.instant(), self.hash(key));
            if let Some(l2) = &mut self.l2 {
                l2.populate_absent(hash, key, version, now);
            }
            self.cache_absent(i, key, hash, version);
        }
        self.resolve_load(i, key, id, version);
    }

    /// Load `id` of `key` at instance `i` ends: it leaves the single-flight
    /// (or the stale loads) and a refresh's key may be refreshed again.
    /// Returns it, with the gets to answer; `None` if gone.
    fn end_load(&mut self, i: usize, key: u64, id: u64) -> Option<Load> {
        let (fresh, _) = self.load(i, key, id)?;
        let inst = &mut self.inst[i];
        let load = if fresh { inst.loads.remove(&key) } else { inst.stale_loads.remove(&id) }?;
        if load.refresh {
            inst.refresh.finish(&key);
        }
        Some(load)
    }

    /// Load `id` ends: its gets are answered with `version`, and a
    /// refresh's key may be refreshed again.
    fn resolve_load(&mut self, i: usize, key: u64, id: u64, version: u64) {
        let Some(load) = self.end_load(i, key, id) else { return };
        for w in load.waiters {
            let latency = self.now.saturating_sub(w.start).saturating_add(w.extra);
            self.finish_read(key, version, w.committed, latency);
        }
    }
}
