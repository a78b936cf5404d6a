//! Real traces: the cache2k web07 and web12 traces (CC BY 4.0, see
//! traces/README.md) replayed through `L1Store`. LRU and FIFO must equal the
//! reference simulator's miss counts exactly; the other policies are
//! reported and checked against the reference neighbourhood.

mod common;

use std::io::Read;

use common::replay;
use strata_core::l1::L1Store;
use strata_core::policy::eviction::{AnyPolicy, EvictionConfig};

fn trace(name: &str) -> Vec<i32> {
    let path = format!("{}/../traces/{name}.trace.xz", env!("CARGO_MANIFEST_DIR"));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut bytes = Vec::new();
    lzma_rust2::XzReader::new(std::io::BufReader::new(file), true).read_to_end(&mut bytes).unwrap();
    assert_eq!(bytes.len() % 4, 0, "{path}: not a whole number of i32 keys");
    bytes.chunks_exact(4).map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect()
}

fn misses(cfg: &EvictionConfig, keys: &[i32], capacity: u64) -> u64 {
    let mut s: L1Store<i32, (), AnyPolicy> = L1Store::new(capacity, cfg.build(capacity), None);
    replay(&mut s, keys.iter().copied())
}

/// (trace, capacity, LRU misses, FIFO misses) from traces/README.md.
const REFERENCE: [(&str, u64, u64, u64); 6] = [
    ("web07", 200, 46_439, 48_586),
    ("web07", 2_000, 33_873, 35_830),
    ("web07", 5_000, 28_416, 30_035),
    ("web12", 150, 56_656, 58_712),
    ("web12", 1_500, 29_223, 32_991),
    ("web12", 3_500, 21_175, 24_383),
];

#[test]
fn lru_and_fifo_match_the_reference_exactly() {
    let (web07, web12) = (trace("web07"), trace("web12"));
    assert_eq!((web07.len(), web12.len()), (76_118, 95_607));
    for (name, cap, lru, fifo) in REFERENCE {
        let keys = if name == "web07" { &web07 } else { &web12 };
        assert_eq!(misses(&EvictionConfig::Lru, keys, cap), lru, "{name} LRU at {cap}");
        assert_eq!(misses(&EvictionConfig::Fifo, keys, cap), fifo, "{name} FIFO at {cap}");
    }
}

#[test]
fn every_policy_on_both_traces() {
    let (web07, web12) = (trace("web07"), trace("web12"));
    println!("| trace | capacity | {} |", EvictionConfig::NAMES.join(" | "));
    let mut at_2000 = Vec::new();
    for (name, cap, _, _) in REFERENCE {
        let keys = if name == "web07" { &web07 } else { &web12 };
        let row: Vec<u64> = EvictionConfig::all().iter().map(|c| misses(c, keys, cap)).collect();
        println!("| {name} | {cap} | {} |", row.iter().map(u64::to_string).collect::<Vec<_>>().join(" | "));
        if (name, cap) == ("web07", 2_000) {
            at_2000 = row;
        }
    }
    // web07 at 2,000, reference: SIEVE 32,087, S3-FIFO 31,991, W-TinyLFU
    // 34,391. Our SIEVE and S3-FIFO follow the reference's algorithms step
    // by step and match exactly; W-TinyLFU differs (Caffeine's design) and
    // only has to be in the neighbourhood.
    let of = |n: &str| at_2000[EvictionConfig::NAMES.iter().position(|&x| x == n).unwrap()];
    let near = |got: u64, want: u64, pct: u64| got.abs_diff(want) * 100 <= want * pct;
    assert_eq!(of("sieve"), 32_087);
    assert_eq!(of("s3fifo"), 31_991);
    assert!(near(of("tinylfu"), 34_391, 5), "W-TinyLFU {}", of("tinylfu"));
}
