//! The main job on the embedded default: replay a trace through the real
//! engine (L1 + sled as L3, no Redis, no PostgreSQL) and through the
//! simulator with the same configuration, and compare.
//!
//! The engine runs on a [`ManualClock`] set to each request's timestamp and
//! one L1 shard (`lockstep_config`), and the replay completes each
//! request's every effect before the next one (`step`, then
//! [`CachedStateBackend::settle`]): a write of a queued strategy is flushed
//! and background work (refresh-ahead reloads) is waited for, as the
//! simulator's loop completes them at once. So its L1 sees exactly the
//! access sequence the simulator's does: the L1 hit counts must be
//! identical, which the report states. (`strata fleet` replays the same
//! way, with L2.) Trace keys (`u64`) become 8-byte big-endian engine keys.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use serde::Serialize;
use strata_core::config::{CacheConfig, L3Config, WriteStrategy};
use strata_core::l1::engine_key;
use strata_core::{CachedStateBackend, ManualClock, SledStateBackend, StateBackend};
use strata_sim::tier::trace_ttl;
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
    /// Object size (key and value) of requests whose trace size is 0.
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

/// Largest value the demo materialises for one request: 64 MiB. The demo
/// stores real values of each request's trace size; `strata replay`
/// simulates traces with objects of any size.
pub const MAX_VALUE_BYTES: usize = 64 << 20;

/// Most value bytes the demo materialises over the whole trace: 1 GiB, each
/// distinct key counted at its largest value. This bounds what the seed
/// batches, the engine's L1 and sled can hold at once.
pub const MAX_TOTAL_VALUE_BYTES: u64 = 1 << 30;

/// Seed batches are written to sled once they hold this many value bytes
/// (or 1,000 keys).
const SEED_BATCH_BYTES: usize = 64 << 20;

fn value_size(r: &Request, default_size: usize) -> usize {
    if r.size == 0 { default_size } else { r.size as usize }
}

/// Bytes of the engine's key of a trace key ([`engine_key`]): the
/// simulator's assumption, which weighs its absent-key markers by it.
const KEY_BYTES: usize = strata_sim::tier::KEY_BYTES as usize;

/// `requests` with one object size each for both runs: the engine weighs
/// an entry as key plus value bytes, the simulator as the request's size
/// (key and value), so a size is at least the key's 8 bytes and a request
/// without one takes `default_size`. (Sizes were checked: they fit.)
fn with_object_sizes(requests: Vec<Request>, default_size: usize) -> Vec<Request> {
    requests
        .into_iter()
        .map(|mut r| {
            let size = value_size(&r, default_size).max(KEY_BYTES);
            r.size = u32::try_from(size).unwrap_or(u32::MAX);
            r
        })
        .collect()
}

/// The value the engine stores for `r` (after [`with_object_sizes`]): its
/// size less the key's bytes, so that the engine's weight is `r.size`.
pub(crate) fn value_for(r: &Request) -> Bytes {
    Bytes::from(vec![(r.key % 251) as u8; (r.size as usize).saturating_sub(KEY_BYTES)])
}

/// Checks that the values the demo would materialise for `requests` stay
/// within `max_value` bytes each and `max_total` bytes over all keys (each
/// key at its largest value).
///
/// # Errors
/// The first request (1-based) that crosses either bound, with its size.
fn check_sizes(
    trace: &str,
    requests: &[Request],
    default_size: usize,
    max_value: usize,
    max_total: u64,
) -> anyhow::Result<()> {
    let mut largest: HashMap<u64, usize> = HashMap::new();
    let mut total: u64 = 0;
    for (i, r) in requests.iter().enumerate() {
        let n = value_size(r, default_size);
        if n > max_value {
            bail!(
                "{trace}: request {} (key {}) has size {n} bytes, above the demo's limit of {max_value} bytes \
                 per value (`strata replay` simulates any size)",
                i + 1,
                r.key
            );
        }
        let slot = largest.entry(r.key).or_insert(0);
        if n > *slot {
            total += (n - *slot) as u64;
            *slot = n;
            if total > max_total {
                bail!(
                    "{trace}: request {} (key {}, size {n} bytes) brings the trace's values to {total} bytes, \
                     above the demo's limit of {max_total} bytes (`strata replay` simulates any size)",
                    i + 1,
                    r.key
                );
            }
        }
    }
    Ok(())
}

