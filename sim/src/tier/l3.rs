//! The L3 model: the durable store's contents (a version per key) and its
//! capacity (at most `concurrency` requests in service; the rest wait in a
//! FIFO queue).

use std::collections::VecDeque;

use hashbrown::HashMap;
use strata_core::l1::{KeyHasher, key_hasher};

/// What L3 holds: the version of every key written so far, and whether a
/// delete removed it. A key never written is there, as version 0 (the
/// trace reads keys its application's store holds); a deleted key is
/// absent (its version is the delete's) until a put stores it again: as
/// in the engine, a read of it finds nothing and caches nothing.
#[derive(Debug)]
pub struct L3Store {
    versions: HashMap<u64, (u64, bool), KeyHasher>,
}

impl Default for L3Store {
    fn default() -> Self {
        Self { versions: HashMap::with_hasher(key_hasher()) }
    }
}

impl L3Store {
    /// The version of `key` L3 returns now, and whether it holds a value
    /// (`false`: deleted).
    #[inline]
    #[must_use]
    pub fn read(&self, key: u64) -> (u64, bool) {
        self.versions.get(&key).copied().unwrap_or((0, true))
    }

    /// A write of `version` reached L3 (last writer wins): a put, or a
    /// delete (`deleted`).
    #[inline]
    pub fn apply(&mut self, key: u64, version: u64, deleted: bool) {
        self.versions.insert(key, (version, !deleted));
    }
}

/// The concurrency limit and its FIFO wait queue, over jobs of type `J`.
#[derive(Debug)]
pub struct L3Queue<J> {
    limit: u32,
    busy: u32,
    waiting: VecDeque<(u64, J)>,
    peak: usize,
    queued: u64,
    wait_ns: u64,
}

impl<J> L3Queue<J> {
    /// A queue serving at most `limit` requests at once (`None`: no limit).
    #[must_use]
    pub fn new(limit: Option<u32>) -> Self {
        Self {
            limit: limit.unwrap_or(u32::MAX),
            busy: 0,
            waiting: VecDeque::new(),
            peak: 0,
            queued: 0,
            wait_ns: 0,
        }
    }

    /// A request arrives at `now`: returns it when it can start now; else
    /// it waits (and `None` is returned).
    #[inline]
    pub fn submit(&mut self, job: J, now: u64) -> Option<J> {
        if self.busy < self.limit {
            self.busy += 1;
            return Some(job);
        }
        self.waiting.push_back((now, job));
        self.queued += 1;
        self.peak = self.peak.max(self.waiting.len());
        None
    }

    /// A request finished at `now`: returns the next waiting one, which
    /// starts now in the freed slot.
    #[inline]
    pub fn finish(&mut self, now: u64) -> Option<J> {
        match self.waiting.pop_front() {
            Some((since, job)) => {
                self.wait_ns += now.saturating_sub(since);
                Some(job)
            }
            None => {
                self.busy = self.busy.saturating_sub(1);
                None
            }
        }
    }

    /// Requests waiting now.
    #[must_use]
    pub fn queue_len(&self) -> usize {
        self.waiting.len()
    }

    /// The longest the wait queue has been.
    #[must_use]
    pub fn peak_queue_len(&self) -> usize {
        self.peak
    }

    /// Requests that had to wait.
    #[must_use]
    pub fn queued(&self) -> u64 {
        self.queued
    }

    /// Total time requests spent waiting, in nanoseconds.
    #[must_use]
    pub fn total_wait_ns(&self) -> u64 {
        self.wait_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_beyond_the_limit() {
        let mut q = L3Queue::new(Some(2));
        assert_eq!(q.submit('a', 0), Some('a'));
        assert_eq!(q.submit('b', 0), Some('b'));
        assert_eq!(q.submit('c', 1), None);
        assert_eq!(q.submit('d', 2), None);
        assert_eq!(q.peak_queue_len(), 2);
        assert_eq!(q.finish(10), Some('c'));
        assert_eq!(q.finish(11), Some('d'));
        assert_eq!(q.finish(12), None);
        assert_eq!(q.finish(13), None);
        assert_eq!(q.submit('e', 14), Some('e'));
        assert_eq!(q.total_wait_ns(), 9 + 9);
        assert_eq!(q.queued(), 2);
    }

    #[test]
    fn store_versions() {
        let mut s = L3Store::default();
        assert_eq!(s.read(5), (0, true), "a key never written is there");
        s.apply(5, 3, false);
        s.apply(5, 2, false);
        assert_eq!(s.read(5), (2, true), "last writer wins");
        s.apply(5, 4, true);
        assert_eq!(s.read(5), (4, false), "deleted");
        s.apply(5, 5, false);
        assert_eq!(s.read(5), (5, true), "stored again");
    }
}
