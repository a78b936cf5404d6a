//! Owned keys for the engine's maps, in one allocation.
//!
//! A key passed as `&[u8]` is copied once and then shared by L1, the write
//! queue and the flights (clones are reference-count increments). With
//! `Bytes::copy_from_slice` that costs two allocations: the copy, then a
//! shared header when the copy is first cloned ("promotion"). Keys up to
//! [`INLINE_MAX`] bytes are instead stored inline in a `Bytes` owner, so a
//! new key costs one allocation; longer keys take the general path.

use bytes::Bytes;

/// The longest key stored inline (a 64-byte owner box with its header).
pub(crate) const INLINE_MAX: usize = 40;

/// A key of at most `N` bytes, inline.
struct Inline<const N: usize> {
    len: u8,
    buf: [u8; N],
}

impl<const N: usize> AsRef<[u8]> for Inline<N> {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

fn inline<const N: usize>(key: &[u8]) -> Bytes {
    let mut buf = [0u8; N];
    buf[..key.len()].copy_from_slice(key);
    // `key.len() <= N <= INLINE_MAX < 256`, checked by the caller.
    Bytes::from_owner(Inline { len: key.len() as u8, buf })
}

/// An owned copy of `key` whose clones share it.
#[inline]
pub(crate) fn owned_key(key: &[u8]) -> Bytes {
    match key.len() {
        0 => Bytes::new(),
        1..=8 => inline::<8>(key),
        9..=INLINE_MAX => inline::<INLINE_MAX>(key),
        _ => Bytes::copy_from_slice(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_every_length_exactly() {
        for len in 0..=INLINE_MAX + 8 {
            let key: Vec<u8> = (0..len).map(|i| (i * 7 + 1) as u8).collect();
            let k = owned_key(&key);
            assert_eq!(&k[..], &key[..], "len {len}");
            let c = k.clone();
            drop(k);
            assert_eq!(&c[..], &key[..], "clone outlives the original, len {len}");
            assert_eq!(c.slice(1.min(len)..), Bytes::copy_from_slice(&key[1.min(len)..]));
        }
    }
}
