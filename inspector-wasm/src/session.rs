//! [`Session`]: one loaded trace and the runs over it. Plain Rust, tested
//! natively; [`crate::bindings`] exposes it to JavaScript. Every number comes
//! from `strata-sim` (`replay::run`, `fast::run_hit_ratio_only`, `mrc`).

use serde::Serialize;
use strata_core::policy::eviction::EvictionConfig;
use strata_sim::arrival::Arrivals;
use strata_sim::config::Arrival;
use strata_sim::report::{Mode, Report};
use strata_sim::{SimConfig, fast, replay};

use crate::Progress;
use crate::charts::{self, ChartSvgs};
use crate::curves::{PolicyCurve, policy_curves};
use crate::error::InspectError;
use crate::loaded::{LoadSummary, LoadedTrace};
use crate::params::PageConfig;

/// Arrival rate used for traces without timestamps when the settings ask
/// for trace timestamps.
pub const DEFAULT_RATE_PER_SEC: f64 = 10_000.0;
/// Time-series windows a run is cut into.
pub const WINDOWS: u64 = 120;
/// Up to this many requests × other policies, the policy comparison runs
/// the full engine (with latencies); above it, the hit-ratio-only loop.
pub const FULL_COMPARISON_BUDGET: u64 = 4_000_000;

/// One row of the policy comparison: the run's settings with another policy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyRow {
    /// The policy.
    pub policy: &'static str,
    /// L1 hit ratio.
    pub l1_hit_ratio: f64,
    /// L2 hit ratio (`None`: no L2).
    pub l2_hit_ratio: Option<f64>,
    /// Gets that caused no L3 read.
    pub hit_ratio: f64,
    /// Read latency p50 in µs (`None` in hit-ratio-only mode).
    pub read_p50_us: Option<f64>,
    /// Read latency p99 in µs (`None` in hit-ratio-only mode).
    pub read_p99_us: Option<f64>,
    /// L3 reads.
    pub l3_reads: u64,
    /// The engine that produced the row.
    pub mode: Mode,
}

impl PolicyRow {
    fn of(policy: &'static str, r: &Report) -> Self {
        Self {
            policy,
            l1_hit_ratio: r.l1.hit_ratio,
            l2_hit_ratio: r.l2.as_ref().map(|t| t.hit_ratio),
            hit_ratio: r.hit_ratio,
            read_p50_us: r.read_latency.as_ref().map(|l| l.p50_us),
            read_p99_us: r.read_latency.as_ref().map(|l| l.p99_us),
            l3_reads: r.l3.reads,
            mode: r.mode,
        }
    }
}

/// What a run returns to the page.
#[derive(Clone, Debug, Serialize)]
pub struct RunOutput {
    /// The simulator's report of the settings as given (full engine).
    pub report: Report,
    /// The same settings with every policy.
    pub policies: Vec<PolicyRow>,
    /// Hit ratio against L1 capacity, per policy.
    pub curves: Vec<PolicyCurve>,
    /// The simulator settings used (window and arrivals resolved).
    pub sim: SimConfig,
    /// The charts.
    pub svg: ChartSvgs,
}

/// The inspector's state: a trace and the curves computed over it.
#[derive(Debug, Default)]
pub struct Session {
    trace: Option<LoadedTrace>,
    curves: Option<Vec<PolicyCurve>>,
}

impl Session {
    /// Loads a trace (see [`LoadedTrace::read`]), replacing the previous one.
    ///
    /// # Errors
    /// As [`LoadedTrace::read`]; the previous trace is kept then.
    pub fn load(
        &mut self,
        bytes: &[u8],
        name: &str,
        format: Option<&str>,
        progress: &mut Progress<'_>,
    ) -> Result<&LoadSummary, InspectError> {
        let trace = LoadedTrace::read(bytes, name, format, progress)?;
        self.curves = None;
        Ok(&self.trace.insert(trace).summary)
    }

    /// The loaded trace.
    ///
    /// # Errors
    /// [`InspectError::NoTrace`].
    pub fn trace(&self) -> Result<&LoadedTrace, InspectError> {
        self.trace.as_ref().ok_or(InspectError::NoTrace)
    }

    /// The simulator settings of `cfg` for the loaded trace: a trace without
    /// timestamps arrives at [`DEFAULT_RATE_PER_SEC`] unless a rate is
    /// given, and the time series gets about [`WINDOWS`] windows.
    ///
    /// # Errors
    /// [`InspectError::NoTrace`], or invalid simulator settings.
    pub fn sim_config(&self, cfg: &PageConfig) -> Result<SimConfig, InspectError> {
        let trace = self.trace()?;
        let mut sim = cfg.sim.clone();
        if !trace.summary.has_timestamps && matches!(sim.arrival, Arrival::Trace { .. }) {
            sim.arrival = Arrival::Rate { per_sec: DEFAULT_RATE_PER_SEC };
        }
        let mut arrivals = Arrivals::new(sim.arrival);
        let last_ns = trace.requests.iter().map(|r| arrivals.next(r.time_ns)).last().unwrap_or(0);
        sim.window_ms = (last_ns / 1_000_000).div_ceil(WINDOWS).max(1);
        sim.validate()?;
        Ok(sim)
    }

