//! What the engine stores in L2: one tag byte, then the value. Three kinds
//! of entry share the key space:
//!
//! - a value (`TAG_VALUE` + bytes);
//! - a delete's tombstone (`TAG_TOMBSTONE`, see [`crate::policy::tombstone`]):
//!   read as a miss, it keeps a load's `SET NX` from putting the deleted
//!   value back;
//! - an absent key's marker (`TAG_ABSENT`, `[l2] negative_ttl_ms`): left by
//!   a read that found the key absent in L3, it answers "absent" to every
//!   instance until it expires or a write replaces it.
//!
//! An entry with no tag Strata knows (written by something else) is a miss.

use bytes::Bytes;

const TAG_VALUE: u8 = 0;
const TAG_TOMBSTONE: u8 = 1;
const TAG_ABSENT: u8 = 2;

/// What an L2 read found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum L2Read {
    /// The key's value.
    Value(Bytes),
    /// A marker: the key is absent (negative caching).
    Absent,
    /// Nothing usable: no entry, a tombstone, an unknown tag, or an error.
    Miss,
}

/// The L2 entry of a value.
pub(crate) fn encode(v: &Bytes) -> Bytes {
    let mut out = Vec::with_capacity(v.len() + 1);
    out.push(TAG_VALUE);
    out.extend_from_slice(v);
    Bytes::from(out)
}

/// The L2 entry of every value of `entries`.
pub(crate) fn encode_all(entries: &[(Bytes, Bytes)]) -> Vec<(Bytes, Bytes)> {
    entries.iter().map(|(k, v)| (k.clone(), encode(v))).collect()
}

/// A delete's tombstone.
pub(crate) fn tombstone() -> Bytes {
    Bytes::from_static(&[TAG_TOMBSTONE])
}

/// An absent key's marker.
pub(crate) fn absent() -> Bytes {
    Bytes::from_static(&[TAG_ABSENT])
}

/// What the L2 entry `v` (`None`: no entry) says. With `negative` (`[l2]
/// negative_ttl_ms` set), a tombstone says "absent" too: the key was
/// deleted, and no write has replaced the tombstone since.
pub(crate) fn decode(v: Option<Bytes>, negative: bool) -> L2Read {
    let Some(v) = v else { return L2Read::Miss };
    match (v.first(), v.len()) {
        (Some(&TAG_VALUE), _) => L2Read::Value(v.slice(1..)),
        (Some(&TAG_ABSENT), 1) => L2Read::Absent,
        (Some(&TAG_TOMBSTONE), 1) if negative => L2Read::Absent,
        _ => L2Read::Miss,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_tombstones_miss_and_markers_say_absent() {
        let values = [
            Bytes::new(),
            Bytes::from_static(&[1]),
            Bytes::from_static(&[2]),
            Bytes::from_static(b"\x00\x01abc"),
        ];
        for negative in [false, true] {
            for v in values.clone() {
                assert_eq!(decode(Some(encode(&v)), negative), L2Read::Value(v));
            }
            assert_eq!(decode(Some(absent()), negative), L2Read::Absent);
            assert_eq!(decode(None, negative), L2Read::Miss);
            assert_eq!(decode(Some(Bytes::new()), negative), L2Read::Miss);
            assert_eq!(decode(Some(Bytes::from_static(b"foreign")), negative), L2Read::Miss);
            assert_eq!(decode(Some(Bytes::from_static(b"\x02foreign")), negative), L2Read::Miss, "one byte");
            assert_eq!(decode(Some(Bytes::from_static(b"\x01foreign")), negative), L2Read::Miss, "one byte");
        }
        assert_eq!(decode(Some(tombstone()), false), L2Read::Miss);
        assert_eq!(decode(Some(tombstone()), true), L2Read::Absent, "with negative caching");
    }
}
