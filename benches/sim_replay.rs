//! Simulator replay throughput over a 1 M-request Zipf(1.0) trace of 100 k
//! keys (in memory, fixed seed), L1 of 10 k entries: hit-ratio-only per
//! policy, the full tiered engine (L1 + L3, and L1 + L2 + L3 with latency
//! sampling), and as a peer the bare `L1Store` loop under the same trace
//! (what the simulator adds on top of the store).
//!
//! `cargo bench --bench sim_replay`. The 10 M-request numbers of the book
//! come from `cargo run --release --example sim_speed`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use strata_core::CacheConfig;
use strata_core::config::{Capacity, L2Config};
use strata_core::l1::hash_key;
use strata_core::policy::eviction::EvictionConfig;
use strata_core::{Instant, l1::L1Store};
use strata_sim::config::Arrival;
use strata_sim::generate::{GenConfig, KeyDist};
use strata_sim::{Request, SimConfig};

const REQUESTS: u64 = 1_000_000;
const CAPACITY: u64 = 10_000;

fn trace() -> Vec<Request> {
    let config = GenConfig {
        dist: KeyDist::Zipf { alpha: 1.0 },
        keys: 100_000,
        requests: REQUESTS,
        seed: 42,
        ..GenConfig::default()
    };
    config.build().expect("valid generator").collect()
}

fn cache(policy: EvictionConfig) -> CacheConfig {
    let mut c = CacheConfig::default();
    c.l1.capacity = Capacity::Entries(CAPACITY);
    c.l1.eviction = policy;
    c
}

fn bench(c: &mut Criterion) {
    let trace = trace();
    let sim = SimConfig { arrival: Arrival::Rate { per_sec: 1_000_000.0 }, ..SimConfig::default() };
    let mut g = c.benchmark_group("sim_replay_zipf1_1M_requests_100k_keys_l1_10k");
    g.sample_size(10);
    g.throughput(Throughput::Elements(REQUESTS));
    g.bench_function("bare_l1store_lru", |b| {
        b.iter(|| {
            let mut s = L1Store::new(CAPACITY, EvictionConfig::Lru.build(CAPACITY), None);
            let mut hits = 0u64;
            for r in &trace {
                let h = hash_key(&r.key);
                if s.get_hashed(h, &r.key, Instant::ZERO).is_some() {
                    hits += 1;
                } else {
                    s.insert_hashed(h, r.key, (), 1, None, Instant::ZERO);
                }
            }
            hits
        })
    });
    for policy in EvictionConfig::all() {
        let c = cache(policy.clone());
        g.bench_function(format!("hit_ratio_only_{}", policy.name()), |b| {
            b.iter(|| {
                strata_sim::fast::run_hit_ratio_only(&c, &sim, trace.iter().copied(), |_| {}).expect("valid")
            })
        });
    }
    let l1 = cache(EvictionConfig::Lru);
    g.bench_function("full_l1_l3_lru", |b| {
        b.iter(|| strata_sim::replay::run(&l1, &sim, trace.iter().copied(), |_| {}).expect("valid"))
    });
    let mut tiered = cache(EvictionConfig::Lru);
    tiered.l2 = Some(L2Config { capacity: Some(Capacity::Entries(4 * CAPACITY)), ..L2Config::default() });
    g.bench_function("full_l1_l2_l3_lru", |b| {
        b.iter(|| strata_sim::replay::run(&tiered, &sim, trace.iter().copied(), |_| {}).expect("valid"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
