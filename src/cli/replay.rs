//! `strata replay`: one cache configuration over one trace (or several
//! eviction policies side by side with `--compare`), as a table or JSON.

use std::path::PathBuf;

use anyhow::Context;
use indicatif::{MultiProgress, ProgressBar};
use strata_core::CacheConfig;
use strata_sim::report::compare_table;
use strata_sim::{Report, SimConfig};

use super::setup::{ConfigArgs, ReadError, Trace, capacity, policy};
use super::{progress, values};

/// `strata replay` options.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The trace (format from the file name unless --format; .zst and .xz are decompressed).
    trace: PathBuf,
    #[command(flatten)]
    config: ConfigArgs,
    /// L1 capacity per instance, in entries (bytes with --bytes); overrides the cache file.
    #[arg(long, value_parser = values::at_least_one::<u64>)]
    l1_capacity: Option<u64>,
    /// L1 eviction policy: lru, lfu, fifo, sieve, s3fifo, tinylfu, clock (not with --compare).
    #[arg(long, value_parser = values::policy, conflicts_with = "compare")]
    policy: Option<String>,
    /// Hit ratios only: no latencies, no event heap (much faster).
    #[arg(long)]
    hit_ratio_only: bool,
    /// Replay once per policy and print them side by side (comma-separated, or `all`).
    #[arg(long, value_delimiter = ',', value_parser = values::policy_or_all)]
    compare: Vec<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// One replay of the trace through `cache`, reporting progress on `bar`.
pub(crate) fn replay_once(
    trace: &Trace,
    args: &ConfigArgs,
    cache: &CacheConfig,
    sim: &SimConfig,
    hit_ratio_only: bool,
    bar: &ProgressBar,
    tell_skipped: bool,
) -> anyhow::Result<Report> {
    let error = ReadError::default();
    let reqs = trace.requests(args, &error, bar, tell_skipped)?;
    let report = if hit_ratio_only {
        strata_sim::fast::run_hit_ratio_only(cache, sim, reqs, |_| {})
    } else {
        strata_sim::replay::run(cache, sim, reqs, |_| {})
    };
    bar.finish_and_clear();
    error.check()?;
    Ok(report?)
}

/// Runs `strata replay`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let mut cache = args.config.cache()?;
    if let Some(n) = args.l1_capacity {
        cache.l1.capacity = capacity(n, args.config.bytes);
    }
    if let Some(name) = &args.policy {
        cache.l1.eviction = policy(name)?;
    }
    args.config.check_bytes(&cache)?;
    cache.validate()?;
    let sim = args.config.sim()?;
    let trace = args.trace.display().to_string();
    if args.compare.is_empty() {
        let bar = progress::bytes(0, &format!("replaying {trace}"));
        let once = Trace::streamed(&args.trace);
        let report = replay_once(&once, &args.config, &cache, &sim, args.hit_ratio_only, &bar, true)?;
        if args.json {
            println!("{}", report.to_json());
        } else {
            print!("{}", report.to_table());
        }
        return Ok(());
    }
    let policies = if args.compare.iter().any(|n| n.eq_ignore_ascii_case("all")) {
        strata_core::policy::eviction::EvictionConfig::all()
    } else {
        args.compare.iter().map(|n| policy(n)).collect::<anyhow::Result<Vec<_>>>()?
    };
    // Each policy reads the trace: a pipe is read once, into memory.
    let source = Trace::rereadable(&args.trace, &args.config, u64::MAX)?;
    let multi = MultiProgress::new();
    let reports = std::thread::scope(|scope| {
        let handles: Vec<_> = policies
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut c = cache.clone();
                c.l1.eviction = p.clone();
                let bar = multi.add(progress::bytes(0, p.name()));
                let (args, sim, source) = (&args, &sim, &source);
                scope.spawn(move || {
                    replay_once(source, &args.config, &c, sim, args.hit_ratio_only, &bar, i == 0)
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(&policies)
            .map(|(h, p)| match h.join() {
                Ok(r) => r.with_context(|| format!("replay with {}", p.name())),
                Err(_) => Err(anyhow::anyhow!("{trace}: replay with {} panicked", p.name())),
            })
            .collect::<anyhow::Result<Vec<Report>>>()
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        print!("{}", compare_table(&reports));
    }
    Ok(())
}
