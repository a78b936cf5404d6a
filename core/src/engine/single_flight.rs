//! Single-flight for loads: concurrent misses on one key wait for one load.
//!
//! The first reader of a key becomes the leader and gets a [`Leader`] guard;
//! the others get a [`Waiter`] and wait for the leader's result. A write to
//! the key while a load is in flight marks the flight stale (the loaded value
//! may predate the write), so the leader returns it to its waiters but does
//! not populate the caches with it. A leader that is dropped before
//! completing (its future cancelled) wakes its waiters, who try again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use hashbrown::HashMap;
use parking_lot::Mutex;
use tokio::sync::watch;

use crate::error::StateError;
use crate::l1::KeyHasher;

/// A load's outcome, shared between the leader and its waiters.
pub(crate) type Shared = Result<Option<Bytes>, Arc<StateError>>;

struct Flight {
    rx: watch::Receiver<Option<Shared>>,
    stale: AtomicBool,
}

/// The in-flight loads of one cache, and the count of invalidations
/// received from other instances (a write racing with one must not leave
/// its value cached: see [`SingleFlight::store_after_write`]).
pub(crate) struct SingleFlight {
    state: Mutex<State>,
    remote_epoch: AtomicU64,
}

/// Loads in flight and local writes in flight, under one lock.
struct State {
    flights: HashMap<Bytes, Arc<Flight>, KeyHasher>,
    /// Per key: writes of this instance in flight, and whether two of them
    /// overlapped (then their L3 order is unknown and none may be cached).
    writes: HashMap<Bytes, (u32, bool), KeyHasher>,
}

/// A local write in flight (from [`SingleFlight::begin_write`]); finish it
/// with [`SingleFlight::store_after_write`]. Dropped unfinished (the write
/// was cancelled), it still leaves the count.
pub(crate) struct WriteTicket<'a> {
    owner: &'a SingleFlight,
    key: Bytes,
    epoch: u64,
    done: bool,
}

impl Drop for WriteTicket<'_> {
    fn drop(&mut self) {
        if !self.done {
            let mut st = self.owner.state.lock();
            State::end_write(&mut st.writes, &self.key);
        }
    }
}

impl State {
    /// A write or invalidation of `key`: its load in flight, if any, must not
    /// populate the caches.
    fn mark_stale(&mut self, key: &[u8]) {
        if !self.flights.is_empty()
            && let Some(f) = self.flights.remove(key)
        {
            f.stale.store(true, Ordering::Release);
        }
    }

    /// [`Self::mark_stale`] for every key.
    fn mark_all_stale(&mut self) {
        for (_, f) in self.flights.drain() {
            f.stale.store(true, Ordering::Release);
        }
    }

    /// Leaves one write of `key`; returns whether it overlapped another.
    fn end_write(writes: &mut HashMap<Bytes, (u32, bool), KeyHasher>, key: &[u8]) -> bool {
        let Some(w) = writes.get_mut(key) else { return false };
        let contended = w.1;
        w.0 -= 1;
        if w.0 == 0 {
            writes.remove(key);
        }
        contended
    }
}

/// What joining a flight made of the caller.
pub(crate) enum Role<'a> {
    /// Load the key, then [`Leader::complete`].
    Leader(Leader<'a>),
    /// Wait for the leader with [`Waiter::wait`].
    Waiter(Waiter),
}

/// The caller that loads.
pub(crate) struct Leader<'a> {
    owner: &'a SingleFlight,
    key: Bytes,
    flight: Arc<Flight>,
    tx: Option<watch::Sender<Option<Shared>>>,
}

/// A caller that waits for the leader.
pub(crate) struct Waiter {
    flight: Arc<Flight>,
}

