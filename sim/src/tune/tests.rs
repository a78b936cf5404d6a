//! The tuner on small generated traces.

use std::time::Duration;

use strata_core::CacheConfig;
use strata_core::config::{Capacity, WriteStrategy};
use strata_core::policy::eviction::EvictionConfig;

use super::*;
use crate::config::Arrival;
use crate::generate::{Arrivals, GenConfig, KeyDist};
use crate::latency::LatencyConfig;
use crate::trace::Request;

fn trace(requests: u64, write_ratio: f64) -> Vec<Request> {
    trace_with_deletes(requests, write_ratio, 0.0)
}

fn trace_with_deletes(requests: u64, write_ratio: f64, delete_ratio: f64) -> Vec<Request> {
    let g = GenConfig {
        dist: KeyDist::Zipf { alpha: 0.9 },
        keys: 400,
        requests,
        write_ratio,
        delete_ratio,
        arrivals: Arrivals::Constant { rate: 2_000.0 },
        seed: 3,
        ..GenConfig::default()
    };
    g.build().unwrap().collect()
}

fn small_space() -> SearchSpace {
    SearchSpace {
        policies: vec![EvictionConfig::Lru, EvictionConfig::Fifo],
        l1_fractions: vec![1.0, 0.25],
        l2_fractions: vec![1.0, 0.0],
        l1_ttls: vec![None, Some(Duration::from_millis(100))],
        l2_ttls: vec![Some(Duration::from_secs(600))],
        strategies: vec![WriteStrategy::WriteThrough, WriteStrategy::WriteBehind],
        refresh: vec![false],
        negative_ttls: Vec::new(),
        l2_negative_ttls: Vec::new(),
    }
}

fn spec(objective: Objective) -> TuneSpec {
    let mut sim = SimConfig { arrival: Arrival::Trace { time_scale: 1.0 }, ..SimConfig::default() };
    sim.latency.l3_read = LatencyConfig::constant(2_000.0);
    TuneSpec {
        base: CacheConfig::default(),
        sim,
        l1_budget: Capacity::Entries(100),
        l2_budget: Some(Capacity::Entries(200)),
        constraints: Constraints::default(),
        objective,
        space: small_space(),
        max_rounds: 3,
    }
}

fn run(spec: &TuneSpec, reqs: &[Request]) -> TuneResult {
    let source = || Box::new(reqs.iter().copied()) as Box<dyn Iterator<Item = Request>>;
    tune(spec, &source, &|_| {}).unwrap()
}

#[test]
fn lowest_l3_load_takes_the_biggest_caches_and_round_trips() {
    let reqs = trace(6_000, 0.0);
    let r = run(&spec(Objective::L3Load), &reqs);
    let w = r.winner();
    assert!(w.is_feasible());
    // L2 holds the hot set: L3 load is the same for both L1 sizes, and the
    // tie goes to the cheaper one.
    assert_eq!(w.config.l1.capacity, Capacity::Entries(25));
    assert_eq!(w.config.l2.as_ref().and_then(|l| l.capacity), Some(Capacity::Entries(200)));
    assert_eq!(w.config.l1.ttl, None, "a TTL only adds misses");
    // the winner has the lowest L3 load of everything evaluated
    let min = r.candidates.iter().map(|c| c.metrics.l3_qps_mean).fold(f64::MAX, f64::min);
    assert_eq!(w.metrics.l3_qps_mean, min);
    // the TOML strata-core loads is the chosen configuration
    let text = w.config.to_toml_string().unwrap();
    assert_eq!(CacheConfig::from_toml_str(&text, "tuned.toml").unwrap(), w.config);
    assert!(!r.frontier.is_empty());
    assert!(r.frontier.iter().all(|&i| r.candidates[i].is_feasible()));
}

#[test]
fn cost_objective_trades_memory_for_load() {
    let reqs = trace(6_000, 0.0);
    // memory expensive, L3 cheap: the smallest caches win
    let r = run(&spec(Objective::Cost(CostWeights { l1: 10.0, l2: 10.0, l3: 0.01 })), &reqs);
    let w = r.winner();
    assert_eq!(w.config.l1.capacity, Capacity::Entries(25));
    assert!(w.config.l2.is_none());
}

