//! The wire format of invalidation notices on the namespace's channel.
//!
//! ```text
//! instance id (8 bytes, big-endian) | kind (1 byte) | key (the rest, raw bytes)
//! ```
//!
//! `kind` is `K` (one key, [`Invalidation::Key`]) or `A` (everything,
//! [`Invalidation::All`]; no key bytes). The id lets each instance skip its
//! own notices.

use bytes::Bytes;

use super::Invalidation;

const KIND_KEY: u8 = b'K';
const KIND_ALL: u8 = b'A';
const HEADER: usize = 9;

/// The notice "instance `id` changed `key`".
pub(crate) fn encode_key(id: u64, key: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(HEADER + key.len());
    m.extend_from_slice(&id.to_be_bytes());
    m.push(KIND_KEY);
    m.extend_from_slice(key);
    m
}

/// The notice "instance `id` cleared the cache".
pub(crate) fn encode_all(id: u64) -> Vec<u8> {
    let mut m = Vec::with_capacity(HEADER);
    m.extend_from_slice(&id.to_be_bytes());
    m.push(KIND_ALL);
    m
}

/// What a received notice means for instance `own_id`: `Ok(None)` for its
/// own notices.
///
/// # Errors
/// A description of the malformation (too short, unknown kind, key bytes
/// after `A`).
pub(crate) fn decode(payload: &[u8], own_id: u64) -> Result<Option<Invalidation>, String> {
    let Some((id, rest)) = payload.split_first_chunk::<8>() else {
        return Err(format!("notice of {} bytes is shorter than its {HEADER}-byte header", payload.len()));
    };
    let Some((&kind, key)) = rest.split_first() else {
        return Err("notice of 8 bytes has no kind byte".into());
    };
    if u64::from_be_bytes(*id) == own_id {
        return Ok(None);
    }
    match kind {
        KIND_KEY => Ok(Some(Invalidation::Key(Bytes::copy_from_slice(key)))),
        KIND_ALL if key.is_empty() => Ok(Some(Invalidation::All)),
        KIND_ALL => Err(format!("'A' notice carries {} unexpected bytes", key.len())),
        other => Err(format!("unknown notice kind byte {other:#04x} at offset 8")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn own_notices_are_skipped_and_others_decoded() {
        let k = encode_key(7, b"a\x00b");
        assert_eq!(decode(&k, 7), Ok(None));
        assert_eq!(decode(&k, 8), Ok(Some(Invalidation::Key(Bytes::from_static(b"a\x00b")))));
        assert_eq!(decode(&encode_all(7), 8), Ok(Some(Invalidation::All)));
        assert_eq!(decode(&encode_all(7), 7), Ok(None));
        // An empty key is a key, not "all".
        assert_eq!(decode(&encode_key(1, b""), 2), Ok(Some(Invalidation::Key(Bytes::new()))));
    }

    #[test]
    fn malformed_notices_are_errors() {
        assert!(decode(b"", 1).unwrap_err().contains("0 bytes"));
        assert!(decode(&[0; 8], 1).unwrap_err().contains("no kind"));
        let mut bad = encode_all(3);
        bad.push(b'x');
        assert!(decode(&bad, 1).unwrap_err().contains("unexpected"));
        let mut bad = encode_key(3, b"k");
        bad[8] = b'Z';
        assert!(decode(&bad, 1).unwrap_err().contains("0x5a"));
    }

    proptest! {
        #![proptest_config(ProptestConfig { rng_seed: proptest::test_runner::RngSeed::Fixed(3), ..ProptestConfig::default() })]
        #[test]
        fn keys_round_trip(id: u64, other: u64, key in proptest::collection::vec(any::<u8>(), 0..64)) {
            let got = decode(&encode_key(id, &key), other).unwrap();
            if id == other {
                prop_assert_eq!(got, None);
            } else {
                prop_assert_eq!(got, Some(Invalidation::Key(Bytes::from(key))));
            }
        }
    }
}