fn read_all(trace: &Path, format: Option<TraceFormat>) -> anyhow::Result<Vec<Request>> {
    let reader = open(trace, format, ReaderOptions::default())?;
    let mut out = Vec::new();
    for r in reader {
        out.push(r?);
    }
    anyhow::ensure!(!out.is_empty(), "{}: the trace holds no requests", trace.display());
    Ok(out)
}

/// The requests of `trace`, each with the object size both runs use (see
/// [`with_object_sizes`]), after checking that the values fit in memory
/// ([`MAX_VALUE_BYTES`], [`MAX_TOTAL_VALUE_BYTES`]).
pub(crate) fn load_requests(
    trace: &Path,
    format: Option<TraceFormat>,
    default_size: usize,
) -> anyhow::Result<Vec<Request>> {
    let requests = read_all(trace, format)?;
    check_sizes(
        &trace.display().to_string(),
        &requests,
        default_size,
        MAX_VALUE_BYTES,
        MAX_TOTAL_VALUE_BYTES,
    )?;
    Ok(with_object_sizes(requests, default_size))
}

/// Seeds the source of truth with every key `requests` reads (each with the
/// value of its first request), in batches. Returns the distinct keys.
pub(crate) async fn seed<B: StateBackend>(l3: &B, requests: &[Request]) -> anyhow::Result<u64> {
    let mut seen = HashSet::new();
    let mut batch = Vec::new();
    let mut batch_bytes = 0;
    for r in requests {
        if seen.insert(r.key) {
            let value = value_for(r);
            batch_bytes += value.len();
            batch.push((Bytes::copy_from_slice(&engine_key(r.key)), value));
            if batch.len() == 1000 || batch_bytes >= SEED_BATCH_BYTES {
                l3.put_many(std::mem::take(&mut batch)).await?;
                batch_bytes = 0;
            }
        }
    }
    l3.put_many(batch).await?;
    Ok(seen.len() as u64)
}

/// Makes the request `r` of the engine `cache` (trace key `k` is the
/// engine key [`engine_key`]`(k)`; a set stores [`value_for`] it).
async fn apply<B: StateBackend>(cache: &CachedStateBackend<B>, r: &Request) -> strata_core::Result<()> {
    let key = engine_key(r.key);
    match r.op {
        Op::Get => {
            cache.get(&key).await?;
        }
        // A trace's TTL is the write's own, in the engine as in the simulator.
        Op::Set => match trace_ttl(r.ttl) {
            Some(ttl) => cache.put_with_ttl(&key, value_for(r), ttl).await?,
            None => cache.put(&key, value_for(r)).await?,
        },
        Op::Delete => {
            cache.delete(&key).await?;
        }
    }
    Ok(())
}

/// `config` made to run in lockstep with the simulator: one L1 shard, a
/// pinned hash seed (the engine's default is a random one), so that the
/// engine takes exactly the simulator's hash-dependent decisions, and
/// (queued strategies) batches of one write, so that the full replay
/// flushes each write at once, as [`step`] makes the engine do.
pub(crate) fn lockstep_config(config: &mut CacheConfig) {
    config.l1.shards = 1;
    config.l1.hash_seed.get_or_insert(strata_core::l1::DEFAULT_HASH_SEED);
    config.write.batch_size = 1;
}

/// [`apply`]s `r` to `cache` and, for a write of a queued strategy
/// (write-back, write-behind), flushes it to L3: what the simulator does
/// at once. The caller then waits for the background work `r` started
/// ([`CachedStateBackend::settle`]) before the next request.
pub(crate) async fn step<B: StateBackend>(
    cache: &CachedStateBackend<B>,
    r: &Request,
) -> strata_core::Result<()> {
    apply(cache, r).await?;
    if r.op != Op::Get && cache.config().write.strategy != WriteStrategy::WriteThrough {
        cache.flush().await?;
    }
    Ok(())
}

/// The file that marks a directory as a demo's data directory, which the
/// demo may empty.
const DATA_DIR_MARK: &str = "strata-demo";

