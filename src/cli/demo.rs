//! `strata demo`: the main job on the embedded default. Replays a trace
//! through the real engine (L1 + sled as L3; no Redis, no PostgreSQL) and
//! through the simulator with the same configuration, and prints both.

use std::path::PathBuf;

use strata::demo::{DemoOptions, default_config, default_data_dir, render, run};
use strata_sim::trace::TraceFormat;

use super::engine_args::EngineArgs;

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
    /// The configuration (its L3 is replaced by sled).
    #[command(flatten)]
    engine: EngineArgs,
    /// Where sled keeps its files (default: a fresh directory under the temp dir, removed afterwards); a new or empty directory, or one a previous demo used: the demo empties its database.
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
    let config = args.engine.config(default_config)?;
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
