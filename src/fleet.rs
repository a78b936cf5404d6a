//! The engine against the simulator with a shared L2: a trace replayed
//! through several engine instances on one Redis namespace (L2) and one
//! L3 (in memory), and through the simulator's full replay with no
//! latency and its hit-ratio-only loop. Every tier's counts must be
//! identical, hit for hit.
//!
//! With no latency, the simulator completes each request's every effect
//! before the next request arrives: a load and the L2 copy of what it
//! found (a value or an absent-key marker), a write and (queued
//! strategies) its flush and the L2 write after it, and the invalidations
//! the other instances receive. The engine does some of these in the
//! background or over Redis pub/sub, so the replay makes them complete in
//! the same order: after each request it waits until every instance has
//! [settled](CachedStateBackend::settle), flushes a write of a queued
//! strategy (write-behind runs with batches of one write, so that the
//! simulator flushes each write at once too), and waits until each
//! instance has received every invalidation the others published
//! (`CacheStats::published_invalidations` against `remote_invalidations`).
//!
//! Requests are routed as the simulator routes them (`sim.routing`, its
//! seed), at the simulator's virtual arrival times, which the instances'
//! shared [`ManualClock`] follows: L1 TTLs expire alike. Redis expires L2
//! entries in real time, though, and the simulator in virtual time, so the
//! replay refuses a trace whose virtual span, or a run whose real
//! duration, reaches the shortest L2 TTL in play (entries, absent-key
//! markers, tombstones, a trace write's own TTL): there the two would
//! disagree for a reason that is not a fault of either.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use serde::Serialize;
use strata_core::config::{CacheConfig, L2Config};
use strata_core::l1::hash_key_with;
use strata_core::l2::{L2Tier, RedisTier};
use strata_core::policy::tombstone_ttl;
use strata_core::stats::CacheStats;
use strata_core::{CachedStateBackend, Clock, ManualClock, MemoryStateBackend, SystemClock};
use strata_sim::arrival::{Arrivals, Router};
use strata_sim::config::Latencies;
use strata_sim::fast::{FastSim, Outcome};
use strata_sim::tier::trace_ttl;
use strata_sim::trace::TraceFormat;
use strata_sim::{Op, Request, SimConfig};

use crate::demo::{load_requests, lockstep_config, seed, step};

type Cache = CachedStateBackend<Arc<MemoryStateBackend>>;

/// How long the replay waits for an instance to receive the invalidations
/// published to it before it reports the instance as deaf.
const DELIVERY_LIMIT: Duration = Duration::from_secs(5);

/// What to run.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// The trace file.
    pub trace: PathBuf,
    /// Its format, if not told by the file name.
    pub format: Option<TraceFormat>,
    /// The cache configuration: its `l2` names the Redis server and
    /// namespace (emptied before and after: give the replay a namespace of
    /// its own) and its `l2.capacity` is left out (Redis is bounded by its
    /// `maxmemory`, which the replay assumes is not reached); its `l3` is
    /// replaced by one in-memory backend shared by the instances, seeded
    /// with every key the trace reads.
    pub config: CacheConfig,
    /// Instances, routing, arrival mode and seed (latencies are set to 0).
    pub sim: SimConfig,
    /// Object size (key and value) of requests whose trace size is 0.
    pub default_value_size: usize,
}

/// One side's counts, summed over the instances.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FleetCounts {
    /// L1 hits (markers of absent keys included).
    pub l1_hits: u64,
    /// L1 hits on an absent key's marker.
    pub negative_hits: u64,
    /// L2 reads that found a value or an absent-key marker.
    pub l2_hits: u64,
    /// L2 hits on an absent key's marker.
    pub l2_negative_hits: u64,
    /// L2 reads that found nothing.
    pub l2_misses: u64,
    /// L3 reads: loads, refresh-ahead reloads and the existence checks of
    /// queued deletes.
    pub l3_reads: u64,
    /// Invalidations the instances received from each other.
    pub invalidations: u64,
}

impl FleetCounts {
    fn of_engine(stats: &[CacheStats]) -> Self {
        let mut c = Self::default();
        for s in stats {
            c.l1_hits += s.l1.hits;
            c.negative_hits += s.negative_hits;
            c.l2_hits += s.l2.hits;
            c.l2_negative_hits += s.l2_negative_hits;
            c.l2_misses += s.l2.misses;
            c.l3_reads += s.l3.hits + s.l3.misses;
            c.invalidations += s.remote_invalidations;
        }
        c
    }

    fn of_simulator(r: &strata_sim::Report) -> Self {
        Self {
            l1_hits: r.l1.hits,
            negative_hits: r.negative_hits,
            l2_hits: r.l2.as_ref().map_or(0, |t| t.hits),
            l2_negative_hits: r.l2_negative_hits,
            l2_misses: r.l2.as_ref().map_or(0, |t| t.misses),
            l3_reads: r.l3.reads + r.l3.refresh_reads + r.l3.exists_reads,
            invalidations: r.invalidations,
        }
    }
}

