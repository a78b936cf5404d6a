//! Miss-ratio curves over a 1 M-request Zipf(1.0) trace of 100 k keys (in
//! memory, generated with a fixed seed): the one-pass LRU curve in objects
//! and bytes, SHARDS at 1 %, and, as a peer in the same group, one
//! simulated LRU replay through the L1 store (one capacity only, where the
//! one-pass curve gives every capacity).
//!
//! `cargo bench --bench mrc`

use std::convert::Infallible;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use strata_core::policy::eviction::EvictionConfig;
use strata_sim::Unit;
use strata_sim::generate::{GenConfig, KeyDist, SizeDist};
use strata_sim::mrc::{MrcBuilder, simulate_curves};
use strata_sim::trace::Request;

const REQUESTS: u64 = 1_000_000;

fn trace() -> Vec<Request> {
    let config = GenConfig {
        dist: KeyDist::Zipf { alpha: 1.0 },
        keys: 100_000,
        requests: REQUESTS,
        sizes: SizeDist::LogNormal { median: 500.0, sigma: 1.0 },
        seed: 42,
        ..GenConfig::default()
    };
    config.build().expect("valid generator").collect()
}

fn curve(trace: &[Request], builder: MrcBuilder) -> u64 {
    let mut b = builder;
    trace.iter().for_each(|r| b.access(r));
    b.finish().misses(10_000)
}

fn bench(c: &mut Criterion) {
    let trace = trace();
    let mut g = c.benchmark_group("mrc_zipf1_1M_requests_100k_keys");
    g.sample_size(10);
    g.throughput(Throughput::Elements(REQUESTS));
    g.bench_function("one_pass_lru_objects", |b| b.iter(|| curve(&trace, MrcBuilder::new(Unit::Objects))));
    g.bench_function("one_pass_lru_bytes", |b| b.iter(|| curve(&trace, MrcBuilder::new(Unit::Bytes))));
    g.bench_function("shards_1pct_objects", |b| {
        b.iter(|| curve(&trace, MrcBuilder::sampled(Unit::Objects, 0.01).expect("valid rate")))
    });
    g.bench_function("simulated_lru_one_capacity", |b| {
        b.iter(|| {
            let reqs = trace.iter().map(|r| Ok::<_, Infallible>(*r));
            simulate_curves(reqs, &[EvictionConfig::Lru], &[10_000], Unit::Objects).expect("infallible")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
