//! Refresh-ahead: a hit on an entry older than `threshold × ttl` returns at
//! once and asks for one background reload; at most one reload per key is in
//! flight at a time.

use std::hash::Hash;

use hashbrown::HashSet;

use crate::clock::Instant;
use crate::config::RefreshConfig;
use crate::l1::KeyHasher;

/// Whether an entry stored at `inserted_at` and expiring at `expires_at` is,
/// at `now`, past `threshold` of its TTL. Entries without expiry never are.
#[inline]
#[must_use]
pub fn is_due(threshold: f64, inserted_at: Instant, expires_at: Instant, now: Instant) -> bool {
    if expires_at == Instant::MAX {
        return false;
    }
    let ttl = expires_at.as_nanos().saturating_sub(inserted_at.as_nanos());
    // f64 has 53 bits: exact for TTLs under ~104 days, close enough beyond.
    let after = (ttl as f64 * threshold) as u64;
    now.as_nanos() >= inserted_at.as_nanos().saturating_add(after)
}

/// The refresh-ahead decision and its in-flight set.
#[derive(Debug)]
pub struct RefreshPolicy<K> {
    enabled: bool,
    threshold: f64,
    in_flight: HashSet<K, KeyHasher>,
    started: u64,
}

impl<K: Hash + Eq> RefreshPolicy<K> {
    /// A policy from config (disabled when `enabled` is false).
    #[must_use]
    pub fn new(cfg: &RefreshConfig) -> Self {
        Self::with_hash_seed(cfg, crate::l1::DEFAULT_HASH_SEED)
    }

    /// [`Self::new`] with its in-flight set hashed under `seed` (the
    /// engine's cache seed; the set's order decides nothing).
    #[must_use]
    pub fn with_hash_seed(cfg: &RefreshConfig, seed: u64) -> Self {
        Self {
            enabled: cfg.enabled,
            threshold: cfg.threshold,
            in_flight: HashSet::with_hasher(crate::l1::key_hasher_with(seed)),
            started: 0,
        }
    }

    /// Whether the entry, stored at `inserted_at` and expiring at
    /// `expires_at`, is old enough at `now` to be refreshed. Entries without
    /// expiry are never refreshed.
    #[must_use]
    pub fn is_due(&self, inserted_at: Instant, expires_at: Instant, now: Instant) -> bool {
        self.enabled && is_due(self.threshold, inserted_at, expires_at, now)
    }

    /// Marks `key` in flight; false (and nothing changes) if it already is.
    /// For callers that checked [`is_due`] themselves without the policy.
    pub fn begin(&mut self, key: K) -> bool {
        if !self.in_flight.insert(key) {
            return false;
        }
        self.started += 1;
        true
    }

    /// On a hit: returns true (and marks `key` in flight) when a reload
    /// should start now; false when not due or one is already in flight.
    pub fn on_hit(&mut self, key: &K, inserted_at: Instant, expires_at: Instant, now: Instant) -> bool
    where
        K: Clone,
    {
        if !self.is_due(inserted_at, expires_at, now) || self.in_flight.contains(key) {
            return false;
        }
        self.in_flight.insert(key.clone());
        self.started += 1;
        true
    }

    /// The reload of `key` finished (or was cancelled by an invalidation).
    pub fn finish<Q>(&mut self, key: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.in_flight.remove(key)
    }

    /// Whether a reload of `key` is in flight.
    #[must_use]
    pub fn is_in_flight(&self, key: &K) -> bool {
        self.in_flight.contains(key)
    }

    /// Reloads started so far.
    #[must_use]
    pub fn started(&self) -> u64 {
        self.started
    }

    /// Whether refresh-ahead is on.
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> Instant {
        Instant::from_nanos(s * 1_000_000_000)
    }

    #[test]
    fn due_at_threshold_once_in_flight() {
        let mut p = RefreshPolicy::new(&RefreshConfig { enabled: true, threshold: 0.8 });
        // stored at 0 with a 10 s TTL: due from 8 s on
        assert!(!p.on_hit(&1, at(0), at(10), Instant::from_nanos(7_999_999_999)));
        assert!(p.on_hit(&1, at(0), at(10), at(8)));
        assert!(!p.on_hit(&1, at(0), at(10), at(9)), "one in flight per key");
        assert!(p.on_hit(&2, at(0), at(10), at(9)));
        assert!(p.finish(&1));
        assert!(p.on_hit(&1, at(0), at(10), at(9)));
        assert_eq!(p.started(), 3);
    }

    #[test]
    fn never_without_ttl_or_when_disabled() {
        let mut p = RefreshPolicy::new(&RefreshConfig { enabled: true, threshold: 0.5 });
        assert!(!p.on_hit(&1, at(0), Instant::MAX, at(1_000)));
        let mut off = RefreshPolicy::new(&RefreshConfig { enabled: false, threshold: 0.5 });
        assert!(!off.on_hit(&1, at(0), at(10), at(9)));
    }
}
