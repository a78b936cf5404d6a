use std::path::Path;

use proptest::prelude::*;
use strata_core::clock::Instant;
use strata_core::l1::L1Store;
use strata_core::policy::eviction::{EvictionConfig, Lru};

use super::*;
use crate::generate::{GenConfig, KeyDist};
use crate::trace::{ReaderOptions, TraceError, open};

fn get(key: u64, size: u32) -> Request {
    Request { time_ns: 0, key, op: Op::Get, size, ttl: None }
}

/// Misses of an LRU `L1Store` of `capacity` replaying `trace` (deletes ignored).
fn lru_replay(trace: &[Request], capacity: u64, unit: Unit) -> u64 {
    let mut store: L1Store<u64, (), Lru> = L1Store::new(capacity, Lru::new(), None);
    let mut misses = 0;
    for r in trace.iter().filter(|r| r.op != Op::Delete) {
        if store.get(&r.key, Instant::ZERO).is_none() {
            misses += 1;
            store.insert(r.key, (), unit.weight(r), None, Instant::ZERO);
        }
    }
    misses
}

fn curve(trace: &[Request], unit: Unit) -> MissRatioCurve {
    let mut b = MrcBuilder::new(unit);
    trace.iter().for_each(|r| b.access(r));
    b.finish()
}

fn ok(trace: &[Request]) -> impl Iterator<Item = Result<Request, TraceError>> + '_ {
    trace.iter().map(|r| Ok(*r))
}

