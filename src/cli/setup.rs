//! What `replay` and `tune` share: the cache and simulator configuration
//! from files and flags, and a trace as a stream of requests whose read
//! error (if any) is kept for the end.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;
use indicatif::ProgressBar;
use strata_core::CacheConfig;
use strata_core::config::Capacity;
use strata_core::policy::eviction::EvictionConfig;
use strata_sim::config::Arrival;
use strata_sim::trace::{ReaderOptions, TraceFormat, TraceReader, detect};
use strata_sim::{Request, SimConfig};

use super::values;

/// Configuration flags shared by `replay` and `tune`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ConfigArgs {
    /// Trace format: csv, oracle-general, twitter, text, cache2k (default: from the file name).
    #[arg(long)]
    pub(crate) format: Option<TraceFormat>,
    /// Cache configuration (the TOML strata-core loads); default: the defaults.
    #[arg(long, value_name = "cache.toml")]
    pub(crate) config: Option<PathBuf>,
    /// Simulator configuration (latencies, instances, arrivals, seed).
    #[arg(long, value_name = "sim.toml")]
    pub(crate) sim: Option<PathBuf>,
    /// Capacities in bytes (object sizes from the trace) instead of entries; a --config file must give its capacities in bytes too.
    #[arg(long)]
    pub(crate) bytes: bool,
    /// Master seed (overrides the simulator file).
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Simulated instances sharing L2, 1 to 1024 (overrides the simulator file).
    #[arg(long, value_parser = values::instances)]
    pub(crate) instances: Option<u32>,
    /// Arrivals at this many requests a second instead of the trace's timestamps.
    #[arg(long, conflicts_with = "time_scale", value_parser = values::rate, allow_negative_numbers = true)]
    pub(crate) rate: Option<f64>,
    /// Multiplier of trace time, 0 to 1000 (0.5: replay twice as fast).
    #[arg(long, value_parser = values::time_scale, allow_negative_numbers = true)]
    pub(crate) time_scale: Option<f64>,
    /// Skip unparsable records (counted and reported) instead of failing.
    #[arg(long)]
    pub(crate) skip_bad: bool,
}

/// `--bytes` applied to a capacity count.
pub(crate) fn capacity(n: u64, bytes: bool) -> Capacity {
    if bytes { Capacity::Bytes(n) } else { Capacity::Entries(n) }
}

/// A policy name, as `--policy` and `--compare` take it.
pub(crate) fn policy(name: &str) -> anyhow::Result<EvictionConfig> {
    name.parse::<EvictionConfig>().map_err(anyhow::Error::new)
}

fn read(path: &Path) -> anyhow::Result<String> {
    fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))
}

/// A `CacheConfig` TOML file, validated; errors name the file and line.
pub(crate) fn cache_file(path: &Path) -> anyhow::Result<CacheConfig> {
    Ok(CacheConfig::from_toml_str(&read(path)?, &path.display().to_string())?)
}

impl ConfigArgs {
    /// The cache configuration: the file, whose capacities keep the unit it
    /// gives them (see [`Self::check_bytes`]), or the defaults, whose
    /// capacities `--bytes` counts in bytes.
    pub(crate) fn cache(&self) -> anyhow::Result<CacheConfig> {
        if let Some(p) = &self.config {
            return cache_file(p);
        }
        let mut cache = CacheConfig::default();
        if self.bytes {
            cache.l1.capacity = Capacity::Bytes(cache.l1.capacity.units());
        }
        Ok(cache)
    }

    /// With `--bytes`, refuses `cache` (the file's, after the flags) if a
    /// capacity is still in entries: `--bytes` does not turn a count of
    /// entries the file gives into bytes.
    pub(crate) fn check_bytes(&self, cache: &CacheConfig) -> anyhow::Result<()> {
        let (true, Some(file)) = (self.bytes, &self.config) else { return Ok(()) };
        let file = file.display();
        if let Capacity::Entries(n) = cache.l1.capacity {
            anyhow::bail!(
                "--bytes: {file} has the L1 capacity in entries ({n}; the default if it sets none): \
                 set capacity = {{ bytes = N }} in its [l1], give --l1-capacity, or drop --bytes"
            );
        }
        if let Some(Capacity::Entries(n)) = cache.l2.as_ref().and_then(|l2| l2.capacity) {
            anyhow::bail!(
                "--bytes: {file} has the L2 capacity in entries ({n}): \
                 set capacity = {{ bytes = N }} in its [l2], or drop --bytes"
            );
        }
        Ok(())
    }

    /// The simulator configuration: the file (or defaults), then the flags.
    /// A trace without timestamps arrives 100,000 requests a second (the
    /// reader's spacing) unless told otherwise.
    pub(crate) fn sim(&self) -> anyhow::Result<SimConfig> {
        let mut sim = match &self.sim {
            Some(p) => SimConfig::from_toml_str(&read(p)?, &p.display().to_string())?,
            // A trace without timestamps arrives at the reader's untimed
            // spacing, 100,000 requests a second (`UNTIMED_SPACING_NS`).
            None => SimConfig::default(),
        };
        if let Some(seed) = self.seed {
            sim.seed = seed;
        }
        if let Some(n) = self.instances {
            sim.instances = n;
        }
        if let Some(per_sec) = self.rate {
            sim.arrival = Arrival::Rate { per_sec };
        }
        if let Some(time_scale) = self.time_scale {
            sim.arrival = Arrival::Trace { time_scale };
        }
        sim.validate()?;
        Ok(sim)
    }
}

