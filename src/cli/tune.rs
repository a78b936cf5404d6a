//! `strata tune`: searches capacities, TTLs, eviction policy, write strategy
//! and refresh-ahead under budgets and constraints, prints the Pareto
//! frontier and writes the winner as the `CacheConfig` TOML strata-core loads.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, bail};
use clap::ValueEnum;
use strata_core::CacheConfig;
use strata_core::config::Capacity;
use strata_sim::Request;
use strata_sim::tune::{Constraints, CostWeights, Objective, SearchSpace, TuneSpec, tune};

use super::setup::{ConfigArgs, ReadError, Trace, policy};
use super::{progress, values};

/// What to minimise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Goal {
    /// Read p99 latency.
    P99,
    /// Mean L3 requests per second.
    L3Load,
    /// Weighted memory and L3 load (`--cost-weights`).
    Cost,
}

/// `strata tune` options.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The trace (format from the file name unless --format; .zst and .xz are decompressed).
    trace: PathBuf,
    #[command(flatten)]
    config: ConfigArgs,
    /// Largest L1 per instance: entries (bytes with --bytes), or a size such as 64MiB.
    #[arg(long)]
    l1_budget: String,
    /// Largest L2 (entries, or bytes like 1GiB); without it candidates have no L2.
    #[arg(long)]
    l2_budget: Option<String>,
    /// Read p99 must stay under this many milliseconds.
    #[arg(long)]
    p99_slo_ms: Option<f64>,
    /// Most stale reads: a fraction (0.001) or percentage (0.1%) of reads, or
    /// an age (250ms, 2s) no stale read may exceed.
    #[arg(long)]
    max_staleness: Option<String>,
    /// Most L3 requests per second (busiest window).
    #[arg(long)]
    l3_qps_limit: Option<f64>,
    /// Most requests answered with an error, when the simulator file makes
    /// L3 fail: a fraction (0.001) or percentage (0.1%) of requests.
    #[arg(long)]
    max_errors: Option<String>,
    /// What to minimise.
    #[arg(long, value_enum, default_value_t = Goal::P99)]
    objective: Goal,
    /// Weights of the cost objective (--objective cost), each finite and at least 0, e.g. l1=1,l2=0.5,l3=1.
    #[arg(long, value_delimiter = ',')]
    cost_weights: Vec<String>,
    /// Eviction policies to consider (comma-separated; default: all).
    #[arg(long, value_delimiter = ',', value_parser = values::policy)]
    policies: Vec<String>,
    /// Negative TTLs to consider, in ms (comma-separated; 0: absent keys
    /// not remembered); default: the base configuration's, not searched.
    #[arg(long, value_delimiter = ',', value_name = "MS")]
    negative_ttls: Vec<u64>,
    /// L2 negative TTLs to consider, in ms (comma-separated; 0: L2 keeps
    /// no absent keys; at most 100 years), for candidates with an L2;
    /// default: the base configuration's, not searched.
    #[arg(long, value_delimiter = ',', value_name = "MS", value_parser = values::l2_ttl_ms)]
    l2_negative_ttls: Vec<u64>,
    /// Most rounds of the search (at least 1).
    #[arg(long, default_value_t = 3, value_parser = values::at_least_one::<usize>)]
    rounds: usize,
    /// Tune on the first N requests only (faster on large traces; at least 1).
    #[arg(long, value_parser = values::at_least_one::<u64>)]
    sample: Option<u64>,
    /// Write the winning configuration here (TOML strata-core loads). When
    /// no candidate meets every constraint nothing is written (nor printed)
    /// and tune exits non-zero.
    #[arg(short, long, value_name = "tuned.toml")]
    output: Option<PathBuf>,
    /// Print the whole search (every candidate, frontier, winner) as JSON.
    #[arg(long)]
    json: bool,
}