    /// Runs the settings `cfg` on the loaded trace with the full engine,
    /// then with every other policy, and the miss-ratio curves (computed
    /// once per trace). `progress` gets each phase's advance.
    ///
    /// # Errors
    /// [`InspectError::NoTrace`], or an invalid setting (named).
    pub fn run(&mut self, cfg: &PageConfig, progress: &mut Progress<'_>) -> Result<RunOutput, InspectError> {
        let cache = cfg.cache_config()?;
        let sim = self.sim_config(cfg)?;
        let trace = self.trace.as_ref().ok_or(InspectError::NoTrace)?;
        let requests = &trace.requests;
        let total = requests.len() as u64;
        let report =
            replay::run(&cache, &sim, requests.iter().copied(), |done| progress("replay", done, total))?;

        let others: Vec<EvictionConfig> =
            EvictionConfig::all().into_iter().filter(|p| *p != cache.l1.eviction).collect();
        let full = total.saturating_mul(others.len() as u64) <= FULL_COMPARISON_BUDGET;
        let mut policies = Vec::with_capacity(others.len() + 1);
        policies.push(PolicyRow::of(cache.l1.eviction.name(), &report));
        for (i, policy) in others.into_iter().enumerate() {
            let name = policy.name();
            let phase = format!("comparing {name} ({}/{})", i + 1, policies.capacity() - 1);
            let mut other = cache.clone();
            other.l1.eviction = policy;
            let each = |done| progress(&phase, done, total);
            let r = if full {
                replay::run(&other, &sim, requests.iter().copied(), each)?
            } else {
                fast::run_hit_ratio_only(&other, &sim, requests.iter().copied(), each)?
            };
            policies.push(PolicyRow::of(name, &r));
        }
        let order: Vec<&str> = EvictionConfig::all().iter().map(EvictionConfig::name).collect();
        policies.sort_by_key(|row| order.iter().position(|n| *n == row.policy));

        let curves = match &self.curves {
            Some(c) => c.clone(),
            None => self
                .curves
                .insert(policy_curves(requests, trace.summary.stats.distinct_keys, progress))
                .clone(),
        };
        let svg = charts::render(&report, &curves, cache.l1.capacity.units());
        Ok(RunOutput { report, policies, curves, sim, svg })
    }
}

#[cfg(test)]
mod tests {
    use strata_sim::latency::LatencyConfig;

    use super::*;

    const WEB07: &[u8] = include_bytes!("../../traces/web07.trace.xz");

    fn page(capacity: u64, policy: &str) -> PageConfig {
        PageConfig::from_json(&format!(
            r#"{{"l1_capacity": {capacity}, "policy": "{policy}", "write": "write-through",
                "sim": {{"arrival": {{"mode": "rate", "per_sec": 100}},
                         "latency": {{"l1": {{"dist": "constant", "us": 1}}, "l3_read": {{"dist": "constant", "us": 2000}}}}}}}}"#
        ))
        .unwrap()
    }

    fn web07() -> Session {
        let mut s = Session::default();
        s.load(WEB07, "web07.trace.xz", None, &mut |_, _, _| {}).unwrap();
        s
    }

    #[test]
    fn web07_lru_at_2000_entries_misses_the_published_count() {
        let mut s = web07();
        let mut phases = Vec::new();
        let out = s.run(&page(2000, "lru"), &mut |p, _, _| phases.push(p.to_owned())).unwrap();
        // traces/README.md: LRU at 2,000 entries misses 33,873 of 76,118.
        assert_eq!((out.report.l1.lookups, out.report.l1.misses), (76_118, 33_873));
        assert_eq!(out.report.l3.reads, 33_873);
        assert_eq!(out.policies.len(), EvictionConfig::all().len());
        let lru = out.policies.iter().find(|r| r.policy == "lru").unwrap();
        assert_eq!(*lru, PolicyRow::of("lru", &out.report));
        assert!(out.policies.iter().all(|r| r.mode == Mode::Full && r.read_p99_us.is_some()));
        // 761 s of virtual time in about 120 windows.
        assert_eq!(out.sim.window_ms, 6_344);
        assert!((119..=121).contains(&out.report.series.len()), "{}", out.report.series.len());
        for svg in [&out.svg.hit_ratio, &out.svg.mrc, &out.svg.latency] {
            assert!(svg.contains("class=\"series\"") && svg.contains(" d=\"M"), "{svg}");
        }
        assert!(out.svg.mrc.contains("L1 = 2000"));
        let lru_curve = out.curves.iter().find(|c| c.policy == "lru").unwrap();
        assert!(lru_curve.points.windows(2).all(|w| w[0].hit_ratio <= w[1].hit_ratio));
        assert!(phases.iter().any(|p| p == "replay") && phases.iter().any(|p| p == "LRU curve"));

        // The curves are kept for the next run of the same trace.
        phases.clear();
        let again = s.run(&page(200, "lru"), &mut |p, _, _| phases.push(p.to_owned())).unwrap();
        assert_eq!(again.report.l1.misses, 46_439);
        assert_eq!(again.curves, out.curves);
        assert!(!phases.iter().any(|p| p == "LRU curve"));
    }

    #[test]
    fn traces_without_timestamps_default_to_a_rate() {
        let s = web07();
        let mut cfg = page(2000, "lru");
        cfg.sim.arrival = Arrival::Trace { time_scale: 1.0 };
        let sim = s.sim_config(&cfg).unwrap();
        assert_eq!(sim.arrival, Arrival::Rate { per_sec: DEFAULT_RATE_PER_SEC });
        assert_eq!(sim.window_ms, 64);
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let mut s = Session::default();
        let e = s.run(&page(10, "lru"), &mut |_, _, _| {}).unwrap_err();
        assert!(matches!(e, InspectError::NoTrace));
        let mut s = web07();
        let mut cfg = page(10, "lru");
        cfg.sim.latency.l2 = LatencyConfig::lognormal(500.0, 100.0);
        let e = s.run(&cfg, &mut |_, _, _| {}).unwrap_err().to_string();
        assert!(e.contains("latency.l2"), "{e}");
    }
}
