//! Versions and staleness.
//!
//! A write (set or delete) *commits* when its writer is acknowledged
//! (write-through: once L3 has it; write-back/behind: once the caches have
//! it), and takes the next version of a global counter then, so versions
//! follow commit order even when concurrent writes of a key finish out of
//! order. A read is stale when the version it returns is older than the
//! newest version of the key that had committed when the read began.

use hashbrown::HashMap;
use strata_core::l1::{KeyHasher, key_hasher};

/// The committed history of every written key.
#[derive(Debug)]
pub(crate) struct Truth {
    last: u64,
    committed: HashMap<u64, (u64, u64), KeyHasher>,
}

impl Default for Truth {
    fn default() -> Self {
        Self { last: 0, committed: HashMap::with_hasher(key_hasher()) }
    }
}

impl Truth {
    /// The version of a new write.
    pub(crate) fn next_version(&mut self) -> u64 {
        self.last += 1;
        self.last
    }

    /// `version` of `key` committed at `now` (an older version committing
    /// late does not hide a newer one).
    pub(crate) fn commit(&mut self, key: u64, version: u64, now: u64) {
        let e = self.committed.entry(key).or_insert((0, 0));
        if version > e.0 {
            *e = (version, now);
        }
    }

    /// The newest committed version of `key` (0: never written).
    #[inline]
    pub(crate) fn committed(&self, key: u64) -> u64 {
        self.committed.get(&key).map_or(0, |e| e.0)
    }

    /// When a read that began with `committed_at_start` committed and got
    /// `returned` at `now` is stale: how long the newest committed version
    /// has been there.
    #[inline]
    pub(crate) fn stale_age(
        &self,
        key: u64,
        returned: u64,
        committed_at_start: u64,
        now: u64,
    ) -> Option<u64> {
        if returned >= committed_at_start {
            return None;
        }
        let at = self.committed.get(&key).map_or(now, |e| e.1);
        Some(now.saturating_sub(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_keep_the_newest() {
        let mut t = Truth::default();
        let (a, b) = (t.next_version(), t.next_version());
        t.commit(7, b, 10);
        t.commit(7, a, 20);
        assert_eq!(t.committed(7), b);
        assert_eq!(t.committed(8), 0);
        assert_eq!(t.stale_age(7, a, b, 25), Some(15));
        assert_eq!(t.stale_age(7, b, b, 25), None);
        assert_eq!(t.stale_age(7, a, 0, 25), None, "nothing had committed when the read began");
    }
}
