use std::collections::HashMap;

use super::*;
use crate::trace::{Compression, TraceFormat, TraceWriter};

fn cfg(dist: KeyDist, keys: u64, requests: u64) -> GenConfig {
    GenConfig { dist, keys, requests, ..GenConfig::default() }
}

fn bytes(config: &GenConfig, format: TraceFormat, c: Compression) -> Vec<u8> {
    let mut w = TraceWriter::new(Vec::new(), format, c).unwrap();
    for r in config.build().unwrap() {
        w.write(&r).unwrap();
    }
    w.finish().unwrap()
}

fn counts(config: &GenConfig) -> HashMap<u64, u64> {
    let mut m = HashMap::new();
    for r in config.build().unwrap() {
        *m.entry(r.key).or_insert(0) += 1;
    }
    m
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let base = GenConfig {
        dist: KeyDist::Zipf { alpha: 0.9 },
        keys: 10_000,
        requests: 50_000,
        write_ratio: 0.2,
        delete_ratio: 0.01,
        sizes: SizeDist::LogNormal { median: 300.0, sigma: 1.0 },
        arrivals: Arrivals::Poisson { rate: 5000.0 },
        ttl: Some(60),
        seed: 7,
    };
    for (format, c) in
        [(TraceFormat::Csv, Compression::Zstd), (TraceFormat::OracleGeneral, Compression::None)]
    {
        let a = bytes(&base, format, c);
        assert_eq!(a, bytes(&base, format, c));
        assert_ne!(a, bytes(&GenConfig { seed: 8, ..base.clone() }, format, c));
    }
}

#[test]
fn golden_stream_of_seed_42() {
    // Guards the generator's stream: a change here changes every shipped trace.
    let keys: Vec<u64> =
        cfg(KeyDist::Zipf { alpha: 1.0 }, 1000, 12).build().unwrap().map(|r| r.key).collect();
    assert_eq!(keys, GOLDEN_ZIPF_1000_SEED_42);
}

const GOLDEN_ZIPF_1000_SEED_42: [u64; 12] = [1, 11, 1, 360, 1, 0, 197, 750, 60, 73, 11, 204];

#[test]
fn zipf_frequencies_match_probabilities() {
    let n = 200_000u64;
    let config = cfg(KeyDist::Zipf { alpha: 1.0 }, 100, n);
    let z = Zipf::new(100, 1.0);
    let c = counts(&config);
    for k in 0..100u32 {
        let p = z.probability(k);
        let expect = p * n as f64;
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        let got = *c.get(&u64::from(k)).unwrap_or(&0) as f64;
        assert!((got - expect).abs() < 5.0 * sd, "key {k}: {got} vs {expect} ± {sd}");
    }
}

#[test]
fn uniform_covers_keys_evenly() {
    let c = counts(&cfg(KeyDist::Uniform, 50, 100_000));
    assert_eq!(c.len(), 50);
    assert!(c.values().all(|&v| (1700..=2300).contains(&v)), "{c:?}");
}

#[test]
fn scan_and_loop() {
    let scan: Vec<u64> = cfg(KeyDist::Scan, 3, 6).build().unwrap().map(|r| r.key).collect();
    assert_eq!(scan, vec![0, 1, 2, 3, 4, 5]);
    let lp: Vec<u64> = cfg(KeyDist::Loop, 3, 7).build().unwrap().map(|r| r.key).collect();
    assert_eq!(lp, vec![0, 1, 2, 0, 1, 2, 0]);
}

#[test]
fn hot_set_moves() {
    let dist = KeyDist::HotSet { hot_fraction: 0.1, hot_prob: 1.0, shift_every: 1000 };
    let reqs: Vec<u64> = cfg(dist, 100, 3000).build().unwrap().map(|r| r.key).collect();
    assert!(reqs[..1000].iter().all(|&k| k < 10));
    assert!(reqs[1000..2000].iter().all(|&k| (10..20).contains(&k)));
    assert!(reqs[2000..].iter().all(|&k| (20..30).contains(&k)));
    // wrapping window and a cold remainder
    let dist = KeyDist::HotSet { hot_fraction: 0.5, hot_prob: 0.8, shift_every: 10 };
    let reqs: Vec<u64> = cfg(dist, 3, 1000).build().unwrap().map(|r| r.key).collect();
    assert!(reqs.iter().all(|&k| k < 3));
}

