//! `strata gen`: writes a synthetic trace.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::ValueEnum;
use strata_sim::generate::{Arrivals, GenConfig, KeyDist, SizeDist};
use strata_sim::trace::{Compression, TraceFormat, TraceWriter};

use super::progress;

/// Key distributions on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Dist {
    /// Zipf over the keys (`--alpha`).
    Zipf,
    /// Every key equally likely.
    Uniform,
    /// A one-time scan: every request a new key.
    Scan,
    /// A loop over the keys.
    Loop,
    /// A hot set that moves (`--hot-fraction`, `--hot-prob`, `--shift-every`).
    Hotset,
}

/// Value-size distributions on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Sizes {
    /// Every value `--size` bytes.
    Constant,
    /// Uniform in `--size-min..=--size-max`.
    Uniform,
    /// Log-normal with median `--size` and `--size-sigma`.
    Lognormal,
}

/// Arrival processes on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ArrivalKind {
    /// Evenly spaced at `--rate`.
    Constant,
    /// Poisson at `--rate`.
    Poisson,
}

/// `strata gen` options.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Output file; the format and compression come from its name
    /// (`.csv`, `.oracleGeneral`/`.bin`, plus `.zst`) unless `--format` is given.
    #[arg(short, long)]
    output: PathBuf,
    /// Output format: csv or oracle-general.
    #[arg(long)]
    format: Option<TraceFormat>,
    /// Key distribution.
    #[arg(long, value_enum, default_value_t = Dist::Zipf)]
    dist: Dist,
    /// Zipf exponent.
    #[arg(long, default_value_t = 1.0)]
    alpha: f64,
    /// Distinct keys.
    #[arg(long, default_value_t = 100_000)]
    keys: u64,
    /// Requests to generate.
    #[arg(long, default_value_t = 1_000_000)]
    requests: u64,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Fraction of requests that are writes.
    #[arg(long, default_value_t = 0.0)]
    write_ratio: f64,
    /// Fraction of requests that are deletes (a deleted key is absent until written again).
    #[arg(long, default_value_t = 0.0)]
    delete_ratio: f64,
    /// Hot set size as a fraction of the keys (hotset).
    #[arg(long, default_value_t = 0.1)]
    hot_fraction: f64,
    /// Probability a request goes to the hot set (hotset).
    #[arg(long, default_value_t = 0.9)]
    hot_prob: f64,
    /// Requests between moves of the hot set (hotset).
    #[arg(long, default_value_t = 100_000)]
    shift_every: u64,
    /// Value-size distribution.
    #[arg(long, value_enum, default_value_t = Sizes::Constant)]
    size_dist: Sizes,
    /// Value size in bytes (constant), or the median (lognormal).
    #[arg(long, default_value_t = 100)]
    size: u32,
    /// Smallest size (uniform).
    #[arg(long, default_value_t = 1)]
    size_min: u32,
    /// Largest size (uniform).
    #[arg(long, default_value_t = 1000)]
    size_max: u32,
    /// Sigma of ln(size) (lognormal).
    #[arg(long, default_value_t = 1.0)]
    size_sigma: f64,
    /// Requests a second.
    #[arg(long, default_value_t = 10_000.0)]
    rate: f64,
    /// Arrival process.
    #[arg(long, value_enum, default_value_t = ArrivalKind::Constant)]
    arrivals: ArrivalKind,
    /// TTL in seconds carried by writes.
    #[arg(long)]
    ttl: Option<u32>,
}

impl Args {
    fn config(&self) -> GenConfig {
        let dist = match self.dist {
            Dist::Zipf => KeyDist::Zipf { alpha: self.alpha },
            Dist::Uniform => KeyDist::Uniform,
            Dist::Scan => KeyDist::Scan,
            Dist::Loop => KeyDist::Loop,
            Dist::Hotset => KeyDist::HotSet {
                hot_fraction: self.hot_fraction,
                hot_prob: self.hot_prob,
                shift_every: self.shift_every,
            },
        };
        let sizes = match self.size_dist {
            Sizes::Constant => SizeDist::Constant(self.size),
            Sizes::Uniform => SizeDist::Uniform { min: self.size_min, max: self.size_max },
            Sizes::Lognormal => SizeDist::LogNormal { median: f64::from(self.size), sigma: self.size_sigma },
        };
        let arrivals = match self.arrivals {
            ArrivalKind::Constant => Arrivals::Constant { rate: self.rate },
            ArrivalKind::Poisson => Arrivals::Poisson { rate: self.rate },
        };
        GenConfig {
            dist,
            keys: self.keys,
            requests: self.requests,
            write_ratio: self.write_ratio,
            delete_ratio: self.delete_ratio,
            sizes,
            arrivals,
            ttl: self.ttl,
            seed: self.seed,
        }
    }
}

/// Runs `strata gen`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let name = args.output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let compression = Compression::from_file_name(&name);
    let format = match args.format.or_else(|| TraceFormat::from_file_name(&name)) {
        Some(f @ (TraceFormat::Csv | TraceFormat::OracleGeneral)) => f,
        Some(f) => bail!("{}: cannot write {f} traces (only csv and oracle-general)", args.output.display()),
        None => bail!(
            "{}: cannot tell the format from the file name; use .csv or .oracleGeneral (optionally .zst), or --format",
            args.output.display()
        ),
    };
    if format == TraceFormat::OracleGeneral {
        let lost = [
            (args.write_ratio > 0.0, "--write-ratio"),
            (args.delete_ratio > 0.0, "--delete-ratio"),
            (args.ttl.is_some(), "--ttl"),
        ];
        if let Some((_, flag)) = lost.iter().find(|(set, _)| *set) {
            bail!(
                "{}: oracle-general records hold no op and no TTL, so {flag} would be lost; write csv instead",
                args.output.display()
            );
        }
    }
    if compression == Compression::Xz {
        bail!("{}: cannot write xz-compressed traces (only zstd: .zst, or none)", args.output.display());
    }
    // Everything the writer could refuse is refused before the file is
    // created (or an existing one truncated).
    TraceWriter::new(std::io::sink(), format, compression)
        .with_context(|| format!("{}: cannot write", args.output.display()))?;
    let generator = args.config().build()?;
    let file =
        File::create(&args.output).with_context(|| format!("{}: cannot create", args.output.display()))?;
    let mut writer = TraceWriter::new(BufWriter::with_capacity(1 << 20, file), format, compression)?;
    let bar = progress::items(args.requests, "generating");
    let write_err = |e| anyhow::Error::new(e).context(format!("{}: write failed", args.output.display()));
    for (i, r) in generator.enumerate() {
        writer.write(&r).map_err(write_err)?;
        if i % 65_536 == 0 {
            bar.set_position(i as u64);
        }
    }
    let written = writer.written();
    writer.finish().map_err(write_err)?;
    bar.finish_and_clear();
    let bytes = std::fs::metadata(&args.output).map(|m| m.len()).unwrap_or(0);
    eprintln!("wrote {written} requests ({format}, {bytes} bytes) to {}", args.output.display());
    Ok(())
}