fn arb_trace(keys: u64, len: usize) -> impl Strategy<Value = Vec<Request>> {
    proptest::collection::vec((0..keys, 0u8..20), 0..len).prop_map(|v| {
        v.into_iter()
            .map(|(k, o)| Request {
                time_ns: 0,
                key: k,
                op: match o {
                    0 => Op::Delete,
                    1..=4 => Op::Set,
                    _ => Op::Get,
                },
                // a key keeps one size: 1..=64 bytes
                size: (k * 37 % 64) as u32 + 1,
                ttl: None,
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn one_pass_lru_equals_replays_at_every_object_capacity(trace in arb_trace(40, 600)) {
        let c = curve(&trace, Unit::Objects);
        let distinct = c.distinct_keys();
        prop_assert_eq!(c.footprint(), distinct);
        for cap in 0..=distinct + 1 {
            prop_assert!(c.is_exact(cap));
            prop_assert_eq!(c.misses(cap), lru_replay(&trace, cap, Unit::Objects), "capacity {}", cap);
        }
        prop_assert_eq!(c.accesses() + c.ignored(), trace.len() as u64);
        // and the parallel simulator with the LRU config agrees
        let caps: Vec<u64> = (0..=distinct + 1).collect();
        let sim = simulate_curves(ok(&trace), &[EvictionConfig::Lru], &caps, Unit::Objects).unwrap();
        for p in sim {
            prop_assert_eq!(p.misses, c.misses(p.capacity));
            prop_assert_eq!(p.accesses, c.accesses());
        }
    }

    #[test]
    fn one_pass_lru_equals_replays_at_every_byte_capacity(trace in arb_trace(40, 600)) {
        let c = curve(&trace, Unit::Bytes);
        // capacities from the largest object (64) up past the footprint
        for cap in 64..=c.footprint() + 2 {
            if cap <= 512 {
                prop_assert!(c.is_exact(cap), "capacity {} must be exact", cap);
            }
            if c.is_exact(cap) {
                prop_assert_eq!(c.misses(cap), lru_replay(&trace, cap, Unit::Bytes), "capacity {}", cap);
            }
        }
    }
}

#[test]
fn byte_mode_beyond_the_exact_range() {
    // sizes up to 10 kB: bucket ends are exact, other capacities within one bucket
    let g = GenConfig {
        keys: 3000,
        requests: 60_000,
        sizes: crate::generate::SizeDist::Uniform { min: 100, max: 10_000 },
        dist: KeyDist::Zipf { alpha: 0.8 },
        ..GenConfig::default()
    };
    let trace: Vec<Request> = g.build().unwrap().collect();
    let c = curve(&trace, Unit::Bytes);
    let mut checked = 0;
    for cap in [10_240u64, 65_536, 300 << 10, 1 << 20, 3 << 20, 5 << 20, 12 << 20] {
        assert!(c.is_exact(cap), "{cap}");
        assert_eq!(c.misses(cap), lru_replay(&trace, cap, Unit::Bytes), "capacity {cap}");
        checked += 1;
    }
    for cap in [100_001u64, 1_234_567, 4_000_000] {
        assert!(!c.is_exact(cap));
        let real = lru_replay(&trace, cap, Unit::Bytes) as f64;
        let rel = (c.misses(cap) as f64 - real).abs() / trace.len() as f64;
        assert!(rel < 0.005, "capacity {cap}: {} vs {real}", c.misses(cap));
    }
    assert_eq!(checked, 7);
    // the simulator agrees at exact points
    let sim = simulate_curves(ok(&trace), &[EvictionConfig::Lru], &[65_536, 1 << 20], Unit::Bytes).unwrap();
    assert!(sim.iter().all(|p| p.misses == c.misses(p.capacity)));
}

fn traces_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces")
}

/// traces/README.md: LRU misses of web07 and web12 from a reference C simulator.
const REFERENCE_LRU: [(&str, [(u64, u64); 3]); 2] = [
    ("web07.trace.xz", [(200, 46_439), (2_000, 33_873), (5_000, 28_416)]),
    ("web12.trace.xz", [(150, 56_656), (1_500, 29_223), (3_500, 21_175)]),
];

#[test]
fn reproduces_the_reference_lru_misses_of_web07_and_web12() {
    for (name, points) in REFERENCE_LRU {
        let path = traces_dir().join(name);
        let mut b = MrcBuilder::new(Unit::Objects);
        b.feed(open(&path, None, ReaderOptions::default()).unwrap()).unwrap();
        let c = b.finish();
        let caps: Vec<u64> = points.iter().map(|p| p.0).collect();
        let sim = simulate_curves(
            open(&path, None, ReaderOptions::default()).unwrap(),
            &[EvictionConfig::Lru],
            &caps,
            Unit::Objects,
        )
        .unwrap();
        for ((cap, want), s) in points.into_iter().zip(sim) {
            assert_eq!(c.misses(cap), want, "{name} at {cap} (one pass)");
            assert_eq!(s.misses, want, "{name} at {cap} (simulated)");
        }
    }
}

/// A Zipf trace whose keys are scrambled by `seed`, so that each seed
/// samples a different set of hot keys.
fn scrambled_zipf(seed: u64, sizes: crate::generate::SizeDist) -> Vec<Request> {
    let g = GenConfig {
        dist: KeyDist::Zipf { alpha: 1.0 },
        keys: 100_000,
        requests: 1_000_000,
        seed,
        sizes,
        ..GenConfig::default()
    };
    g.build()
        .unwrap()
        .map(|mut r| {
            r.key = (r.key ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            r
        })
        .collect()
}

#[test]
fn shards_stays_within_its_stated_error() {
    let lognormal = crate::generate::SizeDist::LogNormal { median: 500.0, sigma: 1.0 };
    for (seed, unit) in [
        (1u64, Unit::Objects),
        (2, Unit::Objects),
        (3, Unit::Objects),
        (6, Unit::Objects),
        (4, Unit::Bytes),
        (5, Unit::Bytes),
    ] {
        let sizes =
            if unit == Unit::Bytes { lognormal.clone() } else { crate::generate::SizeDist::Constant(1) };
        let trace = scrambled_zipf(seed, sizes);
        let exact = curve(&trace, unit);
        for rate in [0.1, 0.01] {
            let mut b = MrcBuilder::sampled(unit, rate).unwrap();
            trace.iter().for_each(|r| b.access(r));
            let s = b.finish();
            assert!((s.sample_rate() - rate).abs() < 1e-6);
            let mut bounded = 0;
            let mut worst = 0.0f64;
            for cap in exact.default_capacities() {
                let err = (s.miss_ratio(cap) - exact.miss_ratio(cap)).abs();
                if let Some(bound) = s.error_bound(cap) {
                    assert!(err < bound, "seed {seed} {unit:?} rate {rate} capacity {cap}: error {err}");
                    worst = worst.max(err);
                    bounded += 1;
                }
                assert!(!s.is_exact(cap));
            }
            assert!(bounded >= 4, "the bound must cover the upper curve ({bounded} points)");
            println!(
                "seed {seed} {unit:?} rate {rate}: worst bounded error {worst:.4} over {bounded} points"
            );
            let keys_err = (s.distinct_keys() as f64 / exact.distinct_keys() as f64 - 1.0).abs();
            assert!(keys_err < 0.2, "distinct keys estimate off by {keys_err}");
        }
    }
}

#[test]
fn sample_rate_validation_and_deletes() {
    assert!(MrcBuilder::sampled(Unit::Objects, 0.0).is_err());
    assert!(MrcBuilder::sampled(Unit::Objects, 1.5).is_err());
    assert!(MrcBuilder::sampled(Unit::Objects, f64::NAN).is_err());
    assert_eq!(MrcBuilder::sampled(Unit::Objects, 1.0).unwrap().rate(), 1.0);
    let trace = [get(1, 1), Request { op: Op::Delete, ..get(1, 1) }, get(1, 1), get(2, 1)];
    let c = curve(&trace, Unit::Objects);
    assert_eq!((c.accesses(), c.ignored(), c.cold_misses(), c.misses(1), c.misses(0)), (3, 1, 2, 2, 3));
    let empty = curve(&[], Unit::Objects);
    assert_eq!((empty.miss_ratio(10), empty.misses(10), empty.default_capacities()), (0.0, 0, vec![1]));
}

#[test]
fn report_points_and_default_capacities() {
    let trace: Vec<Request> = (0..1000u64).map(|i| get(i % 100, 10)).collect();
    let c = curve(&trace, Unit::Objects);
    let caps = c.default_capacities();
    assert_eq!(caps.last(), Some(&100));
    assert!(caps.windows(2).all(|w| w[0] < w[1]));
    let r = c.report(&caps);
    assert_eq!((r.distinct_keys, r.footprint, r.cold_misses, r.accesses), (100, 100, 100, 1000));
    // a loop over 100 keys: LRU misses everything below 100, only cold misses at 100
    assert_eq!(r.points.last().map(|p| (p.misses, p.exact)), Some((100, true)));
    assert!(r.points[..r.points.len() - 1].iter().all(|p| p.misses == 1000 && p.miss_ratio == 1.0));
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains("\"unit\":\"objects\""), "{json}");
}

/// A generated trace whose keys are scrambled by `seed`, so that each seed
/// samples a different set of keys.
fn scrambled(dist: KeyDist, keys: u64, requests: u64, seed: u64) -> Vec<Request> {
    let g = GenConfig { dist, keys, requests, seed, ..GenConfig::default() };
    g.build()
        .unwrap()
        .map(|mut r| {
            r.key = (r.key ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            r
        })
        .collect()
}

/// Checks |sampled − exact| ≤ the printed bound at the default capacities
/// and 40 more up to 1.25 × the footprint; returns the bounded points.
fn assert_within_printed_bounds(trace: &[Request], rate: f64, what: &str) -> usize {
    let exact = curve(trace, Unit::Objects);
    let mut b = MrcBuilder::sampled(Unit::Objects, rate).unwrap();
    trace.iter().for_each(|r| b.access(r));
    let s = b.finish();
    let f = exact.footprint();
    let mut caps = exact.default_capacities();
    caps.extend((1..=40).map(|i| f * i / 32));
    let mut bounded = 0;
    for cap in caps {
        if let Some(bound) = s.error_bound(cap) {
            let err = (s.miss_ratio(cap) - exact.miss_ratio(cap)).abs();
            assert!(
                err <= bound,
                "{what} rate {rate} capacity {cap}: exact {} sampled {} bound {bound}",
                exact.miss_ratio(cap),
                s.miss_ratio(cap)
            );
            bounded += 1;
        }
    }
    bounded
}

#[test]
fn sampled_points_stay_within_their_printed_bound() {
    // 40 k keys at 5 %: about 2,000 sampled keys, 500 sampled objects at 10 k
    for seed in 1..=3u64 {
        for (name, dist) in
            [("zipf", KeyDist::Zipf { alpha: 0.9 }), ("uniform", KeyDist::Uniform), ("loop", KeyDist::Loop)]
        {
            let trace = scrambled(dist, 40_000, 300_000, seed);
            let bounded = assert_within_printed_bounds(&trace, 0.05, &format!("{name} seed {seed}"));
            assert!(bounded >= 20, "{name} seed {seed}: {bounded} bounded points");
        }
    }
}

#[test]
fn a_loop_cliff_moved_by_the_sample_gets_a_bound_that_covers_it() {
    // a loop over 20,000 keys misses every access below 20,000 and none
    // but the cold ones above; the sample holds more or fewer than 1,000
    // keys, which moves its cliff
    let trace = scrambled(KeyDist::Loop, 20_000, 100_000, 7);
    let mut b = MrcBuilder::sampled(Unit::Objects, 0.05).unwrap();
    trace.iter().for_each(|r| b.access(r));
    let s = b.finish();
    let sampled_cliff = s.footprint();
    assert!(sampled_cliff.abs_diff(20_000) >= 300, "the sample's cliff at {sampled_cliff}");
    let (lo, hi) = (sampled_cliff.min(20_000), sampled_cliff.max(20_000));
    for cap in (lo - 1000..=hi + 1000).step_by(100) {
        let exact = if cap < 20_000 { 1.0 } else { 0.2 };
        let bound = s.error_bound(cap).unwrap();
        let err = (s.miss_ratio(cap) - exact).abs();
        assert!(err <= bound, "capacity {cap}: sampled {} bound {bound}", s.miss_ratio(cap));
        if (lo..hi).contains(&cap) {
            assert!(bound > 0.5, "capacity {cap} between the cliffs: bound {bound}");
        }
    }
    // far from the cliff the stated bound holds
    assert_eq!(s.error_bound(30_000), Some(SHARDS_ERROR_BOUND));
}

#[test]
fn a_decimal_rate_reaches_its_minimum_sampled_objects_exactly() {
    let trace: Vec<Request> = (0..1000u64).map(|k| get(k, 1)).collect();
    let mut b = MrcBuilder::sampled(Unit::Objects, 0.01).unwrap();
    trace.iter().for_each(|r| b.access(r));
    let c = b.finish();
    assert!((c.sample_rate() - 0.01).abs() < 1e-15, "{}", c.sample_rate());
    // 0.01 × 50,000 = 500 sampled objects: bounded; one fewer: not
    assert!(c.error_bound(50_000).is_some());
    assert_eq!(c.error_bound(49_999), None);
}
