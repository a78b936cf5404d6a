//! [`ByteKey`]: the engine's byte-string key, held inline when short.
//!
//! The engine's L1 entries and write-queue slots hold their keys as
//! `ByteKey`s. A key of up to [`ByteKey::INLINE`] bytes lives inside the
//! entry itself: storing it allocates nothing, freeing it frees nothing, and
//! comparing it during a lookup reads no other cache line. Longer keys keep a
//! shared [`Bytes`]. Either way a `ByteKey` is its bytes: it hashes
//! ([`KeyHash`], `Hash`) and compares exactly as `[u8]`, so maps keyed by it
//! are looked up by `&[u8]`.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

use bytes::Bytes;

use super::hash::KeyHash;

/// A byte-string key, inline up to [`ByteKey::INLINE`] bytes. See the module docs.
#[derive(Clone)]
pub struct ByteKey(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; ByteKey::INLINE] },
    Shared(Bytes),
}

impl ByteKey {
    /// The longest key held inline (the type is then as large as a `Bytes`
    /// and its tag: 40 bytes).
    pub const INLINE: usize = 38;

    /// A copy of `key` (inline when it fits, else one shared allocation).
    #[must_use]
    #[inline]
    pub fn copy_from_slice(key: &[u8]) -> Self {
        if key.len() <= Self::INLINE {
            Self::inline(key)
        } else {
            Self(Repr::Shared(Bytes::copy_from_slice(key)))
        }
    }

    /// `key` as a `ByteKey`: short keys are copied inline, long ones keep
    /// the given `Bytes` (no copy).
    #[must_use]
    #[inline]
    pub fn from_bytes(key: Bytes) -> Self {
        if key.len() <= Self::INLINE { Self::inline(&key) } else { Self(Repr::Shared(key)) }
    }

    #[inline]
    fn inline(key: &[u8]) -> Self {
        let mut buf = [0u8; Self::INLINE];
        buf[..key.len()].copy_from_slice(key);
        // `key.len() <= INLINE < 256`, checked by the callers.
        Self(Repr::Inline { len: key.len() as u8, buf })
    }

    /// The key's bytes.
    #[must_use]
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..usize::from(*len)],
            Repr::Shared(b) => b,
        }
    }

    /// The key as `Bytes` (a copy for an inline key).
    #[must_use]
    pub fn to_bytes(&self) -> Bytes {
        match &self.0 {
            Repr::Inline { .. } => Bytes::copy_from_slice(self.as_slice()),
            Repr::Shared(b) => b.clone(),
        }
    }
}

impl std::ops::Deref for ByteKey {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for ByteKey {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Borrow<[u8]> for ByteKey {
    #[inline]
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for ByteKey {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for ByteKey {}

impl Hash for ByteKey {
    /// As `[u8]` (so `Borrow<[u8]>` lookups find it).
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl KeyHash for ByteKey {
    #[inline]
    fn key_hash(&self) -> u64 {
        self.as_slice().key_hash()
    }
}

impl std::fmt::Debug for ByteKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // As `Bytes` prints: b"..." with escapes.
        std::fmt::Debug::fmt(&Bytes::copy_from_slice(self.as_slice()), f)
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;
    use crate::l1::{hash_key, key_hasher};

    #[test]
    fn is_its_bytes_at_every_length() {
        assert_eq!(std::mem::size_of::<ByteKey>(), 40);
        let s = key_hasher();
        for len in [0, 1, 8, 37, 38, 39, 64, 1000] {
            let key: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
            for k in [ByteKey::copy_from_slice(&key), ByteKey::from_bytes(Bytes::from(key.clone()))] {
                assert_eq!(&k[..], &key[..], "len {len}");
                assert_eq!(k.to_bytes(), key, "len {len}");
                assert_eq!(hash_key(&k), hash_key(&key[..]), "len {len}");
                assert_eq!(s.hash_one(&k), s.hash_one(&key[..]), "len {len}");
                assert_eq!(k.clone(), k);
                assert_eq!(format!("{k:?}"), format!("{:?}", Bytes::from(key.clone())));
            }
        }
        assert_ne!(ByteKey::copy_from_slice(b"ab"), ByteKey::copy_from_slice(b"ab\0"));
    }
}
