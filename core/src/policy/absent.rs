//! Negative caching (`l1.negative_ttl_ms`): the rule the engine and the
//! simulator share for remembering that a key is absent.
//!
//! A load that finds a key in neither the instance's pending writes (a
//! pending delete counts as absent) nor L3 leaves a marker entry in L1
//! for the negative TTL, unless a write overtook the load (the same
//! freshness rule as for a value). L2 never holds markers. Until it
//! expires, a read of the key is an L1 hit that answers `None`, counted
//! in `negative_hits` as well; it starts no refresh-ahead. A write
//! replaces the marker like any entry (also with `write.allocate =
//! false`: L1 holds the key), a delete or invalidation drops it, and a
//! queued delete of a key L1 marks absent asks L3 nothing (L1 knows).

/// Bytes of the marker value an absent key's L1 entry holds: with a
/// capacity in bytes, the entry weighs its key plus this.
pub const ABSENT_MARKER_LEN: usize = 16;
