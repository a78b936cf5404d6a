//! Replay throughput of the simulator on a 10 M-request Zipf(1.0) trace over
//! 1 M keys (in memory), single thread: hit-ratio-only per policy, then the
//! full tiered mode. Rates are per second of this thread's CPU time. `cargo run --release --example sim_speed [requests] [capacity]`.

use std::time::Duration;

use strata_core::CacheConfig;
use strata_core::config::{Capacity, L2Config};
use strata_core::policy::eviction::EvictionConfig;
use strata_sim::SimConfig;
use strata_sim::config::Arrival;
use strata_sim::generate::{GenConfig, KeyDist};

/// CPU time of this thread (Linux `/proc/thread-self/schedstat`, ns): on a
/// shared machine wall time mostly measures the other processes.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Runs `f`, returning its CPU time when the OS reports it, else wall time.
#[allow(clippy::disallowed_methods)] // wall-clock timing of a benchmark
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = std::time::Instant::now();
    let cpu = cpu_ns();
    let out = f();
    match (cpu, cpu_ns()) {
        (Some(a), Some(b)) => (out, Duration::from_nanos(b - a)),
        _ => (out, start.elapsed()),
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let requests: u64 = args.next().map_or(Ok(10_000_000), |a| a.parse())?;
    let capacity: u64 = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let only: Option<String> = args.next();
    let generator = GenConfig {
        dist: KeyDist::Zipf { alpha: 1.0 },
        keys: 1_000_000,
        requests,
        seed: 42,
        ..GenConfig::default()
    };
    let (trace, t) = timed(|| generator.build().map(|g| g.collect::<Vec<_>>()));
    let trace = trace?;
    println!("generated {} requests in {:.2} s", trace.len(), t.as_secs_f64());
    let sim = SimConfig { arrival: Arrival::Rate { per_sec: 1_000_000.0 }, ..SimConfig::default() };
    for policy in EvictionConfig::all() {
        if only.as_deref().is_some_and(|o| o != policy.name()) {
            continue;
        }
        let mut cache = CacheConfig::default();
        cache.l1.capacity = Capacity::Entries(capacity);
        cache.l1.eviction = policy.clone();
        // Best of 3: the machine is shared.
        let mut best = Duration::MAX;
        let mut hit_ratio = 0.0;
        for _ in 0..3 {
            let (report, t) =
                timed(|| strata_sim::fast::run_hit_ratio_only(&cache, &sim, trace.iter().copied(), |_| {}));
            hit_ratio = report?.l1.hit_ratio;
            best = best.min(t);
        }
        // The bare store (no simulator around it), for the overhead.
        let (hits, bare) = timed(|| {
            let mut store = strata_sim::tier::build_l1::<()>(&cache.l1);
            let mut hits = 0u64;
            for r in &trace {
                let now = strata_core::Instant::ZERO;
                let h = strata_core::l1::hash_key(&r.key);
                if store.get_hashed(h, &r.key, now).is_some() {
                    hits += 1;
                } else {
                    store.insert_hashed(h, r.key, (), 1, None, now);
                }
            }
            hits
        });
        println!(
            "hit-ratio-only {:<8} {:>7.2} M req/s  hit ratio {:.4}   (bare L1Store loop: {:.2} M req/s, {} hits)",
            policy.name(),
            trace.len() as f64 / best.as_secs_f64() / 1e6,
            hit_ratio,
            trace.len() as f64 / bare.as_secs_f64() / 1e6,
            hits
        );
    }
    if only.is_some() {
        return Ok(());
    }
    let mut cache = CacheConfig::default();
    cache.l1.capacity = Capacity::Entries(capacity);
    let (report, t) = timed(|| strata_sim::replay::run(&cache, &sim, trace.iter().copied(), |_| {}));
    let report = report?;
    println!(
        "full L1+L3        {:>7.2} M req/s  hit ratio {:.4}  read p99 {} µs",
        trace.len() as f64 / t.as_secs_f64() / 1e6,
        report.l1.hit_ratio,
        report.read_latency.map_or(0.0, |l| l.p99_us)
    );
    cache.l2 = Some(L2Config { capacity: Some(Capacity::Entries(capacity * 4)), ..L2Config::default() });
    let (report, t) = timed(|| strata_sim::replay::run(&cache, &sim, trace.iter().copied(), |_| {}));
    let report = report?;
    println!(
        "full L1+L2+L3     {:>7.2} M req/s  hit ratio {:.4}  read p99 {} µs",
        trace.len() as f64 / t.as_secs_f64() / 1e6,
        report.hit_ratio,
        report.read_latency.map_or(0.0, |l| l.p99_us)
    );
    Ok(())
}