/// Parses a budget: a whole count, or a byte size with a unit (B, KB, MB,
/// GB, KiB, MiB, GiB; it must come to whole bytes). Returns the number and
/// whether it is in bytes.
///
/// # Errors
/// Not a number, a fractional count or byte size, an unknown unit, or more than
/// `u64::MAX`.
fn budget(text: &str, flag: &str) -> anyhow::Result<(u64, bool)> {
    /// 2^64: the first value a `u64` cannot hold.
    const TOO_LARGE: f64 = 18_446_744_073_709_551_616.0;
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().with_context(|| format!("{flag}: `{text}` is not a number"))?;
    let too_large =
        || anyhow::anyhow!("{flag}: `{text}` is too large (at most {} entries or bytes)", u64::MAX);
    if n == 0.0 {
        bail!("{flag}: must be at least 1 (entry or byte)");
    }
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" => {
            if let Ok(count) = num.parse::<u64>() {
                return Ok((count, false));
            }
            if n.fract() != 0.0 {
                bail!("{flag}: `{text}` is not a whole number (of entries, or of bytes with --bytes)");
            }
            if n >= TOO_LARGE {
                return Err(too_large());
            }
            return Ok((n as u64, false));
        }
        "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "kib" | "k" => 1024.0,
        "mib" | "m" => 1024.0 * 1024.0,
        "gib" | "g" => 1024.0 * 1024.0 * 1024.0,
        other => bail!("{flag}: unknown unit `{other}` in `{text}` (B, KB, MB, GB, KiB, MiB, GiB)"),
    };
    let exact = n * mult;
    let bytes = exact.round();
    // Decimal fractions like `0.1MB` carry float error; a fraction of a
    // byte beyond that is the user's and is refused, not rounded.
    if (exact - bytes).abs() > 1e-9 * exact.max(1.0) {
        bail!("{flag}: `{text}` is {exact} bytes, not a whole number of bytes");
    }
    if bytes >= TOO_LARGE {
        return Err(too_large());
    }
    Ok((bytes as u64, true))
}

/// `--max-staleness`: a ratio in [0, 1], a percentage in [0, 100] or a
/// finite age of at least 0.
fn staleness(text: &str, c: &mut Constraints) -> anyhow::Result<()> {
    let t = text.trim();
    let bad = || {
        format!("--max-staleness: `{text}` is not a fraction (0.01), a percentage (1%) or an age (250ms, 2s)")
    };
    let age = |n: f64| {
        if !(n.is_finite() && n >= 0.0) {
            bail!("--max-staleness: an age must be finite and at least 0, got `{text}`");
        }
        Ok(n)
    };
    if let Some(ms) = t.strip_suffix("ms") {
        c.max_stale_age_ms = Some(age(ms.trim().parse::<f64>().with_context(bad)?)?);
    } else if let Some(s) = t.strip_suffix('s') {
        c.max_stale_age_ms = Some(age(s.trim().parse::<f64>().with_context(bad)? * 1000.0)?);
    } else {
        c.max_stale_ratio = Some(share(text, "--max-staleness", bad)?);
    }
    Ok(())
}

/// A share given to `flag`: a fraction in [0, 1] or a percentage in [0, 100]
/// (`bad` says what else it may be).
fn share(text: &str, flag: &str, bad: impl Fn() -> String) -> anyhow::Result<f64> {
    let t = text.trim();
    if let Some(p) = t.strip_suffix('%') {
        let p = p.trim().parse::<f64>().with_context(bad)?;
        if !(0.0..=100.0).contains(&p) {
            bail!("{flag}: a percentage must be in [0, 100], got `{text}`");
        }
        return Ok(p / 100.0);
    }
    let r: f64 = t.parse().with_context(bad)?;
    if !(0.0..=1.0).contains(&r) {
        bail!("{flag}: a fraction must be in [0, 1], got {r}");
    }
    Ok(r)
}

/// `flag`'s value, if any, checked to be finite and above 0.
fn positive(value: Option<f64>, flag: &str) -> anyhow::Result<Option<f64>> {
    match value {
        Some(v) if !(v.is_finite() && v > 0.0) => bail!("{flag}: must be a finite number above 0, got {v}"),
        _ => Ok(value),
    }
}

fn weights(items: &[String]) -> anyhow::Result<CostWeights> {
    let mut w = CostWeights::default();
    for item in items {
        let (k, v) =
            item.split_once('=').with_context(|| format!("--cost-weights: `{item}` is not name=value"))?;
        let v: f64 = v.trim().parse().with_context(|| format!("--cost-weights: `{v}` is not a number"))?;
        if !(v.is_finite() && v >= 0.0) {
            bail!("--cost-weights: `{item}`: a weight must be a finite number at least 0");
        }
        match k.trim() {
            "l1" => w.l1 = v,
            "l2" => w.l2 = v,
            "l3" => w.l3 = v,
            other => bail!("--cost-weights: unknown term `{other}` (l1, l2, l3)"),
        }
    }
    Ok(w)
}

fn write_config(path: &Path, config: &CacheConfig) -> anyhow::Result<()> {
    let text = config.to_toml_string()?;
    fs::write(path, &text).with_context(|| format!("{}: cannot write", path.display()))?;
    let back = CacheConfig::from_toml_str(&fs::read_to_string(path)?, &path.display().to_string())?;
    if back != *config {
        bail!("{}: the written configuration does not load back unchanged", path.display());
    }
    Ok(())
}

