//! The one key hash of Strata: fast, fixed-seeded and defined on bytes, so
//! that every policy decision that depends on a hash (sketches, ghosts,
//! sampling, shard choice) is the same on every run, machine and target
//! (wasm32 included). [`KeyHasher`] is the (faster, platform-dependent)
//! hasher of internal hash maps, whose order no decision depends on.

/// The hasher builder used by the L1 store and the policies.
pub type KeyHasher = foldhash::fast::FixedState;

/// The builder with Strata's fixed seed.
#[inline]
#[must_use]
pub fn key_hasher() -> KeyHasher {
    foldhash::fast::FixedState::with_seed(0x5757_a7a5_c0de_cafe)
}

/// A key the L1 store can hash. Byte-like keys hash their bytes; a `u64`
/// (the simulator's trace key) hashes as its 8 big-endian bytes, exactly like
/// the engine key the simulator's keys stand for, so hash-dependent policy
/// decisions (TinyLFU's sketch, S3-FIFO's ghost) are the same in both worlds.
pub trait KeyHash {
    /// The key's 64-bit hash under Strata's fixed seed.
    fn key_hash(&self) -> u64;
}

/// The seed of key hashes.
const KEY_SEED: u64 = 0x5757_a7a5_c0de_cafe;

/// XXH3-64 of the bytes: defined on bytes, so the same on 64-bit machines and
/// on wasm32 (foldhash, used for the in-memory hash maps, is not: its
/// multiply differs on 32-bit targets).
#[inline]
fn hash_bytes(b: &[u8]) -> u64 {
    twox_hash::XxHash3_64::oneshot_with_seed(KEY_SEED, b)
}

impl KeyHash for [u8] {
    #[inline]
    fn key_hash(&self) -> u64 {
        hash_bytes(self)
    }
}

impl KeyHash for str {
    #[inline]
    fn key_hash(&self) -> u64 {
        hash_bytes(self.as_bytes())
    }
}

/// The engine key a simulator (trace) key stands for: its 8 big-endian
/// bytes. `hash_key(&k) == hash_key(&engine_key(k)[..])` for every `k`.
#[inline]
#[must_use]
pub fn engine_key(trace_key: u64) -> [u8; 8] {
    trace_key.to_be_bytes()
}

macro_rules! int_key_hash {
    ($($t:ty),*) => {$(
        impl KeyHash for $t {
            #[inline]
            fn key_hash(&self) -> u64 {
                hash_bytes(&self.to_be_bytes())
            }
        }
    )*};
}

int_key_hash!(u16, u32, u64, u128, usize, i16, i32, i64, i128, isize);

impl KeyHash for bytes::Bytes {
    #[inline]
    fn key_hash(&self) -> u64 {
        hash_bytes(self)
    }
}

impl KeyHash for Vec<u8> {
    #[inline]
    fn key_hash(&self) -> u64 {
        hash_bytes(self)
    }
}

impl KeyHash for Box<[u8]> {
    #[inline]
    fn key_hash(&self) -> u64 {
        hash_bytes(self)
    }
}

impl KeyHash for String {
    #[inline]
    fn key_hash(&self) -> u64 {
        hash_bytes(self.as_bytes())
    }
}

impl<T: KeyHash + ?Sized> KeyHash for &T {
    #[inline]
    fn key_hash(&self) -> u64 {
        (**self).key_hash()
    }
}

/// The 64-bit hash of `key` (see [`KeyHash`]).
#[inline]
#[must_use]
pub fn hash_key<Q: KeyHash + ?Sized>(key: &Q) -> u64 {
    key.key_hash()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u64_keys_hash_like_their_engine_bytes() {
        for k in [0u64, 1, 42, u64::MAX] {
            assert_eq!(hash_key(&k), hash_key(&engine_key(k)[..]));
            assert_eq!(hash_key(&k), hash_key(&bytes::Bytes::copy_from_slice(&k.to_be_bytes())));
        }
        assert_eq!(hash_key("ab"), hash_key(&b"ab"[..]));
        assert_ne!(hash_key(&1u64), hash_key(&2u64));
    }

    #[test]
    fn hashes_are_pinned_across_platforms() {
        // XXH3-64 is specified on bytes: these values hold on every target.
        assert_eq!(hash_key(&b""[..]), twox_hash::XxHash3_64::oneshot_with_seed(KEY_SEED, b""));
        // Cross-checked with the reference C xxHash (Python `xxhash.xxh3_64_intdigest`).
        assert_eq!(hash_key(&b"user:1"[..]), 0x2501_e7c8_34c5_4b62);
        assert_eq!(hash_key(&42u64), 0x5fac_5886_a95c_a4be);
    }
}