#[test]
fn constraints_steer_the_choice_and_infeasibility_is_reported() {
    // Two instances; other instances learn of a write only after 2 s, so
    // without a TTL a stale read can be 2 s old; a 100 ms L1 TTL bounds it.
    // (Write-through: write-back's reordered L3 writes leave stale values in
    // L3 that no TTL bounds.)
    let reqs = trace(8_000, 0.2);
    let mut s = spec(Objective::L3Load);
    s.sim.instances = 2;
    s.sim.latency.invalidation = LatencyConfig::constant(2_000_000.0);
    s.l2_budget = None;
    s.space.strategies = vec![WriteStrategy::WriteThrough];
    // (A smaller L1 or FIFO bound staleness too: keep TTL the only lever.)
    s.space.l1_fractions = vec![1.0];
    s.space.policies = vec![EvictionConfig::Lru];
    let free = run(&s, &reqs);
    assert_eq!(free.winner().config.l1.ttl, None);
    assert!(free.winner().metrics.max_stale_age_ms > 500.0, "{:?}", free.winner().metrics);
    s.constraints.max_stale_age_ms = Some(500.0);
    let bounded = run(&s, &reqs);
    assert!(bounded.is_feasible(), "{}", bounded.to_table());
    assert_eq!(bounded.winner().config.l1.ttl, Some(Duration::from_millis(100)));
    s.constraints.p99_ms = Some(0.000_001);
    let impossible = run(&s, &reqs);
    assert!(!impossible.is_feasible());
    assert!(impossible.winner().violations.iter().any(|v| v.contains("read p99")));
    assert!(impossible.to_table().contains("no candidate meets every constraint"));
}

#[test]
fn same_inputs_same_result() {
    let reqs = trace(3_000, 0.1);
    let s = spec(Objective::P99);
    assert_eq!(run(&s, &reqs), run(&s, &reqs));
}

#[test]
fn invalid_specs_are_errors() {
    let reqs = trace(10, 0.0);
    let source = || Box::new(reqs.iter().copied()) as Box<dyn Iterator<Item = Request>>;
    let mut s = spec(Objective::P99);
    s.space.policies.clear();
    let e = tune(&s, &source, &|_| {}).unwrap_err().to_string();
    assert!(e.contains("space.policies"), "{e}");
    let mut s = spec(Objective::P99);
    s.l2_budget = Some(Capacity::Bytes(10));
    let e = tune(&s, &source, &|_| {}).unwrap_err().to_string();
    assert!(e.contains("l2_budget"), "{e}");
    let mut s = spec(Objective::P99);
    s.space.l1_fractions = vec![1.5];
    assert!(tune(&s, &source, &|_| {}).is_err());
}

/// Limits a metric cannot be compared with (NaN switched a constraint off,
/// a negative one made every candidate infeasible) are errors naming them.
#[test]
fn constraints_outside_their_range_are_errors() {
    let reqs = trace(10, 0.0);
    let source = || Box::new(reqs.iter().copied()) as Box<dyn Iterator<Item = Request>>;
    type Set = fn(&mut Constraints);
    let cases: [(&str, Set); 6] = [
        ("constraints.p99_ms", |c| c.p99_ms = Some(f64::NAN)),
        ("constraints.p99_ms", |c| c.p99_ms = Some(0.0)),
        ("constraints.l3_qps", |c| c.l3_qps = Some(-1.0)),
        ("constraints.max_stale_ratio", |c| c.max_stale_ratio = Some(1.5)),
        ("constraints.max_stale_ratio", |c| c.max_stale_ratio = Some(f64::NAN)),
        ("constraints.max_stale_age_ms", |c| c.max_stale_age_ms = Some(-5.0)),
    ];
    for (field, set) in cases {
        let mut s = spec(Objective::P99);
        set(&mut s.constraints);
        let e = tune(&s, &source, &|_| {}).unwrap_err().to_string();
        assert!(e.contains(field), "{field}: {e}");
    }
    let mut s = spec(Objective::P99);
    s.constraints = Constraints {
        p99_ms: Some(5.0),
        max_stale_ratio: Some(0.0),
        max_stale_age_ms: Some(0.0),
        l3_qps: Some(1.0),
        max_error_ratio: Some(0.0),
    };
    assert!(tune(&s, &source, &|_| {}).is_ok());
}