/// Makes `dir` the demo's data directory: a new or empty directory, or a
/// previous demo's (holding [`DATA_DIR_MARK`]), which is marked.
///
/// # Errors
/// `dir` is not empty and not a demo's: the demo empties the sled database
/// there, and it may be someone's.
fn claim_data_dir(dir: &Path) -> anyhow::Result<()> {
    let mark = dir.join(DATA_DIR_MARK);
    if !mark.exists()
        && let Ok(mut entries) = std::fs::read_dir(dir)
        && entries.next().is_some()
    {
        bail!(
            "{}: not empty and not a strata demo's data directory (no {DATA_DIR_MARK} file in it); \
             the demo empties the database in its data directory: give an empty or new one",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&mark, "a strata demo's data directory: `strata demo` empties it\n"))
        .with_context(|| format!("{}: cannot use as the demo's data directory", dir.display()))
}

/// Runs the demo. The trace is held in memory (the demo is meant for the
/// bundled traces; `strata replay` streams traces of any length).
///
/// # Errors
/// A trace that cannot be read, a request larger than [`MAX_VALUE_BYTES`],
/// values over [`MAX_TOTAL_VALUE_BYTES`] in all, or a tier that fails.
#[allow(clippy::disallowed_methods)] // wall-clock timing of the replay
pub async fn run(opts: &DemoOptions) -> anyhow::Result<DemoReport> {
    let requests = load_requests(&opts.trace, opts.format, opts.default_value_size)?;
    let mut config = opts.config.clone();
    config.l3 = L3Config::sled(opts.data_dir.display().to_string());
    config.l2 = None;
    lockstep_config(&mut config);

    claim_data_dir(&opts.data_dir)?;
    let sled = SledStateBackend::open(&opts.data_dir).await?;
    sled.clear().await?;
    let distinct_keys = seed(&sled, &requests).await?;

    let clock = ManualClock::new();
    let cache = CachedStateBackend::builder(sled).config(config.clone()).clock(clock.clone()).build()?;
    let start = std::time::Instant::now();
    for r in &requests {
        clock.set(strata_core::Instant::from_nanos(r.time_ns));
        step(&cache, r).await?;
        cache.settle().await;
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
        distinct_keys,
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
    if e.negative_hits + s.negative_hits > 0 {
        out += &format!("{:<28}{:>14}{:>14}\n", "L1 hits on absent keys", e.negative_hits, s.negative_hits);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &std::path::Path, trace: &str) -> DemoOptions {
        let path = dir.join("t.csv");
        std::fs::write(&path, trace).unwrap();
        DemoOptions {
            trace: path,
            format: None,
            config: default_config(),
            data_dir: dir.join("sled"),
            default_value_size: 64,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn refuses_a_value_above_the_bound_naming_the_request() {
        let dir = tempfile::tempdir().unwrap();
        let ok = format!("0,1,get,{MAX_VALUE_BYTES}\n1,2,get,100\n");
        assert!(
            check_sizes(
                "t",
                &read_all(&options(dir.path(), &ok).trace, None).unwrap(),
                64,
                MAX_VALUE_BYTES,
                MAX_TOTAL_VALUE_BYTES
            )
            .is_ok()
        );
        let opts = options(dir.path(), &format!("0,1,get,100\n1,2,get,{}\n", MAX_VALUE_BYTES + 1));
        let err = run(&opts).await.unwrap_err().to_string();
        assert!(
            err.contains("t.csv: request 2 (key 2)")
                && err.contains(&format!("size {}", MAX_VALUE_BYTES + 1)),
            "{err}"
        );
    }

    #[test]
    fn caps_the_values_of_all_keys() {
        let r = |key, size| Request { time_ns: 0, key, op: Op::Get, size, ttl: None };
        // Each key counts at its largest value; a key read again costs nothing.
        let fits = [r(1, 400), r(2, 500), r(1, 400), r(2, 600), r(3, 0)];
        check_sizes("t", &fits, 24, 1000, 1024).unwrap();
        let over = [r(1, 400), r(2, 500), r(3, 200)];
        let err = check_sizes("t", &over, 24, 1000, 1024).unwrap_err().to_string();
        assert!(err.contains("t: request 3 (key 3, size 200 bytes)") && err.contains("1100 bytes"), "{err}");
    }
}
