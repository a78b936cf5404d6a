//! Same trace, configuration and seed: byte-identical reports, with every
//! source of randomness and concurrency in play (random routing, three
//! instances, L2 with TTL, write-behind, refresh-ahead, a saturated L3).

use std::time::Duration;

use strata_core::CacheConfig;
use strata_core::config::{Capacity, L2Config, WriteStrategy};
use strata_core::policy::eviction::EvictionConfig;
use strata_sim::config::{Arrival, Routing};
use strata_sim::generate::{Arrivals, GenConfig, KeyDist};
use strata_sim::{Request, SimConfig};

fn trace() -> Vec<Request> {
    let g = GenConfig {
        dist: KeyDist::Zipf { alpha: 1.0 },
        keys: 3_000,
        requests: 40_000,
        write_ratio: 0.1,
        arrivals: Arrivals::Poisson { rate: 20_000.0 },
        ttl: None,
        seed: 11,
        ..GenConfig::default()
    };
    g.build().unwrap().collect()
}

fn configs() -> (CacheConfig, SimConfig) {
    let mut c = CacheConfig::default();
    c.l1.capacity = Capacity::Entries(300);
    c.l1.ttl = Some(Duration::from_millis(400));
    c.l1.eviction = EvictionConfig::TinyLfu(Default::default());
    c.l2 = Some(L2Config {
        capacity: Some(Capacity::Entries(1500)),
        ttl: Some(Duration::from_secs(1)),
        ..L2Config::default()
    });
    c.write.strategy = WriteStrategy::WriteBehind;
    c.write.batch_size = 16;
    c.refresh.enabled = true;
    let mut s = SimConfig { instances: 3, routing: Routing::Random, seed: 77, ..SimConfig::default() };
    s.arrival = Arrival::Trace { time_scale: 1.0 };
    s.l3.concurrency = Some(4);
    (c, s)
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let reqs = trace();
    let (c, s) = configs();
    let run = |s: &SimConfig| strata_sim::replay::run(&c, s, reqs.iter().copied(), |_| {}).unwrap().to_json();
    let a = run(&s);
    assert_eq!(a, run(&s));
    let report: strata_sim::Report = serde_json::from_str(&a).unwrap();
    // every mechanism was exercised
    assert!(report.l3.peak_queue_len > 0 && report.refreshes > 0 && report.coalesced_loads > 0);
    assert!(report.write_queue.batches > 0 && report.invalidations > 0 && report.staleness.stale_reads > 0);
    let other = SimConfig { seed: 78, ..s.clone() };
    assert_ne!(a, run(&other));
    let fast = |s: &SimConfig| {
        strata_sim::fast::run_hit_ratio_only(&c, s, reqs.iter().copied(), |_| {}).unwrap().to_json()
    };
    assert_eq!(fast(&s), fast(&s));
}
