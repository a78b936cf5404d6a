//! The subcommands of `strata`, one module each. To add one: a module with
//! an `Args` struct (clap derive) and a `run(args) -> anyhow::Result<()>`,
//! a variant in [`Command`], and a line in [`Command::run`].

mod demo;
mod engine_args;
#[cfg(all(feature = "sled", feature = "redis"))]
mod fleet;
mod generate;
mod inspect;
mod mrc;
mod progress;
mod replay;
mod setup;
mod tune;
mod values;

use std::fs::File;
use std::path::Path;

use anyhow::Context;
use clap::Subcommand;
use strata_sim::trace::{ReaderOptions, TraceFormat, TraceReader, detect};

/// A `strata` subcommand.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// The main job on the embedded default: replay a trace through the engine (L1 + sled) and the simulator, and compare.
    Demo(demo::Args),
    /// Generate a synthetic trace (Zipf, uniform, scan, loop, hot set) into a file.
    #[command(name = "gen")]
    Gen(generate::Args),
    /// Check the simulator against the engine with L2: replay a trace through several engine instances on a Redis namespace and through the simulator, and compare every tier's counts.
    #[cfg(all(feature = "sled", feature = "redis"))]
    Fleet(fleet::Args),
    /// Miss-ratio curve of a trace: exact LRU in one pass, SHARDS sampling, or simulated policies.
    Mrc(mrc::Args),
    /// Replay a trace through a cache configuration with modelled tier latencies (or compare policies).
    Replay(replay::Args),
    /// Search capacities, TTLs, policy and write strategy under constraints; write the winner as TOML.
    // Boxed: its arguments are the largest by far.
    Tune(Box<tune::Args>),
    /// Serve the inspector page (inspector-wasm/www, built by inspector-wasm/build.sh) on 127.0.0.1.
    Inspect(inspect::Args),
}

impl Command {
    /// Runs the subcommand.
    pub(crate) fn run(self) -> anyhow::Result<()> {
        match self {
            Command::Demo(args) => demo::run_cmd(args),
            Command::Gen(args) => generate::run(args),
            #[cfg(all(feature = "sled", feature = "redis"))]
            Command::Fleet(args) => fleet::run_cmd(args),
            Command::Mrc(args) => mrc::run(args),
            Command::Inspect(args) => inspect::run(args),
            Command::Replay(args) => replay::run(args),
            Command::Tune(args) => tune::run(*args),
        }
    }
}

/// An error and its causes on one line (`a: b: c`), without repeating a
/// cause whose text the message already contains, nor a part said twice in
/// a row (a client library's `x: x: x`).
pub(crate) fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(text.lines().next().unwrap_or(""));
    }
    let mut parts: Vec<&str> = out.split(": ").collect();
    parts.dedup();
    parts.join(": ")
}

/// A trace reader over `path` with a progress bar on the file's bytes.
pub(crate) fn open_trace(
    path: &Path,
    format: Option<TraceFormat>,
    skip_bad: bool,
) -> anyhow::Result<TraceReader<indicatif::ProgressBarIter<File>>> {
    let (format, compression) = detect(path, format)?;
    let file = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress::bytes(len, &format!("reading {}", path.display()));
    Ok(TraceReader::new(
        bar.wrap_read(file),
        format,
        compression,
        path.display().to_string(),
        ReaderOptions { skip_bad },
    ))
}

/// Whether `path` is a regular file (symbolic links followed), which can be
/// opened and read again; a pipe, FIFO or terminal cannot.
pub(crate) fn is_regular_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// The error for a trace that held no request: an empty file, or one whose
/// every record was bad and skipped (`--skip-bad`).
pub(crate) fn no_requests(path: &Path, skipped: u64) -> anyhow::Error {
    let plural = if skipped == 1 { "" } else { "s" };
    let why = if skipped > 0 {
        format!(" ({skipped} bad record{plural} skipped, no good one)")
    } else {
        String::new()
    };
    anyhow::anyhow!("{}: the trace holds no requests{why}", path.display())
}
