//! The main job on the embedded default: replay a trace through the real
//! engine (L1 + sled as L3, no Redis, no PostgreSQL) and through the
//! simulator with the same configuration, and compare.
//!
//! The engine runs on a [`ManualClock`] set to each request's timestamp and
//! one L1 shard, so its L1 sees exactly the access sequence the simulator's
//! does: the L1 hit counts must be identical, which the report states.
//! Trace keys (`u64`) become 8-byte big-endian engine keys.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use strata_core::config::{CacheConfig, L3Config, WriteStrategy};
use strata_core::l1::engine_key;
use strata_core::{CachedStateBackend, ManualClock, SledStateBackend, StateBackend};
use strata_sim::trace::{ReaderOptions, TraceFormat, open};
use strata_sim::{Op, Request, SimConfig};

/// What to run.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The trace file.
    pub trace: PathBuf,
    /// Its format, if not told by the file name.
    pub format: Option<TraceFormat>,
    /// The cache configuration (its `l3` is replaced by sled at `data_dir`).
    pub config: CacheConfig,
    /// Where sled keeps its files.
    pub data_dir: PathBuf,
    /// Value size used to seed L3 for keys whose trace size is 0.
    pub default_value_size: usize,
}

/// What the demo measured.
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    /// The trace.
    pub trace: String,
    /// Requests replayed.
    pub requests: u64,
    /// Distinct keys (all seeded into L3 first).
    pub distinct_keys: u64,
    /// The engine's statistics after the replay.
    pub engine: strata_core::stats::CacheStats,
    /// Wall-clock seconds of the engine replay.
    pub engine_seconds: f64,
    /// Engine requests per second.
    pub engine_requests_per_s: f64,
    /// The simulator's report for the same trace and configuration.
    pub simulator: strata_sim::Report,
    /// Whether the engine's and the simulator's L1 hit counts are equal.
    pub l1_hits_identical: bool,
}

fn value_for(r: &Request, default_size: usize) -> Bytes {
    let n = if r.size == 0 { default_size } else { r.size as usize };
    Bytes::from(vec![(r.key % 251) as u8; n])
}

fn read_all(opts: &DemoOptions) -> anyhow::Result<Vec<Request>> {
    let reader = open(&opts.trace, opts.format, ReaderOptions::default())?;
    let mut out = Vec::new();
    for r in reader {
        out.push(r?);
    }
    Ok(out)
}

/// Runs the demo. The trace is held in memory (the demo is meant for the
/// bundled traces; `strata replay` streams traces of any length).
///
/// # Errors
/// A trace that cannot be read, or a tier that fails.
#[allow(clippy::disallowed_methods)] // wall-clock timing of the replay
pub async fn run(opts: &DemoOptions) -> anyhow::Result<DemoReport> {
    let requests = read_all(opts)?;
    let mut config = opts.config.clone();
    config.l3 = L3Config::sled(opts.data_dir.display().to_string());
    config.l2 = None;
    config.l1.shards = 1;

    // Seed the source of truth with every key the trace reads.
    let sled = SledStateBackend::open(&opts.data_dir).await?;
    sled.clear().await?;
    let mut seen = HashSet::new();
    let mut batch = Vec::new();
    for r in &requests {
        if seen.insert(r.key) {
            batch.push((Bytes::copy_from_slice(&engine_key(r.key)), value_for(r, opts.default_value_size)));
            if batch.len() == 1000 {
                sled.put_many(std::mem::take(&mut batch)).await?;
            }
        }
    }
    sled.put_many(batch).await?;

    let clock = ManualClock::new();
    let cache = CachedStateBackend::builder(sled).config(config.clone()).clock(clock.clone()).build()?;
    let start = std::time::Instant::now();
    for r in &requests {
        clock.set(strata_core::Instant::from_nanos(r.time_ns));
        let key = engine_key(r.key);
        match r.op {
            Op::Get => {
                cache.get(&key).await?;
            }
            Op::Set => cache.put(&key, value_for(r, opts.default_value_size)).await?,
            Op::Delete => {
                cache.delete(&key).await?;
            }
        }
    }
    cache.shutdown(Duration::from_secs(60)).await?;
    let engine_seconds = start.elapsed().as_secs_f64();
    let engine = cache.stats();

    let simulator = strata_sim::fast::run_hit_ratio_only(
        &config,
        &SimConfig::default(),
        requests.iter().copied(),
        |_| {},
    )?;
    let n = requests.len() as u64;
    Ok(DemoReport {
        trace: opts.trace.display().to_string(),
        requests: n,
        distinct_keys: seen.len() as u64,
        l1_hits_identical: engine.l1.hits == simulator.l1.hits,
        engine_requests_per_s: n as f64 / engine_seconds.max(1e-9),
        engine,
        engine_seconds,
        simulator,
    })
}

/// The report as a readable table.
#[must_use]
pub fn render(r: &DemoReport, config: &CacheConfig) -> String {
    let e = &r.engine;
    let s = &r.simulator;
    let mut out = String::new();
    out += &format!(
        "trace {}: {} requests, {} distinct keys\nL1 {:?}, {}, write {:?}; L3 sled (embedded)\n\n",
        r.trace,
        r.requests,
        r.distinct_keys,
        config.l1.capacity,
        config.l1.eviction.name(),
        config.write.strategy
    );
    out += &format!("{:<28}{:>14}{:>14}\n", "", "engine", "simulator");
    out += &format!("{:<28}{:>14}{:>14}\n", "L1 hits", e.l1.hits, s.l1.hits);
    out += &format!("{:<28}{:>14}{:>14}\n", "L1 misses", e.l1.misses, s.l1.misses);
    out += &format!("{:<28}{:>14.4}{:>14.4}\n", "L1 hit ratio", e.l1.hit_ratio, s.l1.hit_ratio);
    out += &format!("{:<28}{:>14}{:>14}\n", "L1 evictions", e.l1.evictions, s.l1.evictions);
    out += &format!("{:<28}{:>14}\n", "L3 reads", e.l3.hits + e.l3.misses);
    out += &format!(
        "{:<28}{:>14}\n",
        "L3 read p50 / p99 (us)",
        format!("{:.1} / {:.1}", e.l3.latency.p50_ns as f64 / 1e3, e.l3.latency.p99_ns as f64 / 1e3)
    );
    out += &format!("{:<28}{:>14.0}\n", "engine requests/s", r.engine_requests_per_s);
    out += &format!(
        "\nL1 hits identical in engine and simulator: {}\n",
        if r.l1_hits_identical { "yes" } else { "NO" }
    );
    out
}

/// A fresh data directory for the demo under the system temp directory.
#[must_use]
pub fn default_data_dir() -> PathBuf {
    std::env::temp_dir().join(format!("strata-demo-{}", std::process::id()))
}

/// The default configuration of the demo: an L1 of 2,000 entries, LRU,
/// write-behind.
#[must_use]
pub fn default_config() -> CacheConfig {
    let mut c = CacheConfig::default();
    c.l1.capacity = strata_core::config::Capacity::Entries(2_000);
    c.write.strategy = WriteStrategy::WriteBehind;
    c
}
