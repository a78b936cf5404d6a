//! Hit-ratio cross-check: Strata's W-TinyLFU (through `L1Store`, one shard)
//! against `mini_moka::sync::Cache` (TinyLFU admission, LRU eviction) on the
//! same Zipf traces, same capacity, single thread, maintenance run after
//! every request so that mini-moka's evictions are applied deterministically.
//! The two must agree within 3 percentage points.

use mini_moka::sync::{Cache, ConcurrentCacheExt};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use strata::core::Instant;
use strata::core::l1::{KeyHasher, L1Store, key_hasher};
use strata::core::policy::eviction::{AnyPolicy, EvictionConfig};
use strata::sim::generate::Zipf;

const CAPACITY: u64 = 1_000;
const KEYS: u32 = 100_000;
const REQUESTS: usize = 200_000;

fn zipf_trace(alpha: f64, seed: u64) -> Vec<u64> {
    let zipf = Zipf::new(KEYS, alpha);
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    (0..REQUESTS).map(|_| u64::from(zipf.rank(rng.random::<f64>()))).collect()
}

fn strata_hit_ratio(cfg: &EvictionConfig, trace: &[u64]) -> f64 {
    let mut s: L1Store<u64, (), AnyPolicy> = L1Store::new(CAPACITY, cfg.build(CAPACITY), None);
    for &k in trace {
        if s.get(&k, Instant::ZERO).is_none() {
            s.insert(k, (), 1, None, Instant::ZERO);
        }
    }
    assert!(s.len() as u64 <= CAPACITY);
    s.counters().hits as f64 / trace.len() as f64
}

fn moka_hit_ratio(trace: &[u64]) -> f64 {
    let cache: Cache<u64, (), KeyHasher> =
        Cache::builder().max_capacity(CAPACITY).build_with_hasher(key_hasher());
    let mut hits = 0u64;
    for &k in trace {
        if cache.get(&k).is_some() {
            hits += 1;
        } else {
            cache.insert(k, ());
        }
        cache.sync();
    }
    assert!(cache.entry_count() <= CAPACITY);
    hits as f64 / trace.len() as f64
}

#[test]
fn tinylfu_within_3_points_of_mini_moka() {
    let tiny = EvictionConfig::TinyLfu(Default::default());
    for (alpha, seed) in [(0.9, 7), (1.0, 11)] {
        let trace = zipf_trace(alpha, seed);
        let ours = strata_hit_ratio(&tiny, &trace);
        let moka = moka_hit_ratio(&trace);
        let lru = strata_hit_ratio(&EvictionConfig::Lru, &trace);
        println!(
            "Zipf({alpha}) {REQUESTS} requests over {KEYS} keys, capacity {CAPACITY}: \
             strata W-TinyLFU {:.2}%, mini-moka {:.2}%, strata LRU {:.2}%",
            ours * 100.0,
            moka * 100.0,
            lru * 100.0
        );
        assert!((ours - moka).abs() <= 0.03, "alpha {alpha}: ours {ours:.4} vs mini-moka {moka:.4}");
        // Frequency-based admission beats recency on a static Zipf.
        assert!(ours > lru, "alpha {alpha}: W-TinyLFU {ours:.4} not above LRU {lru:.4}");
    }
}