/// With L3 failing for a while, `max_error_ratio` keeps out candidates
/// that answer too many requests with an error: write-through fails its
/// writes during the outage (about 13% of requests fail), write-behind
/// queues them and retries (only reads fail: about 2%).
#[test]
fn an_error_budget_rules_out_write_through_during_an_outage() {
    let reqs = trace(6_000, 0.3);
    let mut s = spec(Objective::P99);
    s.sim.l3.outages = vec![crate::config::Outage { start_ms: 1_000, duration_ms: 500 }];
    s.constraints.max_error_ratio = Some(0.05);
    let r = run(&s, &reqs);
    let through: Vec<_> =
        r.candidates.iter().filter(|c| c.config.write.strategy == WriteStrategy::WriteThrough).collect();
    assert!(!through.is_empty());
    for c in &through {
        assert!(c.metrics.error_ratio > 0.05, "{}", c.metrics.error_ratio);
        assert!(!c.is_feasible());
    }
    let w = r.winner();
    assert!(w.is_feasible(), "{:?}", w.metrics);
    assert_eq!(w.config.write.strategy, WriteStrategy::WriteBehind);
    assert!(w.metrics.error_ratio > 0.0 && w.metrics.error_ratio <= 0.05, "{}", w.metrics.error_ratio);
    // Out of range: refused, named.
    let bad = Constraints { max_error_ratio: Some(2.0), ..Constraints::default() };
    assert!(bad.check().unwrap_err().to_string().contains("constraints.max_error_ratio"));
}

/// With deletes in the trace, remembering absent keys saves L3 reads, so
/// the lowest-L3-load search picks a negative TTL; with the list empty the
/// base configuration's value is kept and the table has no column for it.
#[test]
fn the_negative_ttl_is_searched_when_listed_and_kept_otherwise() {
    let reqs = trace_with_deletes(6_000, 0.01, 0.05);
    let mut s = spec(Objective::L3Load);
    s.l2_budget = None;
    s.space.negative_ttls = vec![None, Some(Duration::from_secs(1))];
    let r = run(&s, &reqs);
    assert_eq!(r.winner().config.l1.negative_ttl, Some(Duration::from_secs(1)));
    let without = r.candidates.iter().filter(|c| c.config.l1.negative_ttl.is_none());
    let best_without = without.map(|c| c.metrics.l3_qps_mean).fold(f64::MAX, f64::min);
    assert!(r.winner().metrics.l3_qps_mean < best_without, "markers save L3 reads");
    let table = r.to_table();
    assert!(table.contains("absent") && table.contains(" 1s "), "{table}");
    // Not listed: the base's value stays, unsearched.
    s.space.negative_ttls = Vec::new();
    s.base.l1.negative_ttl = Some(Duration::from_millis(250));
    let r = run(&s, &reqs);
    assert!(r.candidates.iter().all(|c| c.config.l1.negative_ttl == Some(Duration::from_millis(250))));
    s.base.l1.negative_ttl = None;
    let r = run(&s, &reqs);
    assert!(!r.to_table().contains("absent"), "no column when no candidate sets one");
    s.space.negative_ttls = vec![Some(Duration::ZERO)];
    let e = tune(&s, &|| Box::new(reqs.iter().copied()) as Box<dyn Iterator<Item = Request>>, &|_| {});
    assert!(e.unwrap_err().to_string().contains("space.negative_ttls"));
}

/// The same for L2's negative TTL, searched for candidates with an L2: a
/// delete's tombstone and the markers answer "absent" without L3, so the
/// lowest-L3-load search picks it; not listed, the base's value stays.
#[test]
fn the_l2_negative_ttl_is_searched_when_listed_and_kept_otherwise() {
    let reqs = trace_with_deletes(6_000, 0.01, 0.05);
    let mut s = spec(Objective::L3Load);
    s.space.l2_fractions = vec![1.0];
    s.sim.instances = 2;
    s.space.l2_negative_ttls = vec![None, Some(Duration::from_secs(1))];
    let r = run(&s, &reqs);
    let l2_negative = |c: &Candidate| c.config.l2.as_ref().and_then(|l| l.negative_ttl);
    assert_eq!(l2_negative(r.winner()), Some(Duration::from_secs(1)));
    let best_without = r
        .candidates
        .iter()
        .filter(|c| l2_negative(c).is_none())
        .map(|c| c.metrics.l3_qps_mean)
        .fold(f64::MAX, f64::min);
    assert!(r.winner().metrics.l3_qps_mean < best_without, "markers save L3 reads");
    let table = r.to_table();
    assert!(table.contains("L2 abs") && !table.contains("absent"), "{table}");
    // Not listed: the base's value stays, unsearched.
    s.space.l2_negative_ttls = Vec::new();
    s.base.l2 = Some(strata_core::config::L2Config {
        negative_ttl: Some(Duration::from_millis(250)),
        ..strata_core::config::L2Config::default()
    });
    let r = run(&s, &reqs);
    assert!(r.candidates.iter().all(|c| l2_negative(c) == Some(Duration::from_millis(250))));
    s.space.l2_negative_ttls = vec![Some(Duration::ZERO)];
    let e = tune(&s, &|| Box::new(reqs.iter().copied()) as Box<dyn Iterator<Item = Request>>, &|_| {});
    assert!(e.unwrap_err().to_string().contains("space.l2_negative_ttls"));
}
