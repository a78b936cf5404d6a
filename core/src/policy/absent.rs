//! Negative caching (`l1.negative_ttl_ms`, `l2.negative_ttl_ms`): the
//! rule the engine and the simulator share for remembering that a key is
//! absent.
//!
//! A load that finds a key in neither the instance's pending writes (a
//! pending delete counts as absent) nor L3 leaves a marker entry in L1
//! for the negative TTL, unless a write overtook the load (the same
//! freshness rule as for a value). Until it
//! expires, a read of the key is an L1 hit that answers `None`, counted
//! in `negative_hits` as well; it starts no refresh-ahead. A write
//! replaces the marker like any entry (also with `write.allocate =
//! false`: L1 holds the key), a delete or invalidation drops it, and a
//! queued delete of a key L1 marks absent asks L3 nothing (L1 knows).
//!
//! In L2 (`l2.negative_ttl_ms`), a load that found the key absent in L3
//! (not in a pending delete, not in L2) leaves a marker with `SET NX` for
//! the L2 negative TTL; a load that finds it answers "absent" without L3
//! (an L2 hit, counted in `l2_negative_hits`), and L1 then remembers the
//! absence as after L3. A delete's tombstone then answers "absent" too
//! ([`l2_tombstone_is_absent`]).

use crate::config::L2Config;

/// Whether a delete's tombstone in L2 answers "absent" (as a marker does)
/// rather than being a miss: when L2 remembers absent keys.
#[must_use]
pub fn l2_tombstone_is_absent(l2: &L2Config) -> bool {
    l2.negative_ttl.is_some()
}

/// Bytes of the marker value an absent key's L1 entry holds: with a
/// capacity in bytes, the entry weighs its key plus this.
pub const ABSENT_MARKER_LEN: usize = 16;
