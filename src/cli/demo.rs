//! `strata demo`: the main job on the embedded default. Replays a trace
//! through the real engine (L1 + sled as L3; no Redis, no PostgreSQL) and
//! through the simulator with the same configuration, and prints both.

use std::path::PathBuf;

use anyhow::Context;
use strata::demo::{DemoOptions, default_config, default_data_dir, render, run};
use strata_core::config::{Capacity, WriteStrategy};
use strata_sim::trace::TraceFormat;

use super::setup::{cache_file, policy};

/// The bundled trace the demo replays unless given another, relative to
/// the repository's root.
const DEFAULT_TRACE: &str = "traces/web07.trace.xz";

/// Options of `strata demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The trace to replay (format from the file name unless --format).
    #[arg(default_value = DEFAULT_TRACE)]
    trace: PathBuf,
    /// Trace format: csv, oracle-general, twitter, text, cache2k.
    #[arg(long)]
    format: Option<TraceFormat>,
    /// A CacheConfig TOML (as `strata tune` writes); its L3 is replaced by sled.
    #[arg(long)]
    config: Option<PathBuf>,
    /// L1 capacity in entries (overrides the config).
    #[arg(long)]
    l1_capacity: Option<u64>,
    /// L1 eviction policy (overrides the config): lru, lfu, fifo, sieve, s3fifo, tinylfu, clock.
    #[arg(long)]
    policy: Option<String>,
    /// Write strategy (overrides the config): write-through, write-back, write-behind.
    #[arg(long)]
    strategy: Option<String>,
    /// Where sled keeps its files (default: a fresh directory under the temp dir, removed afterwards).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run_cmd(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.trace.as_os_str() != DEFAULT_TRACE || args.trace.exists(),
        "{DEFAULT_TRACE}: not found; the default trace is relative to the repository's root \
         (run `strata demo` there, or give a trace: `strata demo <TRACE>`)"
    );
    let mut config = match &args.config {
        Some(p) => cache_file(p)?,
        None => default_config(),
    };
    if let Some(n) = args.l1_capacity {
        config.l1.capacity = Capacity::Entries(n);
    }
    if let Some(p) = &args.policy {
        config.l1.eviction = policy(p).context("--policy")?;
    }
    if let Some(s) = &args.strategy {
        config.write.strategy = s.parse::<WriteStrategy>().context("--strategy")?;
    }
    let temporary = args.data_dir.is_none();
    let data_dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    let opts = DemoOptions {
        trace: args.trace.clone(),
        format: args.format,
        config: config.clone(),
        data_dir: data_dir.clone(),
        default_value_size: 64,
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = rt.block_on(run(&opts));
    if temporary {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    let report = result?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report, &config));
    }
    anyhow::ensure!(report.l1_hits_identical, "engine and simulator disagree on L1 hits");
    Ok(())
}