/// A get served from different tiers by the engine and the simulator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The request's position in the trace, from 1.
    pub request: u64,
    /// Its trace key.
    pub key: u64,
    /// The instance that served it, from 0.
    pub instance: usize,
    /// What the engine did: `L1Hit`, `L2Hit` or `Miss` (L3).
    pub engine: String,
    /// What the fast loop did.
    pub simulator: String,
}

/// What the replay measured.
#[derive(Debug, Clone, Serialize)]
pub struct FleetReport {
    /// The trace.
    pub trace: String,
    /// Requests replayed.
    pub requests: u64,
    /// Engine instances (and simulated ones).
    pub instances: u32,
    /// The engine's counts.
    pub engine: FleetCounts,
    /// The simulator's counts (the full replay, with no latency).
    pub simulator: FleetCounts,
    /// The counts of the simulator's hit-ratio-only loop (`strata replay
    /// --hit-ratio-only`, the inspector's policy comparison). Its
    /// approximations (see `strata_sim::fast`) concern writes still queued
    /// and loads still in flight when the next request arrives, which the
    /// replay's settling rules out: its counts must be equal too.
    pub fast: FleetCounts,
    /// Whether the engine's, the simulator's and the fast loop's counts
    /// are equal.
    pub identical: bool,
    /// Wall-clock seconds of the engine replay.
    pub engine_seconds: f64,
    /// The first get whose tier (L1 hit, L2 hit, or L3) differs between the
    /// engine and the fast loop, which steps alongside: where to look when
    /// counts differ.
    pub first_difference: Option<Difference>,
    /// L2 errors and timeouts the engine met (each is a miss the simulator
    /// does not make: a reason for counts to differ other than a fault in
    /// either; raise `[l2] timeout_ms` on a busy machine).
    pub engine_l2_errors: u64,
}

/// The configuration both sides run: the caller's, with one L1 shard, a
/// pinned hash seed, (write-behind) batches of one write and no L2
/// capacity; its `l2`, which must be set.
fn fleet_config(opts: &FleetOptions) -> anyhow::Result<(CacheConfig, L2Config)> {
    let mut config = opts.config.clone();
    let l2 = config.l2.as_mut().context("the fleet replay needs an L2: set [l2] url and namespace")?;
    // Redis is bounded by its `maxmemory`, which the replay assumes is not
    // reached: the simulator's L2 is unbounded too.
    l2.capacity = None;
    let l2 = l2.clone();
    lockstep_config(&mut config);
    config.validate()?;
    Ok((config, l2))
}

/// The shortest time an L2 entry of this replay lives: entries, the trace
/// writes' own TTLs and, if the trace deletes (every key exists in L3
/// until deleted), tombstones and absent-key markers.
fn shortest_l2_ttl(l2: &L2Config, requests: &[Request]) -> Duration {
    let writes = requests.iter().filter(|r| r.op == Op::Set).filter_map(|r| trace_ttl(r.ttl));
    let absences = if requests.iter().any(|r| r.op == Op::Delete) {
        [l2.negative_ttl, Some(tombstone_ttl(l2.ttl))]
    } else {
        [None, None]
    };
    [l2.ttl].into_iter().chain(absences).flatten().chain(writes).min().unwrap_or(Duration::MAX)
}

