//! What an [`super::L1Store`] reports: the outcome of an insert and the
//! counters it keeps.

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    /// A new entry was stored (and `evicted` others left to make room; the
    /// new entry itself may have been the one an admission policy rejected).
    Inserted {
        /// How many entries were evicted to make room.
        evicted: u32,
        /// Whether the new entry is still present after eviction.
        admitted: bool,
    },
    /// The key was present; its value was replaced.
    Updated {
        /// How many entries were evicted to make room.
        evicted: u32,
    },
    /// The entry alone weighs more than the whole capacity; nothing changed
    /// (a previous value of the key, if any, was removed).
    TooLarge,
}

/// Counters kept by the store itself (plain integers: the store is single-threaded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreCounters {
    /// Reads that found a live entry.
    pub hits: u64,
    /// Reads that found nothing (or an expired entry).
    pub misses: u64,
    /// New entries stored.
    pub inserts: u64,
    /// Values replaced in place.
    pub updates: u64,
    /// Entries evicted for capacity (including rejected admissions).
    pub evictions: u64,
    /// Entries dropped because their TTL passed.
    pub expirations: u64,
    /// Entries removed explicitly.
    pub removals: u64,
    /// Values not stored because they weigh more than this store's
    /// capacity (an entry of the key that was there is removed).
    pub too_large: u64,
}

impl std::ops::AddAssign for StoreCounters {
    fn add_assign(&mut self, b: StoreCounters) {
        self.hits += b.hits;
        self.misses += b.misses;
        self.inserts += b.inserts;
        self.updates += b.updates;
        self.evictions += b.evictions;
        self.expirations += b.expirations;
        self.removals += b.removals;
        self.too_large += b.too_large;
    }
}
