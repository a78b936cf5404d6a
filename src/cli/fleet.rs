//! `strata fleet`: the simulator checked against the engine with a shared
//! L2. Replays a trace through several engine instances on a Redis
//! namespace and through the simulator (its full replay with no latency,
//! and its hit-ratio-only loop), and compares every tier's counts (see
//! `strata::fleet`). Exits non-zero when they differ.

use std::path::PathBuf;

use anyhow::bail;
use strata::fleet::{FleetCounts, FleetOptions, FleetReport, run};
use strata_core::config::L2Config;
use strata_sim::SimConfig;
use strata_sim::config::{Arrival, Routing};
use strata_sim::trace::TraceFormat;

use super::engine_args::EngineArgs;
use super::values;

/// Options of `strata fleet`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The trace to replay (format from the file name unless --format); held in memory.
    trace: PathBuf,
    /// Trace format: csv, oracle-general, twitter, text, cache2k.
    #[arg(long)]
    format: Option<TraceFormat>,
    /// The configuration: its [l2] url is used unless --redis (not its namespace, not its capacity: Redis's maxmemory bounds L2), its L3 is replaced by memory.
    #[command(flatten)]
    engine: EngineArgs,
    /// Redis URL (default: the config's [l2] url, else $REDIS_URL, else redis://127.0.0.1:6379).
    #[arg(long)]
    redis: Option<String>,
    /// L2 namespace, emptied before and after (default: strata-fleet-<process id>; never the config's, which a service may be using).
    #[arg(long)]
    namespace: Option<String>,
    /// Engine (and simulated) instances, 1 to 1024.
    #[arg(long, default_value_t = 3, value_parser = values::instances)]
    instances: u32,
    /// Routing of requests to instances: round-robin, random, key-hash.
    #[arg(long, default_value = "round-robin")]
    routing: String,
    /// Arrivals at this many requests a second instead of the trace's timestamps.
    #[arg(long, value_parser = values::rate, allow_negative_numbers = true)]
    rate: Option<f64>,
    /// Seed of the routing (random).
    #[arg(long)]
    seed: Option<u64>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn routing(name: &str) -> anyhow::Result<Routing> {
    Ok(match name {
        "round-robin" => Routing::RoundRobin,
        "random" => Routing::Random,
        "key-hash" => Routing::KeyHash,
        other => bail!("--routing: unknown routing {other:?} (round-robin, random, key-hash)"),
    })
}

fn options(args: &Args) -> anyhow::Result<FleetOptions> {
    let mut config = args.engine.config(strata_core::CacheConfig::default)?;
    // Never the configuration's namespace: the replay empties its namespace
    // before and after, and a service's must not be.
    let namespace = args.namespace.clone().unwrap_or_else(|| format!("strata-fleet-{}", std::process::id()));
    // Without a file: a generous timeout, as the replay checks counts, not speed.
    let mut l2 = config.l2.take().unwrap_or_else(|| L2Config {
        url: std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
        timeout: std::time::Duration::from_secs(2),
        ..L2Config::default()
    });
    l2.namespace = namespace;
    if let Some(url) = &args.redis {
        l2.url.clone_from(url);
    }
    config.l2 = Some(l2);
    let mut sim =
        SimConfig { instances: args.instances, routing: routing(&args.routing)?, ..SimConfig::default() };
    if let Some(per_sec) = args.rate {
        sim.arrival = Arrival::Rate { per_sec };
    }
    if let Some(seed) = args.seed {
        sim.seed = seed;
    }
    Ok(FleetOptions { trace: args.trace.clone(), format: args.format, config, sim, default_value_size: 64 })
}

/// A row of the table: its name and the count it shows.
type Row = (&'static str, fn(&FleetCounts) -> u64);

fn render(r: &FleetReport) -> String {
    let rows: [Row; 7] = [
        ("L1 hits", |c| c.l1_hits),
        ("L1 hits on absent keys", |c| c.negative_hits),
        ("L2 hits", |c| c.l2_hits),
        ("L2 hits on absent keys", |c| c.l2_negative_hits),
        ("L2 misses", |c| c.l2_misses),
        ("L3 reads", |c| c.l3_reads),
        ("invalidations received", |c| c.invalidations),
    ];
    let mut out = format!(
        "trace {}: {} requests over {} instances sharing one Redis namespace\n\n{:<26}{:>12}{:>12}{:>12}\n",
        r.trace, r.requests, r.instances, "", "engine", "simulator", "fast loop"
    );
    for (name, get) in rows {
        out += &format!("{name:<26}{:>12}{:>12}{:>12}\n", get(&r.engine), get(&r.simulator), get(&r.fast));
    }
    if let Some(d) = &r.first_difference {
        out += &format!(
            "\nfirst difference: request {} (key {}, instance {}): engine {}, simulator {}\n",
            d.request, d.key, d.instance, d.engine, d.simulator
        );
    }
    if r.engine_l2_errors > 0 {
        out += &format!(
            "\nthe engine met {} L2 errors or timeouts (each a miss the simulator does not make; raise [l2] timeout_ms)\n",
            r.engine_l2_errors
        );
    }
    out += &format!(
        "\nengine replay {:.2} s (each request settled before the next)\n\
         every count identical in engine, simulator and fast loop: {}\n",
        r.engine_seconds,
        if r.identical { "yes" } else { "NO" }
    );
    out
}

pub(crate) fn run_cmd(args: Args) -> anyhow::Result<()> {
    let opts = options(&args)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = rt.block_on(run(&opts))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    anyhow::ensure!(report.identical, "engine and simulator disagree");
    Ok(())
}