/// Replays the trace through both and compares.
///
/// # Errors
/// A trace that cannot be read or is too long for the L2 TTLs in play, no
/// `[l2]` in the configuration, Redis unreachable, an instance that does
/// not receive the others' invalidations within 5 s, or a tier that fails.
#[allow(clippy::disallowed_methods)] // wall-clock timing of the replay
pub async fn run(opts: &FleetOptions) -> anyhow::Result<FleetReport> {
    let (config, l2) = fleet_config(opts)?;
    let sim = SimConfig { latency: Latencies::none(), ..opts.sim.clone() };
    sim.validate()?;
    let requests = load_requests(&opts.trace, opts.format, opts.default_value_size)?;
    let shortest = shortest_l2_ttl(&l2, &requests);
    let mut arrivals = Arrivals::new(sim.arrival);
    let times: Vec<u64> = requests.iter().map(|r| arrivals.next(r.time_ns)).collect();
    let span = Duration::from_nanos(times.last().copied().unwrap_or(0));
    ensure!(
        span < shortest,
        "{}: the trace spans {span:?} of virtual time, not less than the shortest L2 TTL in play ({shortest:?}): \
         Redis expires in real time, the simulator in virtual time; replay a shorter trace or a faster arrival rate",
        opts.trace.display()
    );

    let l3 = Arc::new(MemoryStateBackend::new());
    seed(&l3, &requests).await?;
    let real: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let at = || format!("Redis at {}", without_credentials(&l2.url));
    let admin = RedisTier::connect(&l2, Arc::clone(&real)).await.with_context(at)?;
    admin.clear().await.context("emptying the L2 namespace")?;
    let clock = ManualClock::new();
    let mut caches: Vec<Cache> = Vec::new();
    for i in 0..sim.instances {
        let tier = RedisTier::connect(&l2, Arc::clone(&real)).await.with_context(at)?;
        let cache = CachedStateBackend::builder(Arc::clone(&l3))
            .config(config.clone())
            .clock(clock.clone())
            .l2(Arc::new(tier))
            .build()?;
        ensure!(
            cache.ready(DELIVERY_LIMIT).await,
            "instance {i}: no invalidation subscription within {DELIVERY_LIMIT:?}"
        );
        caches.push(cache);
    }

    let seed_of = strata_sim::tier::hash_seed(&config.l1);
    let mut router = Router::for_sim(&sim);
    // The fast loop steps alongside, for the first request it disagrees on.
    let mut fast = FastSim::new(&config, &sim)?;
    let mut first_difference = None;
    let start = std::time::Instant::now();
    for (n, (r, &at)) in requests.iter().zip(&times).enumerate() {
        clock.set(strata_core::Instant::from_nanos(at));
        let i = router.route(hash_key_with(seed_of, &r.key));
        let cache = &caches[i];
        let want = fast.step(r);
        let before = (r.op == Op::Get).then(|| cache.stats());
        step(cache, r).await.with_context(|| format!("request {} (key {})", n + 1, r.key))?;
        settle(&caches).await.with_context(|| format!("after request {} (key {})", n + 1, r.key))?;
        if let Some(before) = before {
            let got = outcome(&before, &cache.stats());
            if got != want && first_difference.is_none() {
                let (engine, simulator) = (format!("{got:?}"), format!("{want:?}"));
                first_difference =
                    Some(Difference { request: n as u64 + 1, key: r.key, instance: i, engine, simulator });
            }
        }
    }
    let engine_seconds = start.elapsed().as_secs_f64();
    let stats: Vec<CacheStats> = caches.iter().map(CachedStateBackend::stats).collect();
    for c in &caches {
        c.shutdown(Duration::from_secs(10)).await?;
    }
    admin.clear().await.context("emptying the L2 namespace after the replay")?;
    ensure!(
        Duration::from_secs_f64(engine_seconds) < shortest,
        "the engine replay took {engine_seconds:.1} s, not less than the shortest L2 TTL in play ({shortest:?}): \
         Redis may have expired entries the simulator kept; replay a shorter trace"
    );

    let report = strata_sim::replay::run(&config, &sim, requests.iter().copied(), |_| {})?;
    let fast = fast.finish(&config, &sim);
    let engine = FleetCounts::of_engine(&stats);
    let simulator = FleetCounts::of_simulator(&report);
    let fast = FleetCounts::of_simulator(&fast);
    Ok(FleetReport {
        trace: opts.trace.display().to_string(),
        requests: requests.len() as u64,
        instances: sim.instances,
        engine,
        simulator,
        fast,
        identical: engine == simulator && engine == fast && first_difference.is_none(),
        engine_seconds,
        engine_l2_errors: stats.iter().map(|s| s.l2.errors).sum(),
        first_difference,
    })
}

/// `url` without the user name and password it may hold
/// (`redis://user:secret@host:6379/0` is `redis://host:6379/0`), for errors.
fn without_credentials(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    }
}

/// What a get did on the instance whose statistics went from `before` to
/// `after`: an L1 hit, else an L2 hit, else a load from L3.
fn outcome(before: &CacheStats, after: &CacheStats) -> Outcome {
    if after.l1.hits > before.l1.hits {
        Outcome::L1Hit
    } else if after.l2.hits > before.l2.hits {
        Outcome::L2Hit
    } else {
        Outcome::Miss
    }
}

/// Waits until every instance has settled and has received every
/// invalidation the others published.
async fn settle(caches: &[Cache]) -> anyhow::Result<()> {
    for c in caches {
        c.settle().await;
    }
    let deadline = tokio::time::Instant::now() + DELIVERY_LIMIT;
    loop {
        let counts: Vec<(u64, u64)> = caches
            .iter()
            .map(|c| {
                let s = c.stats();
                (s.published_invalidations, s.remote_invalidations)
            })
            .collect();
        let published: u64 = counts.iter().map(|(p, _)| p).sum();
        let deaf = counts.iter().position(|(own, received)| *received < published - own);
        let Some(i) = deaf else { return Ok(()) };
        if tokio::time::Instant::now() >= deadline {
            let (own, received) = counts[i];
            bail!(
                "instance {i} received {received} of the {} invalidations the others published within {DELIVERY_LIMIT:?}",
                published - own
            );
        }
        tokio::task::yield_now().await;
    }
}
