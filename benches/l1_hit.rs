//! L1 hit latency through the public async `get` of `CachedStateBackend`
//! (every eviction policy), beside peers on the same keys in the same group:
//! `mini_moka::sync::Cache::get`, `quick_cache::sync::Cache::get` and a
//! `parking_lot::Mutex<HashMap>`. 100k keys, 64-byte values, Zipf(1.0) and
//! uniform key sequences, single thread; then hits/s with 2 threads.
//!
//! `cargo bench --bench l1_hit`; instruction counts per hit (load-independent):
//! `examples/l1_hit_count.rs`.

#[path = "common/l1_peers.rs"]
mod peers;

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures::FutureExt;
use peers::{
    SEQ, engine, keys, mini_moka, mutex_map, mutex_map_get, quick_cache, uniform_sequence, zipf_sequence,
};
use strata::core::policy::eviction::EvictionConfig;

fn bench_hits(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let keys = keys();
    let moka = mini_moka();
    let quick = quick_cache();
    let map = mutex_map();
    for (dist, seq) in [("zipf1.0", zipf_sequence(1.0, SEQ, 7)), ("uniform", uniform_sequence(SEQ, 7))] {
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
                moka.get(&keys[seq[i] as usize])
            })
        });
        g.bench_function("quick_cache_get", |b| {
            b.iter(|| {
                i = (i + 1) & (SEQ - 1);
                quick.get(&keys[seq[i] as usize])
            })
        });
        g.bench_function("mutex_hashmap_get", |b| {
            b.iter(|| {
                i = (i + 1) & (SEQ - 1);
                mutex_map_get(&map, &keys[seq[i] as usize])
            })
        });
        g.finish();
    }
}

/// Hits per second with two threads hitting the same cache.
fn bench_two_threads(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let keys = keys();
    let seq = zipf_sequence(1.0, SEQ, 9);
    let moka = mini_moka();
    let quick = quick_cache();
    let map = mutex_map();
    let mut g = c.benchmark_group("l1_hit_2threads/zipf1.0");
    g.throughput(Throughput::Elements(2));
    for eviction in [EvictionConfig::Lru, EvictionConfig::S3Fifo(Default::default())] {
        let cache = engine(&rt, eviction.clone());
        g.bench_function(BenchmarkId::new("strata_get", eviction.name()), |b| {
            b.iter_custom(|iters| {
                run_two(iters, |k| {
                    cache.get(&keys[seq[k] as usize]).now_or_never().expect("hit").unwrap();
                })
            })
        });
    }
    g.bench_function("mini_moka_get", |b| {
        b.iter_custom(|iters| {
            run_two(iters, |k| {
                moka.get(&keys[seq[k] as usize]);
            })
        })
    });
    g.bench_function("quick_cache_get", |b| {
        b.iter_custom(|iters| {
            run_two(iters, |k| {
                quick.get(&keys[seq[k] as usize]);
            })
        })
    });
    g.bench_function("mutex_hashmap_get", |b| {
        b.iter_custom(|iters| {
            run_two(iters, |k| {
                mutex_map_get(&map, &keys[seq[k] as usize]);
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