#[test]
fn write_ratio_ttl_and_independent_streams() {
    let base = GenConfig { write_ratio: 0.1, ttl: Some(30), requests: 100_000, ..GenConfig::default() };
    let reqs: Vec<Request> = base.build().unwrap().collect();
    let writes = reqs.iter().filter(|r| r.op == Op::Set).count();
    assert!((9_000..=11_000).contains(&writes), "{writes}");
    assert!(reqs.iter().all(|r| (r.op == Op::Set) == (r.ttl == Some(30))));
    let other: Vec<Request> = GenConfig { write_ratio: 0.5, ..base.clone() }.build().unwrap().collect();
    assert!(reqs.iter().zip(&other).all(|(a, b)| a.key == b.key && a.time_ns == b.time_ns));
    let other: Vec<Request> = GenConfig { dist: KeyDist::Uniform, ..base }.build().unwrap().collect();
    assert!(reqs.iter().zip(&other).all(|(a, b)| a.op == b.op && a.time_ns == b.time_ns));
}

#[test]
fn delete_ratio_draws_deletes_beside_writes_with_one_draw() {
    let base = GenConfig { write_ratio: 0.1, requests: 100_000, ..GenConfig::default() };
    let with = GenConfig { delete_ratio: 0.05, ..base.clone() };
    let (a, b): (Vec<Request>, Vec<Request>) =
        (base.build().unwrap().collect(), with.build().unwrap().collect());
    let count = |v: &[Request], op: Op| v.iter().filter(|r| r.op == op).count();
    assert!((4_500..=5_500).contains(&count(&b, Op::Delete)), "{}", count(&b, Op::Delete));
    assert_eq!(count(&a, Op::Delete), 0);
    // The same draw: the writes are where they were, some gets became deletes.
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((x.key, x.time_ns), (y.key, y.time_ns));
        assert_eq!(x.op == Op::Set, y.op == Op::Set);
        assert!(y.op != Op::Delete || x.op == Op::Get);
        assert_eq!(y.ttl, x.ttl, "only sets carry the TTL");
    }
    let only = GenConfig { delete_ratio: 1.0, ..GenConfig::default() };
    assert!(only.build().unwrap().all(|r| r.op == Op::Delete));
}

#[test]
fn sizes_per_key_and_distributions() {
    let uni = GenConfig {
        sizes: SizeDist::Uniform { min: 10, max: 20 },
        keys: 500,
        requests: 20_000,
        ..GenConfig::default()
    };
    let mut seen: HashMap<u64, u32> = HashMap::new();
    for r in uni.build().unwrap() {
        assert!((10..=20).contains(&r.size));
        assert_eq!(*seen.entry(r.key).or_insert(r.size), r.size, "a key keeps its size");
    }
    assert!(seen.values().any(|&s| s == 10) && seen.values().any(|&s| s == 20));

    let ln = GenConfig {
        dist: KeyDist::Scan,
        sizes: SizeDist::LogNormal { median: 1000.0, sigma: 0.5 },
        requests: 20_000,
        ..GenConfig::default()
    };
    let mut sizes: Vec<u32> = ln.build().unwrap().map(|r| r.size).collect();
    sizes.sort_unstable();
    let median = f64::from(sizes[sizes.len() / 2]);
    assert!((950.0..1050.0).contains(&median), "{median}");
}

#[test]
fn arrivals() {
    let c = GenConfig { arrivals: Arrivals::Constant { rate: 4.0 }, requests: 5, ..GenConfig::default() };
    let t: Vec<u64> = c.build().unwrap().map(|r| r.time_ns).collect();
    assert_eq!(t, vec![0, 250_000_000, 500_000_000, 750_000_000, 1_000_000_000]);
    let p =
        GenConfig { arrivals: Arrivals::Poisson { rate: 1000.0 }, requests: 100_001, ..GenConfig::default() };
    let t: Vec<u64> = p.build().unwrap().map(|r| r.time_ns).collect();
    assert!(t.windows(2).all(|w| w[0] <= w[1]));
    let mean_gap = *t.last().unwrap() as f64 / 100_000.0;
    assert!((980_000.0..1_020_000.0).contains(&mean_gap), "{mean_gap}");
}

