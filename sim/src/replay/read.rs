//! The read path: L1 → (own pending writes) → single-flight → L2 → L3,
//! read-through population, refresh-ahead.

use super::state::{Event, Job, Load, Sim, Waiter};
use crate::tier::weight;

impl Sim {
    /// A get of `key` (`size` bytes) arrives at instance `i`.
    pub(crate) fn on_get(&mut self, i: usize, key: u64, hash: u64, size: u32) {
        self.c.reads += 1;
        self.c.read_bytes += u64::from(size);
        let l1_ns = self.l1_ns();
        let now = self.instant();
        let inst = &mut self.inst[i];
        if let Some(e) = inst.l1.get_hashed(hash, &key, now) {
            let (version, inserted, expires) = (e.value, e.inserted_at, e.expires_at);
            self.c.l1_hits += 1;
            self.c.l1_hit_bytes += u64::from(size);
            if inst.refresh.is_enabled() && inst.refresh.on_hit(&key, inserted, expires, now) {
                self.c.refreshes += 1;
                self.submit_l3(Job::Load { inst: i as u32, key, size, refresh: true, load: 0 });
            }
            let committed = self.truth.committed(key);
            self.finish_read(key, version, committed, l1_ns);
            return;
        }
        let committed = self.truth.committed(key);
        if let Some(&(version, deleted)) = inst.own_writes.get(&key) {
            // Reads see their own writes while the queue still holds them,
            // and (as the engine) cache a pending put's value as a load
            // would, so that L1's contents do not depend on the flusher.
            self.c.pending_write_reads += 1;
            if !deleted {
                inst.l1.insert_hashed(hash, key, version, weight(self.l1_capacity, size), None, now);
            }
            self.finish_read(key, version, committed, l1_ns);
            return;
        }
        let waiter = Waiter { start: self.now, extra: l1_ns, committed };
        if let Some(load) = inst.loads.get_mut(&key) {
            self.c.coalesced_loads += 1;
            load.more.push(waiter);
            return;
        }
        let id = self.next_load;
        self.next_load += 1;
        inst.loads.insert(key, Load { id, size, first: waiter, more: Vec::new() });
        if self.l2.is_some() {
            let ns = self.l2_ns();
            let found = self.l2.as_mut().and_then(|l2| l2.get(hash, key, now).map(|e| e.value));
            if found.is_some() {
                self.c.l2_hits += 1;
                self.c.l2_hit_bytes += u64::from(size);
            } else {
                self.c.l2_misses += 1;
                self.c.l2_miss_bytes += u64::from(size);
            }
            self.events
                .push(self.now.saturating_add(ns), Event::L2Reply { inst: i as u32, key, found, load: id });
        } else {
            self.submit_l3(Job::Load { inst: i as u32, key, size, refresh: false, load: id });
        }
    }

    /// Whether load `id` of `key` at instance `i` is still the key's
    /// current load (`Some(true)`), made stale (`Some(false)`), or gone.
    fn load_is_fresh(&self, i: usize, key: u64, id: u64) -> Option<bool> {
        let inst = &self.inst[i];
        if inst.loads.get(&key).is_some_and(|l| l.id == id) {
            Some(true)
        } else {
            inst.stale_loads.contains_key(&id).then_some(false)
        }
    }

    /// The L2 get of load `id` (instance `i`, `key`) answers.
    pub(crate) fn on_l2_reply(&mut self, i: usize, key: u64, found: Option<u64>, id: u64) {
        let Some(fresh) = self.load_is_fresh(i, key, id) else { return };
        match found {
            Some(version) => {
                if fresh {
                    let inst = &self.inst[i];
                    let size = inst.loads.get(&key).map_or(1, |l| l.size);
                    let (now, w, hash) = (self.instant(), weight(self.l1_capacity, size), self.hash(key));
                    self.inst[i].l1.insert_hashed(hash, key, version, w, None, now);
                }
                self.resolve_load(i, key, id, version);
            }
            None => {
                let inst = &self.inst[i];
                let load = if fresh { inst.loads.get(&key) } else { inst.stale_loads.get(&id) };
                let size = load.map_or(1, |l| l.size);
                self.submit_l3(Job::Load { inst: i as u32, key, size, refresh: false, load: id });
            }
        }
    }

    /// An L3 read of instance `i` completes: unless a write made it stale,
    /// populate L2 and L1; answer the waiting gets (or end the refresh).
    pub(crate) fn on_load_done(&mut self, i: usize, key: u64, size: u32, refresh: bool, id: u64) {
        let (version, present) = self.l3.read(key);
        let fresh = if refresh {
            let inst = &mut self.inst[i];
            inst.refresh.finish(&key);
            inst.stale_refreshes.remove(&key).is_none()
        } else {
            self.load_is_fresh(i, key, id) == Some(true)
        };
        // Nothing found (deleted) is cached nowhere, as in the engine.
        if fresh && present {
            let (now, hash) = (self.instant(), self.hash(key));
            if let Some(l2) = &mut self.l2 {
                l2.set(hash, key, version, size, None, now);
            }
            let w = weight(self.l1_capacity, size);
            self.inst[i].l1.insert_hashed(hash, key, version, w, None, now);
        }
        if !refresh {
            self.resolve_load(i, key, id, version);
        }
    }

    fn resolve_load(&mut self, i: usize, key: u64, id: u64, version: u64) {
        let inst = &mut self.inst[i];
        let load = if inst.loads.get(&key).is_some_and(|l| l.id == id) {
            inst.loads.remove(&key)
        } else {
            inst.stale_loads.remove(&id)
        };
        let Some(load) = load else { return };
        for w in std::iter::once(load.first).chain(load.more) {
            let latency = self.now.saturating_sub(w.start).saturating_add(w.extra);
            self.finish_read(key, version, w.committed, latency);
        }
    }
}
