//! The L1 hit workload and its peers, shared by `benches/l1_hit.rs` (criterion
//! timing) and `examples/l1_hit_count.rs` (instruction counts under
//! callgrind): 100k keys `user:00000000`, 64-byte values, Zipf(1.0) or
//! uniform key sequences, every cache sized for all keys (every read hits).

#![allow(dead_code)] // each includer uses a part

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use strata::core::config::{CacheConfig, Capacity};
use strata::core::policy::eviction::EvictionConfig;
use strata::core::{CachedStateBackend, MemoryStateBackend};
use strata::sim::generate::Zipf;

/// Distinct keys.
pub(crate) const KEYS: usize = 100_000;
/// Length of a key sequence (a power of two: indices wrap with a mask).
pub(crate) const SEQ: usize = 1 << 20;
/// Bytes per value.
pub(crate) const VALUE_LEN: usize = 64;

/// The engine under test.
pub(crate) type Engine = CachedStateBackend<Arc<MemoryStateBackend>>;

/// `len` key indices, Zipf(`alpha`) over `KEYS` (rank 0 the most popular).
pub(crate) fn zipf_sequence(alpha: f64, len: usize, seed: u64) -> Vec<u32> {
    let zipf = Zipf::new(KEYS as u32, alpha);
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    (0..len).map(|_| zipf.rank(rng.random::<f64>())).collect()
}

/// `len` key indices, uniform over `KEYS`.
pub(crate) fn uniform_sequence(len: usize, seed: u64) -> Vec<u32> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(0..KEYS as u32)).collect()
}

/// The `i`-th key.
pub(crate) fn key(i: u32) -> Bytes {
    Bytes::from(format!("user:{i:08}"))
}

/// All keys, by index.
pub(crate) fn keys() -> Vec<Bytes> {
    (0..KEYS as u32).map(key).collect()
}

/// The `i`-th value.
pub(crate) fn value(i: u32) -> Bytes {
    Bytes::from(vec![i as u8; VALUE_LEN])
}

/// A `CachedStateBackend` (default config but `eviction`, L1 room for every
/// key) holding every key in L1.
pub(crate) fn engine(rt: &tokio::runtime::Runtime, eviction: EvictionConfig) -> Engine {
    let mut cfg = CacheConfig::default();
    cfg.l1.capacity = Capacity::Entries(KEYS as u64 * 2);
    cfg.l1.eviction = eviction;
    let cache = rt.block_on(async {
        let cache = CachedStateBackend::builder(Arc::new(MemoryStateBackend::new())).config(cfg).build()?;
        for i in 0..KEYS as u32 {
            cache.put(&key(i), value(i)).await?;
        }
        Ok::<_, strata::core::StateError>(cache)
    });
    cache.expect("the engine builds and takes the keys")
}

/// `mini_moka::sync::Cache` holding every key.
pub(crate) fn mini_moka() -> mini_moka::sync::Cache<Bytes, Bytes> {
    let c = mini_moka::sync::Cache::new(KEYS as u64 * 2);
    for i in 0..KEYS as u32 {
        c.insert(key(i), value(i));
    }
    c
}

/// `quick_cache::sync::Cache` holding every key.
pub(crate) fn quick_cache() -> quick_cache::sync::Cache<Bytes, Bytes> {
    let c = quick_cache::sync::Cache::new(KEYS * 2);
    for i in 0..KEYS as u32 {
        c.insert(key(i), value(i));
    }
    c
}

/// The plain baseline: one `parking_lot::Mutex` around a std `HashMap`
/// (SipHash, as a user would write it), no eviction at all.
pub(crate) fn mutex_map() -> Mutex<HashMap<Bytes, Bytes>> {
    Mutex::new((0..KEYS as u32).map(|i| (key(i), value(i))).collect())
}

/// A hit on the mutex baseline (a clone of the value, like every peer).
#[inline]
pub(crate) fn mutex_map_get(m: &Mutex<HashMap<Bytes, Bytes>>, k: &Bytes) -> Option<Bytes> {
    m.lock().get(k).cloned()
}