/// Runs `strata tune`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let base = args.config.cache()?;
    let sim = args.config.sim()?;
    let (l1, l1_bytes) = budget(&args.l1_budget, "--l1-budget")?;
    let l2 = args.l2_budget.as_deref().map(|b| budget(b, "--l2-budget")).transpose()?;
    if let Some((_, l2_bytes)) = l2
        && l1_bytes != l2_bytes
        && !args.config.bytes
    {
        bail!("--l1-budget and --l2-budget must both be entry counts or both be sizes (or pass --bytes)");
    }
    let bytes = args.config.bytes || l1_bytes || l2.is_some_and(|(_, b)| b);
    let cap = |n: u64| if bytes { Capacity::Bytes(n) } else { Capacity::Entries(n) };
    let mut constraints = Constraints {
        p99_ms: positive(args.p99_slo_ms, "--p99-slo-ms")?,
        l3_qps: positive(args.l3_qps_limit, "--l3-qps-limit")?,
        ..Constraints::default()
    };
    if let Some(s) = &args.max_staleness {
        staleness(s, &mut constraints)?;
    }
    if let Some(s) = &args.max_errors {
        let bad = || format!("--max-errors: `{s}` is not a fraction (0.001) or a percentage (0.1%)");
        constraints.max_error_ratio = Some(share(s, "--max-errors", bad)?);
    }
    if args.objective != Goal::Cost && !args.cost_weights.is_empty() {
        bail!("--cost-weights: only the cost objective has weights (add --objective cost)");
    }
    let objective = match args.objective {
        Goal::P99 => Objective::P99,
        Goal::L3Load => Objective::L3Load,
        Goal::Cost => Objective::Cost(weights(&args.cost_weights)?),
    };
    let mut space = SearchSpace::default();
    if !args.policies.is_empty() {
        space.policies = args.policies.iter().map(|p| policy(p)).collect::<anyhow::Result<_>>()?;
    }
    let ttls =
        |ms: &[u64]| ms.iter().map(|&ms| (ms > 0).then(|| std::time::Duration::from_millis(ms))).collect();
    space.negative_ttls = ttls(&args.negative_ttls);
    space.l2_negative_ttls = ttls(&args.l2_negative_ttls);
    let spec = TuneSpec {
        base,
        sim,
        l1_budget: cap(l1),
        l2_budget: l2.map(|(n, _)| cap(n)),
        constraints,
        objective,
        space,
        max_rounds: args.rounds,
    };
    // Every candidate reads the trace (its first --sample requests): a pipe
    // is read once, into memory.
    let trace = Trace::rereadable(&args.trace, &args.config, args.sample.unwrap_or(u64::MAX))?;
    // Open once up front: a missing file or unknown format fails here, cleanly.
    let error = ReadError::default();
    drop(trace.requests(&args.config, &error, &indicatif::ProgressBar::hidden(), false)?);
    // The first read tells the bad records it skipped (--skip-bad); the
    // others skip the same ones.
    let told = AtomicBool::new(false);
    let source = || -> Box<dyn Iterator<Item = Request>> {
        let tell = !told.swap(true, Ordering::Relaxed);
        match trace.requests(&args.config, &error, &indicatif::ProgressBar::hidden(), tell) {
            Ok(r) => Box::new(r),
            Err(e) => {
                error.set(e);
                Box::new(std::iter::empty())
            }
        }
    };
    let bar = progress::counter("candidates", "tuning");
    let result = tune(&spec, &source, &|n| bar.set_position(n as u64));
    bar.finish_and_clear();
    error.check()?;
    let result = result?;
    let winner = result.winner();
    // A configuration that breaks a constraint is not shipped: the search
    // is shown, but nothing is written and the exit status says so.
    let feasible = result.is_feasible();
    if feasible && let Some(path) = &args.output {
        write_config(path, &winner.config)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", result.to_table());
        match &args.output {
            Some(p) if feasible => println!("wrote {}", p.display()),
            Some(_) => {}
            None if feasible => print!("\n{}", winner.config.to_toml_string()?),
            None => {}
        }
    }
    if !feasible {
        let written = match &args.output {
            Some(p) => format!("{} not written", p.display()),
            None => "no configuration printed".to_owned(),
        };
        bail!(
            "no candidate meets every constraint (closest #{}: {}); {written}",
            result.best,
            winner.violations.join("; ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_and_staleness_parse() {
        assert_eq!(budget("10000", "x").unwrap(), (10_000, false));
        assert_eq!(budget("64MiB", "x").unwrap(), (64 << 20, true));
        assert_eq!(budget("1.5 GB", "x").unwrap(), (1_500_000_000, true));
        assert!(budget("12 parsecs", "x").unwrap_err().to_string().contains("unknown unit"));
        let mut c = Constraints::default();
        staleness("0.5%", &mut c).unwrap();
        assert_eq!(c.max_stale_ratio, Some(0.005));
        staleness("250ms", &mut c).unwrap();
        assert_eq!(c.max_stale_age_ms, Some(250.0));
        staleness("2s", &mut c).unwrap();
        assert_eq!(c.max_stale_age_ms, Some(2000.0));
        assert!(staleness("3", &mut c).is_err());
        assert!(staleness("soon", &mut c).is_err());
        let bad = || "not a share".to_owned();
        assert_eq!(share("0.1%", "--max-errors", bad).unwrap(), 0.001);
        assert_eq!(share("0.02", "--max-errors", bad).unwrap(), 0.02);
        let e = share("150%", "--max-errors", bad).unwrap_err().to_string();
        assert_eq!(e, "--max-errors: a percentage must be in [0, 100], got `150%`");
        assert!(share("lots", "--max-errors", bad).is_err());
        let w = weights(&["l2=2".into(), "l3=0.1".into()]).unwrap();
        assert_eq!((w.l1, w.l2, w.l3), (1.0, 2.0, 0.1));
        assert!(weights(&["l4=1".into()]).is_err());
        for bad in ["l1=nan", "l2=inf", "l3=-1", "l1=-inf"] {
            let e = weights(&[bad.into()]).unwrap_err().to_string();
            assert_eq!(e, format!("--cost-weights: `{bad}`: a weight must be a finite number at least 0"));
        }
        assert_eq!(weights(&["l1=0".into()]).unwrap().l1, 0.0);
    }

    #[test]
    fn budgets_refuse_fractional_counts_and_overflow() {
        let err = |text: &str| budget(text, "--l1-budget").unwrap_err().to_string();
        assert!(err("2.6").contains("--l1-budget: `2.6` is not a whole number"), "{}", err("2.6"));
        for big in ["99999999999999999999999", "18446744073709551616", "99999999999999999999999GiB"] {
            assert!(err(big).contains(&format!("--l1-budget: `{big}` is too large")), "{}", err(big));
        }
        assert_eq!(budget("18446744073709551615", "x").unwrap(), (u64::MAX, false));
        assert_eq!(budget("10.0", "x").unwrap(), (10, false));
        assert_eq!(budget("1.5KiB", "x").unwrap(), (1536, true));
        assert_eq!(budget("0.1MB", "x").unwrap(), (100_000, true));
        assert_eq!(budget("1.3GB", "x").unwrap(), (1_300_000_000, true));
        assert!(
            err("1.5B").contains("--l1-budget: `1.5B` is 1.5 bytes, not a whole number of bytes"),
            "{}",
            err("1.5B")
        );
        assert!(err("1.0001KB").contains("not a whole number of bytes"), "{}", err("1.0001KB"));
        for zero in ["0", "0MiB", "0.0"] {
            assert_eq!(err(zero), "--l1-budget: must be at least 1 (entry or byte)");
        }
    }

    #[test]
    fn constraints_out_of_range_are_refused_naming_the_flag() {
        for text in ["150%", "-1%", "NaN%", "-5ms", "NaNms", "infms", "-2s", "NaNs"] {
            let mut c = Constraints::default();
            let err = staleness(text, &mut c).unwrap_err().to_string();
            assert!(err.starts_with("--max-staleness:"), "{text}: {err}");
        }
        let mut c = Constraints::default();
        staleness("100%", &mut c).unwrap();
        staleness("0ms", &mut c).unwrap();
        assert_eq!((c.max_stale_ratio, c.max_stale_age_ms), (Some(1.0), Some(0.0)));
        for v in [f64::NAN, f64::INFINITY, 0.0, -1.0] {
            let err = positive(Some(v), "--p99-slo-ms").unwrap_err().to_string();
            assert!(err.starts_with("--p99-slo-ms: must be a finite number above 0"), "{err}");
        }
        assert_eq!(positive(Some(2.5), "--l3-qps-limit").unwrap(), Some(2.5));
        assert_eq!(positive(None, "--l3-qps-limit").unwrap(), None);
    }
}
