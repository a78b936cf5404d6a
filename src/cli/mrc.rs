//! `strata mrc`: the miss-ratio curve of a trace.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use serde::Serialize;
use strata_core::policy::eviction::EvictionConfig;
use strata_sim::Unit;
use strata_sim::mrc::{
    CurveReport, MissRatioCurve, MrcBuilder, SHARDS_ERROR_BOUND, SimPoint, simulate_curves,
};
use strata_sim::trace::{TraceError, TraceFormat};

use super::{open_trace, values};

/// `strata mrc` options.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The trace (format from the file name unless --format; .zst and .xz are decompressed).
    trace: PathBuf,
    /// Trace format: csv, oracle-general, twitter, text, cache2k.
    #[arg(long)]
    format: Option<TraceFormat>,
    /// Capacities in bytes (object sizes from the trace) instead of objects.
    #[arg(long)]
    bytes: bool,
    /// SHARDS sampling rate in (0, 1] for large traces (an estimate with a stated error).
    #[arg(long)]
    sample_rate: Option<f64>,
    /// Also simulate these eviction policies at the same capacities
    /// (comma-separated: lru, lfu, fifo, clock, sieve, s3fifo, tinylfu, or all).
    #[arg(long, value_delimiter = ',', value_parser = values::policy_or_all)]
    policy: Vec<String>,
    /// Capacities to report, comma-separated (default: 0.1 % to 100 % of the footprint).
    #[arg(long, value_delimiter = ',')]
    capacities: Vec<u64>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Skip unparsable lines (counted and reported) instead of failing.
    #[arg(long)]
    skip_bad: bool,
}

/// The `--json` output.
#[derive(Debug, Serialize)]
struct Output {
    trace: String,
    format: String,
    skipped: u64,
    lru: CurveReport,
    simulated: Vec<SimPoint>,
}

fn policies(names: &[String]) -> anyhow::Result<Vec<EvictionConfig>> {
    if names.iter().any(|n| n.eq_ignore_ascii_case("all")) {
        return Ok(EvictionConfig::all());
    }
    names.iter().map(|n| n.parse::<EvictionConfig>().map_err(anyhow::Error::new)).collect()
}

/// Runs `strata mrc`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let unit = if args.bytes { Unit::Bytes } else { Unit::Objects };
    let policies = policies(&args.policy)?;
    let mut builder = match args.sample_rate {
        Some(rate) => MrcBuilder::sampled(unit, rate)?,
        None => MrcBuilder::new(unit),
    };
    let mut reader = open_trace(&args.trace, args.format, args.skip_bad)?;
    // The policies read the trace again: a pipe is kept in memory instead.
    let keep = !policies.is_empty() && !super::is_regular_file(&args.trace);
    let mut kept = Vec::new();
    builder.feed(reader.by_ref().inspect(|r| {
        if let (true, Ok(r)) = (keep, r) {
            kept.push(*r);
        }
    }))?;
    let skipped = reader.skipped();
    if reader.requests() == 0 {
        return Err(super::no_requests(&args.trace, skipped));
    }
    if let Some(first) = reader.first_skipped() {
        eprintln!("skipped {skipped} bad record(s); the first: {first}");
    }
    let format = reader.format();
    drop(reader);
    let curve = builder.finish();
    if curve.accesses() == 0 {
        anyhow::bail!(
            "{}: the trace holds no reads ({} deletes ignored): a miss ratio needs reads",
            args.trace.display(),
            curve.ignored()
        );
    }
    let capacities =
        if args.capacities.is_empty() { curve.default_capacities() } else { args.capacities.clone() };
    let simulated = if policies.is_empty() {
        Vec::new()
    } else if keep {
        simulate_curves(kept.into_iter().map(Ok::<_, TraceError>), &policies, &capacities, unit)?
    } else {
        let reader = open_trace(&args.trace, Some(format), args.skip_bad)?;
        simulate_curves(reader, &policies, &capacities, unit)
            .with_context(|| format!("{}: simulating", args.trace.display()))?
    };
    if args.json {
        let out = Output {
            trace: args.trace.display().to_string(),
            format: format.to_string(),
            skipped,
            lru: curve.report(&capacities),
            simulated,
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", table(&args.trace.display().to_string(), &curve, &capacities, &policies, &simulated));
    }
    Ok(())
}

fn table(
    trace: &str,
    curve: &MissRatioCurve,
    capacities: &[u64],
    policies: &[EvictionConfig],
    simulated: &[SimPoint],
) -> String {
    let mut s = String::new();
    let unit = curve.unit();
    let mode = if curve.sample_rate() < 1.0 {
        let rate = format!("{:.6}", curve.sample_rate());
        let rate = rate.trim_end_matches('0');
        format!("SHARDS estimate at rate {rate} (~: estimated; ?: beyond the stated error bound)")
    } else if unit == Unit::Bytes {
        "exact LRU, one pass (~: interpolated within 1/256 of the capacity)".to_owned()
    } else {
        "exact LRU, one pass".to_owned()
    };
    let _ = writeln!(s, "{trace}: {mode}");
    if !policies.is_empty() {
        let _ = writeln!(s, "policy columns: miss ratios simulated through the L1 store");
    }
    let _ = writeln!(
        s,
        "accesses {}, ignored deletes {}, distinct keys {}, cold misses {}, footprint {} {u}; capacities in {u}",
        curve.accesses(),
        curve.ignored(),
        curve.distinct_keys(),
        curve.cold_misses(),
        curve.footprint(),
        u = unit.name(),
    );
    let _ = write!(s, "{:>14} {:>9} {:>10} {:>12}", "capacity", "footprint", "lru", "lru misses");
    for p in policies {
        let _ = write!(s, " {:>10}", p.name());
    }
    s.push('\n');
    let footprint = curve.footprint().max(1) as f64;
    for (i, &cap) in capacities.iter().enumerate() {
        let point = curve.point(cap);
        let mark = if point.exact { "" } else { "~" };
        // sampled: "?" where the stated bound does not hold (the --json
        // output gives the point's own bound)
        let beyond = curve.sample_rate() < 1.0 && point.error_bound.is_none_or(|b| b > SHARDS_ERROR_BOUND);
        let bound = if beyond { "?" } else { "" };
        let ratio = format!("{mark}{:.4}{bound}", point.miss_ratio);
        let _ =
            write!(s, "{cap:>14} {:>8.1}% {ratio:>10} {:>12}", 100.0 * cap as f64 / footprint, point.misses);
        for j in 0..policies.len() {
            if let Some(p) = simulated.get(j * capacities.len() + i) {
                let _ = write!(s, " {:>10.4}", p.miss_ratio());
            }
        }
        s.push('\n');
    }
    s
}
