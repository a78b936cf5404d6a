//! Eviction-policy throughput: a 1M-request Zipf(1.0) trace over 100k `u64`
//! keys replayed through a single-shard `L1Store<u64, (), AnyPolicy>` of
//! capacity 10k (read; on a miss insert), once per policy, from a cold
//! store every iteration. This is the simulator's inner loop.
//!
//! `cargo bench --bench policies`

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use strata_core::Instant;
use strata_core::l1::L1Store;
use strata_core::policy::eviction::{AnyPolicy, EvictionConfig};
use strata_sim::generate::Zipf;

const KEYS: u32 = 100_000;
const REQUESTS: usize = 1_000_000;
const CAPACITY: u64 = 10_000;

fn trace() -> Vec<u64> {
    let zipf = Zipf::new(KEYS, 1.0);
    let mut rng = Pcg64Mcg::seed_from_u64(42);
    (0..REQUESTS).map(|_| u64::from(zipf.rank(rng.random::<f64>()))).collect()
}

fn replay(store: &mut L1Store<u64, (), AnyPolicy>, trace: &[u64]) -> u64 {
    for &k in trace {
        if store.get(&k, Instant::ZERO).is_none() {
            store.insert(k, (), 1, None, Instant::ZERO);
        }
    }
    store.counters().hits
}

fn policies(c: &mut Criterion) {
    let trace = trace();
    let mut group = c.benchmark_group("policies/zipf1.0_1M_req_100k_keys_cap10k");
    group.throughput(Throughput::Elements(REQUESTS as u64));
    group.sample_size(10);
    for cfg in EvictionConfig::all() {
        group.bench_with_input(BenchmarkId::from_parameter(cfg.name()), &cfg, |b, cfg| {
            b.iter_batched(
                || L1Store::new(CAPACITY, cfg.build(CAPACITY), None),
                |mut store| replay(&mut store, &trace),
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, policies);
criterion_main!(benches);