#[test]
fn invalid_parameters_are_named() {
    let bad = |c: GenConfig| c.build().unwrap_err().to_string();
    assert_eq!(
        bad(GenConfig { keys: 0, ..GenConfig::default() }),
        "invalid generator parameter keys: must be at least 1"
    );
    assert!(bad(cfg(KeyDist::Zipf { alpha: -1.0 }, 10, 10)).starts_with("invalid generator parameter alpha"));
    assert!(bad(GenConfig { write_ratio: 1.5, ..GenConfig::default() }).contains("write_ratio"));
    assert!(bad(GenConfig { delete_ratio: -0.1, ..GenConfig::default() }).contains("delete_ratio"));
    assert_eq!(
        bad(GenConfig { write_ratio: 0.7, delete_ratio: 0.4, ..GenConfig::default() }),
        "invalid generator parameter delete_ratio: write_ratio + delete_ratio must be at most 1 (got 0.7 + 0.4)"
    );
    assert!(
        bad(GenConfig { arrivals: Arrivals::Poisson { rate: 0.0 }, ..GenConfig::default() }).contains("rate")
    );
    assert!(
        bad(GenConfig { sizes: SizeDist::Uniform { min: 5, max: 4 }, ..GenConfig::default() })
            .contains("sizes")
    );
    assert!(
        bad(GenConfig { sizes: SizeDist::LogNormal { median: 10.0, sigma: 0.0 }, ..GenConfig::default() })
            .contains("sigma")
    );
    let hs = KeyDist::HotSet { hot_fraction: 0.0, hot_prob: 0.5, shift_every: 1 };
    assert!(bad(cfg(hs, 10, 10)).contains("hot_fraction"));
    assert!(bad(cfg(KeyDist::Zipf { alpha: 1.0 }, MAX_ZIPF_KEYS + 1, 1)).contains("at most"));
}

#[test]
fn rates_whose_arrival_times_overflow_are_rejected() {
    let bad = |c: GenConfig| c.build().unwrap_err().to_string();
    for arrivals in [Arrivals::Constant { rate: 1e-300 }, Arrivals::Poisson { rate: 1e-300 }] {
        let e = bad(GenConfig { arrivals, requests: 2, ..GenConfig::default() });
        assert!(e.starts_with("invalid generator parameter rate: 2 requests at"), "{e}");
    }
    // The longest span allowed is fine; one more request is not.
    let rate = 1e9 / (MAX_SPAN_NS / 1000) as f64;
    let ok = GenConfig { arrivals: Arrivals::Constant { rate }, requests: 1001, ..GenConfig::default() };
    assert!(ok.build().unwrap().all(|r| r.time_ns <= MAX_SPAN_NS));
    assert!(bad(GenConfig { requests: 1002, ..ok }).contains("would span more than"));
}

#[test]
fn a_hot_set_near_u64_max_keys_neither_overflows_nor_skews() {
    for hot_fraction in [1.0, 0.75] {
        let dist = KeyDist::HotSet { hot_fraction, hot_prob: 1.0, shift_every: 1 };
        let keys: Vec<u64> = cfg(dist, u64::MAX, 2_000).build().unwrap().map(|r| r.key).collect();
        assert!(keys.iter().all(|&k| k < u64::MAX));
        // The window wraps around `keys` as it does for small key counts: with
        // 3/4 of the keys hot, the window of requests 1, 5, 9, ... spans
        // [3/4, 3/2) · 2^64, so 2/3 of their keys wrap below 2^63.
        if hot_fraction < 1.0 {
            let wrapped = keys.iter().skip(1).step_by(4).filter(|&&k| k < 1 << 63).count();
            assert!((280..390).contains(&wrapped), "{wrapped} of 500");
        }
    }
}
