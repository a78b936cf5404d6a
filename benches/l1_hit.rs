//! L1 hit latency through the public async `get` of `CachedStateBackend`,
//! beside `mini_moka::sync::Cache::get` on the same keys in the same group:
//! 100k keys, 64-byte values, Zipf(1.0) and uniform key sequences, single
//! thread; plus hits/s with 2 threads.
//!
//! `cargo bench --bench l1_hit`

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures::FutureExt;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use strata_core::config::{CacheConfig, Capacity};
use strata_core::policy::eviction::EvictionConfig;
use strata_core::{CachedStateBackend, MemoryStateBackend};

const KEYS: usize = 100_000;
const SEQ: usize = 1 << 20;

fn zipf_sequence(n: usize, alpha: f64, len: usize, seed: u64) -> Vec<u32> {
    let mut cdf = Vec::with_capacity(n);
    let mut sum = 0.0;
    for i in 1..=n {
        sum += 1.0 / (i as f64).powf(alpha);
        cdf.push(sum);
    }
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    (0..len)
        .map(|_| {
            let u = rng.random::<f64>() * sum;
            cdf.partition_point(|&c| c < u) as u32
        })
        .collect()
}

fn uniform_sequence(n: usize, len: usize, seed: u64) -> Vec<u32> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(0..n as u32)).collect()
}

fn key(i: u32) -> Bytes {
    Bytes::from(format!("user:{i:08}"))
}

fn engine(
    rt: &tokio::runtime::Runtime,
    eviction: EvictionConfig,
) -> CachedStateBackend<Arc<MemoryStateBackend>> {
    let mut cfg = CacheConfig::default();
    cfg.l1.capacity = Capacity::Entries(KEYS as u64 * 2);
    cfg.l1.eviction = eviction;
    let cache = CachedStateBackend::builder(Arc::new(MemoryStateBackend::new())).config(cfg).build().unwrap();
    rt.block_on(async {
        for i in 0..KEYS as u32 {
            cache.put(&key(i), Bytes::from(vec![i as u8; 64])).await.unwrap();
        }
    });
    cache
}

fn moka() -> mini_moka::sync::Cache<Bytes, Bytes> {
    let c = mini_moka::sync::Cache::new(KEYS as u64 * 2);
    for i in 0..KEYS as u32 {
        c.insert(key(i), Bytes::from(vec![i as u8; 64]));
    }
    c
}

fn bench_hits(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let keys: Vec<Bytes> = (0..KEYS as u32).map(key).collect();
    let m = moka();
    for (dist, seq) in
        [("zipf1.0", zipf_sequence(KEYS, 1.0, SEQ, 7)), ("uniform", uniform_sequence(KEYS, SEQ, 7))]
    {
        let mut g = c.benchmark_group(format!("l1_hit/{dist}"));
        g.throughput(Throughput::Elements(1));
        for eviction in EvictionConfig::all() {
            let cache = engine(&rt, eviction.clone());
            let mut i = 0usize;
            g.bench_function(BenchmarkId::new("strata_get", eviction.name()), |b| {
                b.iter(|| {
                    i = (i + 1) & (SEQ - 1);
                    let k = &keys[seq[i] as usize];
                    cache.get(k).now_or_never().expect("an L1 hit never waits").unwrap()
                })
            });
        }
        let mut i = 0usize;
        g.bench_function("mini_moka_get", |b| {
            b.iter(|| {
                i = (i + 1) & (SEQ - 1);
                m.get(&keys[seq[i] as usize])
            })
        });
        g.finish();
    }
}

/// Hits per second with two threads hitting the same cache.
fn bench_two_threads(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let keys: Arc<Vec<Bytes>> = Arc::new((0..KEYS as u32).map(key).collect());
    let seq = Arc::new(zipf_sequence(KEYS, 1.0, SEQ, 9));
    let cache = engine(&rt, EvictionConfig::default());
    let m = moka();
    let mut g = c.benchmark_group("l1_hit_2threads/zipf1.0");
    g.throughput(Throughput::Elements(2));
    g.bench_function("strata_get", |b| {
        b.iter_custom(|iters| {
            run_two(iters, |k| {
                cache.get(&keys[seq[k] as usize]).now_or_never().expect("hit").unwrap();
            })
        })
    });
    g.bench_function("mini_moka_get", |b| {
        b.iter_custom(|iters| {
            run_two(iters, |k| {
                m.get(&keys[seq[k] as usize]);
            })
        })
    });
    g.finish();
}

#[allow(clippy::disallowed_methods)] // wall-clock timing of the bench itself
fn run_two(iters: u64, op: impl Fn(usize) + Sync) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..2usize {
            let op = &op;
            s.spawn(move || {
                let mut i = t * 7919;
                for _ in 0..iters {
                    i = (i + 1) & (SEQ - 1);
                    op(i);
                }
            });
        }
    });
    start.elapsed()
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench_hits, bench_two_threads
}
criterion_main!(benches);
