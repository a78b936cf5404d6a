//! The one key hash of Strata: fast, seeded and defined on bytes, so that
//! every policy decision that depends on a hash (sketches, ghosts, sampling,
//! shard choice) is the same on every run, machine and target (wasm32
//! included) for the same seed. The simulator and a bare [`super::L1Store`]
//! use [`DEFAULT_HASH_SEED`]; the engine draws a seed of its own per cache
//! unless `l1.hash_seed` names one (see [`random_hash_seed`]): a seed
//! anybody can read would let whoever chooses the keys aim them at one
//! shard and one probe sequence (hash flooding). [`KeyHasher`] is the
//! (faster, platform-dependent) hasher of internal hash maps, whose order no
//! decision depends on; the engine seeds it with its cache's seed too.

/// The hasher builder used by the L1 store and the policies.
pub type KeyHasher = foldhash::fast::FixedState;

/// The builder with Strata's default seed.
#[inline]
#[must_use]
pub fn key_hasher() -> KeyHasher {
    key_hasher_with(DEFAULT_HASH_SEED)
}

/// The builder with `seed`.
#[inline]
#[must_use]
pub fn key_hasher_with(seed: u64) -> KeyHasher {
    foldhash::fast::FixedState::with_seed(seed)
}

/// A seed nobody outside this process can know: the engine's default, one
/// per cache. (From the standard library's per-process random hash keys.)
#[must_use]
pub fn random_hash_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(DEFAULT_HASH_SEED);
    h.finish()
}

/// A key the L1 store can hash. Byte-like keys hash their bytes; a `u64`
/// (the simulator's trace key) hashes as its 8 big-endian bytes, exactly like
/// the engine key the simulator's keys stand for, so hash-dependent policy
/// decisions (TinyLFU's sketch, S3-FIFO's ghost) are the same in both worlds
/// under one seed.
pub trait KeyHash {
    /// The key's 64-bit hash under `seed`.
    fn key_hash_with(&self, seed: u64) -> u64;

    /// The key's 64-bit hash under [`DEFAULT_HASH_SEED`].
    #[inline]
    fn key_hash(&self) -> u64 {
        self.key_hash_with(DEFAULT_HASH_SEED)
    }
}

/// The seed of the simulator's key hashes, and of an engine configured with
/// it (`l1.hash_seed`) to make the same hash-dependent decisions.
pub const DEFAULT_HASH_SEED: u64 = 0x5757_a7a5_c0de_cafe;

/// XXH3-64 of the bytes: defined on bytes, so the same on 64-bit machines and
/// on wasm32 (foldhash, used for the in-memory hash maps, is not: its
/// multiply differs on 32-bit targets).
#[inline]
fn hash_bytes(seed: u64, b: &[u8]) -> u64 {
    twox_hash::XxHash3_64::oneshot_with_seed(seed, b)
}

impl KeyHash for [u8] {
    #[inline]
    fn key_hash_with(&self, seed: u64) -> u64 {
        hash_bytes(seed, self)
    }
}

impl KeyHash for str {
    #[inline]
    fn key_hash_with(&self, seed: u64) -> u64 {
        hash_bytes(seed, self.as_bytes())
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
            fn key_hash_with(&self, seed: u64) -> u64 {
                hash_bytes(seed, &self.to_be_bytes())
            }
        }
    )*};
}

int_key_hash!(u16, u32, u64, u128, usize, i16, i32, i64, i128, isize);

impl KeyHash for bytes::Bytes {
    #[inline]
    fn key_hash_with(&self, seed: u64) -> u64 {
        hash_bytes(seed, self)
    }
}

impl KeyHash for Vec<u8> {
    #[inline]
    fn key_hash_with(&self, seed: u64) -> u64 {
        hash_bytes(seed, self)
    }
}

impl KeyHash for Box<[u8]> {
    #[inline]
    fn key_hash_with(&self, seed: u64) -> u64 {
        hash_bytes(seed, self)
    }
}

impl KeyHash for String {
    #[inline]
    fn key_hash_with(&self, seed: u64) -> u64 {
        hash_bytes(seed, self.as_bytes())
    }
}

impl<T: KeyHash + ?Sized> KeyHash for &T {
    #[inline]
    fn key_hash_with(&self, seed: u64) -> u64 {
        (**self).key_hash_with(seed)
    }
}

/// The 64-bit hash of `key` under [`DEFAULT_HASH_SEED`] (see [`KeyHash`]).
#[inline]
#[must_use]
pub fn hash_key<Q: KeyHash + ?Sized>(key: &Q) -> u64 {
    key.key_hash()
}

/// The 64-bit hash of `key` under `seed`.
#[inline]
#[must_use]
pub fn hash_key_with<Q: KeyHash + ?Sized>(seed: u64, key: &Q) -> u64 {
    key.key_hash_with(seed)
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
    fn seeds_change_hashes_and_the_default_is_the_unseeded_hash() {
        assert_eq!(hash_key_with(DEFAULT_HASH_SEED, &b"user:1"[..]), hash_key(&b"user:1"[..]));
        assert_eq!(hash_key_with(7, &42u64), hash_key_with(7, &engine_key(42)[..]));
        assert_ne!(hash_key_with(7, &b"user:1"[..]), hash_key(&b"user:1"[..]));
        assert_ne!(random_hash_seed(), random_hash_seed(), "a fresh seed per call");
    }

    #[test]
    fn hashes_are_pinned_across_platforms() {
        // XXH3-64 is specified on bytes: these values hold on every target.
        assert_eq!(hash_key(&b""[..]), twox_hash::XxHash3_64::oneshot_with_seed(DEFAULT_HASH_SEED, b""));
        // Cross-checked with the reference C xxHash (Python `xxhash.xxh3_64_intdigest`).
        assert_eq!(hash_key(&b"user:1"[..]), 0x2501_e7c8_34c5_4b62);
        assert_eq!(hash_key(&42u64), 0x5fac_5886_a95c_a4be);
    }
}
