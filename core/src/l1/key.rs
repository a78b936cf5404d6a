//! [`ByteKey`]: the engine's byte-string key, held inline when short, and
//! [`InlineBytes`], the byte string it is made of.
//!
//! The engine's L1 entries and write-queue slots hold their keys as
//! `ByteKey`s. A key of up to [`ByteKey::INLINE`] bytes lives inside the
//! entry itself: storing it allocates nothing, freeing it frees nothing, and
//! comparing it during a lookup reads no other cache line. Longer keys keep a
//! shared [`Bytes`]. Either way a `ByteKey` is its bytes: it hashes
//! ([`KeyHash`], `Hash`) and compares exactly as `[u8]`, so maps keyed by it
//! are looked up by `&[u8]`. The write queue holds the values of pending
//! puts the same way, with room for more bytes (see `engine::QueuedValue`).

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

use bytes::Bytes;

use super::hash::KeyHash;

/// A byte string held inline up to `N` bytes (`N` < 256), else as a shared
/// [`Bytes`]. The type is `N + 2` bytes, rounded up to a multiple of 8 and
/// at least 40 (a `Bytes` and its tag): pick `N` as a multiple of 8, minus 2.
#[derive(Clone)]
pub struct InlineBytes<const N: usize>(Repr<N>);

#[derive(Clone)]
enum Repr<const N: usize> {
    Inline { len: u8, buf: [u8; N] },
    Shared(Bytes),
}

/// A byte-string key, inline up to [`ByteKey::INLINE`] (38) bytes: the type
/// is then as large as a `Bytes` and its tag, 40 bytes. See the module docs.
pub type ByteKey = InlineBytes<38>;

impl<const N: usize> InlineBytes<N> {
    /// The longest string held inline.
    pub const INLINE: usize = {
        assert!(N < 256, "the length is stored in a u8");
        N
    };

    /// A copy of `bytes` (inline when it fits, else one shared allocation).
    #[must_use]
    #[inline]
    pub fn copy_from_slice(bytes: &[u8]) -> Self {
        if bytes.len() <= Self::INLINE {
            Self::inline(bytes)
        } else {
            Self(Repr::Shared(Bytes::copy_from_slice(bytes)))
        }
    }

    /// `bytes` as an `InlineBytes`: short ones are copied inline, long ones
    /// keep the given `Bytes` (no copy).
    #[must_use]
    #[inline]
    pub fn from_bytes(bytes: Bytes) -> Self {
        if bytes.len() <= Self::INLINE { Self::inline(&bytes) } else { Self(Repr::Shared(bytes)) }
    }

    /// [`Self::from_bytes`] of a borrowed `Bytes`: short ones are copied
    /// inline (the `Bytes` is not touched: no reference count, no shared
    /// header), long ones share it (a clone).
    #[must_use]
    #[inline]
    pub fn from_shared(bytes: &Bytes) -> Self {
        if bytes.len() <= Self::INLINE { Self::inline(bytes) } else { Self(Repr::Shared(bytes.clone())) }
    }

    #[inline]
    fn inline(bytes: &[u8]) -> Self {
        let mut buf = [0u8; N];
        buf[..bytes.len()].copy_from_slice(bytes);
        // `bytes.len() <= INLINE < 256`, checked by the callers.
        Self(Repr::Inline { len: bytes.len() as u8, buf })
    }

    /// The bytes.
    #[must_use]
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..usize::from(*len)],
            Repr::Shared(b) => b,
        }
    }

    /// The bytes as `Bytes` (a copy when inline).
    #[must_use]
    pub fn to_bytes(&self) -> Bytes {
        match &self.0 {
            Repr::Inline { .. } => Bytes::copy_from_slice(self.as_slice()),
            Repr::Shared(b) => b.clone(),
        }
    }
}

impl<const N: usize> std::ops::Deref for InlineBytes<N> {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl<const N: usize> AsRef<[u8]> for InlineBytes<N> {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl<const N: usize> Borrow<[u8]> for InlineBytes<N> {
    #[inline]
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl<const N: usize> PartialEq for InlineBytes<N> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<const N: usize> Eq for InlineBytes<N> {}

impl<const N: usize> Hash for InlineBytes<N> {
    /// As `[u8]` (so `Borrow<[u8]>` lookups find it).
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl<const N: usize> KeyHash for InlineBytes<N> {
    #[inline]
    fn key_hash_with(&self, seed: u64) -> u64 {
        self.as_slice().key_hash_with(seed)
    }
}

impl<const N: usize> std::fmt::Debug for InlineBytes<N> {
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
        assert_eq!(std::mem::size_of::<InlineBytes<70>>(), 72);
        for len in [0, 1, 64, 70, 71, 200] {
            let b = Bytes::from((0..len).map(|i| i as u8).collect::<Vec<u8>>());
            let v = InlineBytes::<70>::from_shared(&b);
            assert_eq!(&v[..], &b[..], "len {len}");
            assert_eq!(v.to_bytes(), b, "len {len}");
            // Inline: a copy, not a share (the Bytes stays unique; an
            // empty one is static, never unique).
            if len > 0 {
                assert_eq!(b.is_unique(), len <= 70, "len {len}");
            }
        }
        assert_ne!(ByteKey::copy_from_slice(b"ab"), ByteKey::copy_from_slice(b"ab\0"));
    }
}
