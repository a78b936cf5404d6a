//! What a delete leaves in L2: a tombstone, read as a miss, that keeps a
//! load's `SET NX` from putting the deleted value back.
//!
//! A reader that loaded a key from L3 just before another instance deleted
//! it would otherwise re-populate L2 after the delete's removal,
//! resurrecting the key in L2 until its TTL. The tombstone makes that `SET
//! NX` a no-op; it outlives any load in flight by far. The engine writes
//! one for every delete; the simulator's L2 model does the same.

use std::time::Duration;

/// How long a delete's tombstone stays in L2 at most.
pub const TOMBSTONE_TTL: Duration = Duration::from_secs(10);

/// How long a tombstone stays in an L2 whose entries live `l2_ttl` (`None`:
/// no TTL): [`TOMBSTONE_TTL`], or the tier's TTL if shorter.
#[must_use]
pub fn tombstone_ttl(l2_ttl: Option<Duration>) -> Duration {
    l2_ttl.map_or(TOMBSTONE_TTL, |t| t.min(TOMBSTONE_TTL))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_ten_seconds_and_never_beyond_the_tiers_ttl() {
        assert_eq!(tombstone_ttl(None), Duration::from_secs(10));
        assert_eq!(tombstone_ttl(Some(Duration::from_secs(300))), Duration::from_secs(10));
        assert_eq!(tombstone_ttl(Some(Duration::from_secs(2))), Duration::from_secs(2));
    }
}