/// The first error met while streaming a trace, shared with the reader.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReadError(Arc<Mutex<Option<anyhow::Error>>>);

impl ReadError {
    /// Keeps `e` unless an error is kept already.
    pub(crate) fn set(&self, e: anyhow::Error) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.get_or_insert(e);
    }

    /// `Err` with the error met, if any.
    pub(crate) fn check(&self) -> anyhow::Result<()> {
        match self.0.lock().unwrap_or_else(PoisonError::into_inner).take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// A trace to read one or more times: streamed from its file each time,
/// or, when the file cannot be read twice (a pipe, a FIFO, a process
/// substitution: anything but a regular file), read once into memory.
#[derive(Debug, Clone)]
pub(crate) struct Trace {
    path: PathBuf,
    /// Most requests read (`tune --sample`).
    limit: u64,
    held: Option<Arc<[Request]>>,
}

impl Trace {
    /// The trace at `path`, to be read once: always streamed.
    pub(crate) fn streamed(path: &Path) -> Self {
        Self { path: path.to_owned(), limit: u64::MAX, held: None }
    }

    /// The first `limit` requests of the trace at `path`, to be read more
    /// than once: a regular file is streamed each time; anything else is
    /// read now, into memory (a bad record skipped with `--skip-bad` is
    /// told now).
    ///
    /// # Errors
    /// The file cannot be opened or read, a bad record, or no requests.
    pub(crate) fn rereadable(path: &Path, args: &ConfigArgs, limit: u64) -> anyhow::Result<Self> {
        if super::is_regular_file(path) {
            return Ok(Self { limit, ..Self::streamed(path) });
        }
        let error = ReadError::default();
        let held: Vec<Request> = stream(path, args, &error, &ProgressBar::hidden(), true, limit)?.collect();
        error.check()?;
        Ok(Self { path: path.to_owned(), limit, held: Some(held.into()) })
    }

    /// The requests of the trace (at most its limit), with `bar` following
    /// the file's bytes; a read error ends the stream and is kept in
    /// `error`. With `tell_skipped`, the number of bad records skipped
    /// (`--skip-bad`) is printed when the stream ends (a trace held in
    /// memory told it when it was read).
    pub(crate) fn requests(
        &self,
        args: &ConfigArgs,
        error: &ReadError,
        bar: &ProgressBar,
        tell_skipped: bool,
    ) -> anyhow::Result<impl Iterator<Item = Request> + Send + use<>> {
        Ok(match &self.held {
            Some(held) => Requests::Held(Arc::clone(held), 0),
            None => Requests::Streamed(stream(&self.path, args, error, bar, tell_skipped, self.limit)?),
        })
    }
}

/// The requests of a [`Trace`].
enum Requests<S> {
    Streamed(S),
    /// The requests and the index of the next one.
    Held(Arc<[Request]>, usize),
}

impl<S: Iterator<Item = Request>> Iterator for Requests<S> {
    type Item = Request;

    fn next(&mut self) -> Option<Request> {
        match self {
            Requests::Streamed(s) => s.next(),
            Requests::Held(held, next) => {
                let r = held.get(*next).copied();
                *next += 1;
                r
            }
        }
    }
}

/// The requests of the trace at `path`, streamed, with `bar` following the
/// file's bytes; a read error ends the stream and is kept in `error`. With
/// `tell_skipped`, the number of bad records skipped (`--skip-bad`) is
/// printed when the stream ends, after its end or its `limit`th request.
fn stream(
    path: &Path,
    args: &ConfigArgs,
    error: &ReadError,
    bar: &ProgressBar,
    tell_skipped: bool,
    limit: u64,
) -> anyhow::Result<impl Iterator<Item = Request> + Send + use<>> {
    let (format, compression) = detect(path, args.format)?;
    let file = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    bar.set_length(file.metadata().map(|m| m.len()).unwrap_or(0));
    let opts = ReaderOptions { skip_bad: args.skip_bad };
    let mut reader =
        TraceReader::new(bar.wrap_read(file), format, compression, path.display().to_string(), opts);
    let error = error.clone();
    let path = path.to_owned();
    let mut done = false;
    Ok(std::iter::from_fn(move || {
        if done {
            return None;
        }
        let next = if reader.requests() < limit { reader.next() } else { None };
        match next {
            Some(Ok(r)) => Some(r),
            Some(Err(e)) => {
                error.set(e.into());
                done = true;
                None
            }
            None => {
                done = true;
                if reader.requests() == 0 {
                    error.set(super::no_requests(&path, reader.skipped()));
                } else if let Some(first) = reader.first_skipped().filter(|_| tell_skipped) {
                    eprintln!("skipped {} bad record(s); the first: {first}", reader.skipped());
                }
                None
            }
        }
    }))
}