impl SingleFlight {
    /// Maps of keys hashed under `seed` (the cache's).
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            state: Mutex::new(State {
                flights: HashMap::with_hasher(crate::l1::key_hasher_with(seed)),
                writes: HashMap::with_hasher(crate::l1::key_hasher_with(seed)),
            }),
            remote_epoch: AtomicU64::new(0),
        }
    }

    /// Joins the flight of `key`, starting one if none is in the air.
    pub(crate) fn join(&self, key: &[u8]) -> Role<'_> {
        let mut st = self.state.lock();
        let map = &mut st.flights;
        if let Some(f) = map.get(key) {
            return Role::Waiter(Waiter { flight: Arc::clone(f) });
        }
        let (tx, rx) = watch::channel(None);
        let flight = Arc::new(Flight { rx, stale: AtomicBool::new(false) });
        let key = Bytes::copy_from_slice(key);
        map.insert(key.clone(), Arc::clone(&flight));
        Role::Leader(Leader { owner: self, key, flight, tx: Some(tx) })
    }

    /// A write to `key` happened: a load in flight must not populate caches.
    pub(crate) fn invalidate(&self, key: &[u8]) {
        self.state.lock().mark_stale(key);
    }

    /// A local write of `key` starts: remembers the remote-invalidation
    /// count and whether another local write of the key is in flight.
    pub(crate) fn begin_write(&self, key: &Bytes) -> WriteTicket<'_> {
        let mut st = self.state.lock();
        let w = st.writes.entry(key.clone()).or_insert((0, false));
        w.0 += 1;
        if w.0 > 1 {
            w.1 = true;
        }
        WriteTicket {
            owner: self,
            key: key.clone(),
            epoch: self.remote_epoch.load(Ordering::Acquire),
            done: false,
        }
    }

    /// A local write of `key` done at once, with `entry` (what it writes).
    /// Unless a write of the key is in flight (then `Err(entry)`: take the
    /// ticketed path, [`Self::begin_write`]), marks the key's loads in
    /// flight stale and runs `write(entry)` under the lock that loads,
    /// remote invalidations and tickets take, so it cannot overlap any of
    /// them.
    pub(crate) fn write_now<E, T>(&self, key: &[u8], entry: E, write: impl FnOnce(E) -> T) -> Result<T, E> {
        let mut st = self.state.lock();
        if !st.writes.is_empty() && st.writes.contains_key(key) {
            return Err(entry);
        }
        st.mark_stale(key);
        Ok(write(entry))
    }

    /// Another instance changed `key` (or, with `None`, everything): counts
    /// it and marks the loads in flight stale. The caller then drops the
    /// key(s) from L1.
    pub(crate) fn invalidate_remote(&self, key: Option<&[u8]>) {
        let mut st = self.state.lock();
        self.remote_epoch.fetch_add(1, Ordering::AcqRel);
        match key {
            Some(k) => st.mark_stale(k),
            None => st.mark_all_stale(),
        }
    }

    /// The write of `ticket` reached L3 (or its queue): marks the key's
    /// loads in flight stale and runs `store` (caching the written value)
    /// under the lock that remote invalidations and loads take — unless the
    /// write overlapped another local write of the key, or another
    /// instance's invalidation arrived meanwhile: then L3's final order is
    /// unknown here and nothing may be cached. Returns whether it stored.
    pub(crate) fn store_after_write(&self, mut ticket: WriteTicket<'_>, store: impl FnOnce()) -> bool {
        let mut st = self.state.lock();
        st.mark_stale(&ticket.key);
        ticket.done = true;
        let contended = State::end_write(&mut st.writes, &ticket.key);
        let ok = !contended && self.remote_epoch.load(Ordering::Acquire) == ticket.epoch;
        if ok {
            store();
        }
        ok
    }

    /// Marks every flight stale (cache cleared, remote "clear all").
    pub(crate) fn invalidate_all(&self) {
        self.state.lock().mark_all_stale();
    }

    fn remove_if_same(map: &mut HashMap<Bytes, Arc<Flight>, KeyHasher>, key: &[u8], flight: &Arc<Flight>) {
        if map.get(key).is_some_and(|f| Arc::ptr_eq(f, flight)) {
            map.remove(key);
        }
    }
}

impl Leader<'_> {
    /// The key being loaded.
    pub(crate) fn key(&self) -> &Bytes {
        &self.key
    }

    /// Publishes the result. `populate(fresh)` runs under the flight lock, so
    /// it cannot interleave with a write's invalidation: when `fresh` is
    /// false a write happened since the load began and the caches must not
    /// be populated with the loaded value.
    pub(crate) fn complete(mut self, result: Shared, populate: impl FnOnce(bool)) {
        {
            let mut st = self.owner.state.lock();
            let map = &mut st.flights;
            SingleFlight::remove_if_same(map, &self.key, &self.flight);
            populate(!self.flight.stale.load(Ordering::Acquire));
        }
        if let Some(tx) = self.tx.take() {
            // No receiver left is fine: nobody was waiting.
            let _ = tx.send(Some(result));
        }
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if self.tx.is_some() {
            let mut st = self.owner.state.lock();
            let map = &mut st.flights;
            SingleFlight::remove_if_same(map, &self.key, &self.flight);
            // Dropping `tx` without a value wakes the waiters, who retry.
        }
    }
}

impl Waiter {
    /// The leader's result, or `None` if the leader was cancelled (retry).
    pub(crate) async fn wait(self) -> Option<Shared> {
        let mut rx = self.flight.rx.clone();
        match rx.wait_for(Option::is_some).await {
            Ok(v) => v.clone(),
            Err(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_leader_many_waiters() {
        let sf = SingleFlight::new(0);
        let Role::Leader(leader) = sf.join(b"k") else { panic!("first is leader") };
        let Role::Waiter(w) = sf.join(b"k") else { panic!("second waits") };
        let mut populated = None;
        leader.complete(Ok(Some(Bytes::from_static(b"v"))), |fresh| populated = Some(fresh));
        assert_eq!(populated, Some(true));
        assert_eq!(w.wait().await.map(|r| r.ok()), Some(Some(Some(Bytes::from_static(b"v")))));
        assert!(matches!(sf.join(b"k"), Role::Leader(_)), "flight is over");
    }

    #[tokio::test]
    async fn write_marks_stale_and_cancel_wakes_waiters() {
        let sf = SingleFlight::new(0);
        let Role::Leader(leader) = sf.join(b"k") else { panic!() };
        sf.invalidate(b"k");
        let mut populated = None;
        leader.complete(Ok(None), |fresh| populated = Some(fresh));
        assert_eq!(populated, Some(false));

        let Role::Leader(leader) = sf.join(b"k") else { panic!() };
        let Role::Waiter(w) = sf.join(b"k") else { panic!() };
        drop(leader);
        assert!(w.wait().await.is_none());
        assert!(matches!(sf.join(b"k"), Role::Leader(_)));
    }

    #[test]
    fn a_write_racing_another_write_is_not_stored() {
        let sf = SingleFlight::new(0);
        let k = Bytes::from_static(b"k");
        let mut stored = false;
        assert!(sf.store_after_write(sf.begin_write(&k), || stored = true));
        assert!(stored);
        // A remote invalidation during the write.
        let t = sf.begin_write(&k);
        sf.invalidate_remote(Some(b"other"));
        assert!(!sf.store_after_write(t, || panic!("must not store")));
        // Two local writes of one key overlapping: neither stores.
        let (a, b) = (sf.begin_write(&k), sf.begin_write(&k));
        assert!(!sf.store_after_write(a, || panic!("must not store")));
        assert!(!sf.store_after_write(b, || panic!("must not store")));
        // A cancelled write leaves no trace.
        drop(sf.begin_write(&k));
        assert!(sf.store_after_write(sf.begin_write(&k), || {}));
    }
}
