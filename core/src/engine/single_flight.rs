//! Single-flight for loads: concurrent misses on one key wait for one load.
//!
//! The first reader of a key becomes the leader and gets a [`Leader`] guard;
//! the others get a [`Waiter`] and wait for the leader's result. A write to
//! the key while a load is in flight marks the flight stale (the loaded value
//! may predate the write), so the leader returns it to its waiters but does
//! not populate the caches with it. A leader that is dropped before
//! completing (its future cancelled) wakes its waiters, who try again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// The in-flight loads of one cache.
pub(crate) struct SingleFlight {
    flights: Mutex<HashMap<Bytes, Arc<Flight>, KeyHasher>>,
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
    pub(crate) fn new() -> Self {
        Self { flights: Mutex::new(HashMap::with_hasher(crate::l1::key_hasher())) }
    }

    /// Joins the flight of `key`, starting one if none is in the air.
    pub(crate) fn join(&self, key: &[u8]) -> Role<'_> {
        let mut map = self.flights.lock();
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
        let mut map = self.flights.lock();
        if let Some(f) = map.remove(key) {
            f.stale.store(true, Ordering::Release);
        }
    }

    /// Marks every flight stale (cache cleared, remote "clear all").
    pub(crate) fn invalidate_all(&self) {
        let mut map = self.flights.lock();
        for (_, f) in map.drain() {
            f.stale.store(true, Ordering::Release);
        }
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
            let mut map = self.owner.flights.lock();
            SingleFlight::remove_if_same(&mut map, &self.key, &self.flight);
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
            let mut map = self.owner.flights.lock();
            SingleFlight::remove_if_same(&mut map, &self.key, &self.flight);
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
        let sf = SingleFlight::new();
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
        let sf = SingleFlight::new();
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
}
