//! The coordinate-descent search and the evaluation of candidates.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use strata_core::CacheConfig;
use strata_core::config::Capacity;

use super::{Candidate, Constraints, Metrics, Objective, TuneResult, TuneSpec, frontier};
use crate::error::{Result, SimError};
use crate::report::{Report, round6};
use crate::trace::Request;

/// A re-openable trace: every call streams the requests from the start.
pub type RequestSource<'a> = dyn Fn() -> Box<dyn Iterator<Item = Request> + 'a> + Sync + 'a;

/// The settings the search moves, each an index into its list in the space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Knobs([usize; DIMS]);

const DIMS: usize = 9;
const POLICY: usize = 0;
const L1_SIZE: usize = 1;
const L2_SIZE: usize = 2;
const L1_TTL: usize = 3;
const L2_TTL: usize = 4;
const STRATEGY: usize = 5;
const REFRESH: usize = 6;
const NEGATIVE_TTL: usize = 7;
const L2_NEGATIVE_TTL: usize = 8;

fn scaled(budget: Capacity, fraction: f64) -> Capacity {
    let n = ((budget.units() as f64 * fraction).round() as u64).max(1);
    match budget {
        Capacity::Entries(_) => Capacity::Entries(n),
        Capacity::Bytes(_) => Capacity::Bytes(n),
    }
}

impl TuneSpec {
    fn dim_len(&self, dim: usize) -> usize {
        let s = &self.space;
        let has_l2 = self.l2_budget.is_some();
        match dim {
            POLICY => s.policies.len(),
            L1_SIZE => s.l1_fractions.len(),
            L2_SIZE if has_l2 => s.l2_fractions.len(),
            L1_TTL => s.l1_ttls.len(),
            L2_TTL if has_l2 => s.l2_ttls.len(),
            STRATEGY => s.strategies.len(),
            REFRESH => s.refresh.len(),
            NEGATIVE_TTL => s.negative_ttls.len().max(1),
            L2_NEGATIVE_TTL if has_l2 => s.l2_negative_ttls.len().max(1),
            _ => 1,
        }
    }

    fn check(&self) -> Result<()> {
        let s = &self.space;
        let empty = |name: &str, len: usize| {
            if len == 0 {
                Err(SimError::config(format!("space.{name}"), "must list at least one value"))
            } else {
                Ok(())
            }
        };
        empty("policies", s.policies.len())?;
        empty("l1_fractions", s.l1_fractions.len())?;
        empty("l1_ttls", s.l1_ttls.len())?;
        empty("strategies", s.strategies.len())?;
        empty("refresh", s.refresh.len())?;
        if self.l2_budget.is_some() {
            empty("l2_fractions", s.l2_fractions.len())?;
            empty("l2_ttls", s.l2_ttls.len())?;
        }
        let fractions = s.l1_fractions.iter().chain(&s.l2_fractions);
        if let Some(f) = fractions.copied().find(|f| !(f.is_finite() && (0.0..=1.0).contains(f))) {
            return Err(SimError::config("space.fractions", format!("must be in [0, 1], got {f}")));
        }
        for (name, list) in [("negative_ttls", &s.negative_ttls), ("l2_negative_ttls", &s.l2_negative_ttls)] {
            if list.contains(&Some(std::time::Duration::ZERO)) {
                return Err(SimError::config(
                    format!("space.{name}"),
                    "0 ms is not a negative TTL (None: absent keys are not remembered)",
                ));
            }
        }
        if self.l1_budget.units() == 0 {
            return Err(SimError::config("l1_budget", "must be at least 1"));
        }
        if self.l2_budget.is_some_and(|b| b.units() == 0) {
            return Err(SimError::config("l2_budget", "must be at least 1"));
        }
        if !matches!(
            (self.l1_budget, self.l2_budget),
            (_, None)
                | (Capacity::Entries(_), Some(Capacity::Entries(_)))
                | (Capacity::Bytes(_), Some(Capacity::Bytes(_)))
        ) {
            return Err(SimError::config(
                "l2_budget",
                "must count the same unit (entries or bytes) as l1_budget",
            ));
        }
        self.constraints.check()?;
        self.sim.validate()?;
        self.base.validate()?;
        Ok(())
    }

    /// The knobs of the base configuration (first values where it has none of the space's).
    fn start(&self) -> Knobs {
        let s = &self.space;
        let find = |found: Option<usize>| found.unwrap_or(0);
        let mut k = [0; DIMS];
        k[POLICY] = find(s.policies.iter().position(|p| *p == self.base.l1.eviction));
        k[L1_SIZE] = find(s.l1_fractions.iter().position(|&f| f == 1.0));
        k[L2_SIZE] = find(s.l2_fractions.iter().position(|&f| f == 1.0));
        k[L1_TTL] = find(s.l1_ttls.iter().position(|t| *t == self.base.l1.ttl));
        k[L2_TTL] = find(s.l2_ttls.iter().position(|t| Some(*t) == self.base.l2.as_ref().map(|l| l.ttl)));
        k[STRATEGY] = find(s.strategies.iter().position(|w| *w == self.base.write.strategy));
        k[REFRESH] = find(s.refresh.iter().position(|r| *r == self.base.refresh.enabled));
        k[NEGATIVE_TTL] = find(s.negative_ttls.iter().position(|t| *t == self.base.l1.negative_ttl));
        let base_l2_negative = self.base.l2.as_ref().and_then(|l| l.negative_ttl);
        k[L2_NEGATIVE_TTL] = find(s.l2_negative_ttls.iter().position(|t| *t == base_l2_negative));
        Knobs(k)
    }

    /// The configuration of `k` as `strata-core` will load it from the
    /// written TOML (what is evaluated is exactly what is written).
    fn config(&self, k: Knobs) -> CacheConfig {
        let c = self.raw_config(k);
        match c.to_toml_string().and_then(|t| CacheConfig::from_toml_str(&t, "<candidate>")) {
            Ok(loaded) => loaded,
            Err(_) => c,
        }
    }

    fn raw_config(&self, k: Knobs) -> CacheConfig {
        let s = &self.space;
        let mut c = self.base.clone();
        c.l1.eviction = s.policies[k.0[POLICY]].clone();
        c.l1.capacity = scaled(self.l1_budget, s.l1_fractions[k.0[L1_SIZE]]);
        c.l1.ttl = s.l1_ttls[k.0[L1_TTL]];
        c.l2 = match self.l2_budget {
            Some(budget) if s.l2_fractions[k.0[L2_SIZE]] > 0.0 => {
                let mut l2 = self.base.l2.clone().unwrap_or_default();
                l2.capacity = Some(scaled(budget, s.l2_fractions[k.0[L2_SIZE]]));
                l2.ttl = s.l2_ttls[k.0[L2_TTL]];
                if let Some(&t) = s.l2_negative_ttls.get(k.0[L2_NEGATIVE_TTL]) {
                    l2.negative_ttl = t;
                }
                Some(l2)
            }
            _ => None,
        };
        c.write.strategy = s.strategies[k.0[STRATEGY]];
        c.refresh.enabled = s.refresh[k.0[REFRESH]];
        if let Some(&t) = s.negative_ttls.get(k.0[NEGATIVE_TTL]) {
            c.l1.negative_ttl = t;
        }
        c
    }

    fn metrics(&self, c: &CacheConfig, r: &Report) -> Metrics {
        let l1 = c.l1.capacity.units() as f64 / self.l1_budget.units() as f64;
        let l2 = match (self.l2_budget, c.l2.as_ref().and_then(|l| l.capacity)) {
            (Some(b), Some(cap)) => cap.units() as f64 / b.units() as f64,
            _ => 0.0,
        };
        let l3_qps_mean = r.l3.qps_mean;
        let no_cache_qps = if r.duration_s > 0.0 { r.requests as f64 / r.duration_s } else { 0.0 };
        let w = match self.objective {
            Objective::Cost(w) => w,
            _ => super::CostWeights::default(),
        };
        let l3_share = if no_cache_qps > 0.0 { l3_qps_mean / no_cache_qps } else { 0.0 };
        Metrics {
            read_p99_us: r.read_latency.as_ref().map_or(0.0, |l| l.p99_us),
            write_p99_us: r.write_latency.as_ref().map_or(0.0, |l| l.p99_us),
            l3_qps_mean,
            l3_qps_peak: warm_peak(r),
            stale_ratio: r.staleness.stale_ratio,
            max_stale_age_ms: r.staleness.max_stale_age_ms,
            error_ratio: crate::report::ratio(errors(r), r.requests),
            hit_ratio: r.hit_ratio,
            memory: round6(l1 + l2),
            cost: round6(w.l1 * l1 + w.l2 * l2 + w.l3 * l3_share),
        }
    }
}

/// Requests that failed their caller: gets and writes answered with an
/// error, writes that gave up waiting for room, and acknowledged writes
/// never written to L3 by the shutdown deadline.
fn errors(r: &Report) -> u64 {
    let (f, w) = (&r.failures, &r.write_queue);
    f.failed_reads + f.write_errors + w.failed + w.unflushed
}

/// The busiest window's L3 requests per second once the caches are warm:
/// windows starting after the first tenth of the run (a cold start sends
/// every first read to L3).
fn warm_peak(r: &Report) -> f64 {
    let warm_from = r.duration_s * 1000.0 / 10.0;
    let warm = r.series.iter().filter(|p| p.t_ms as f64 >= warm_from).map(|p| p.l3_qps);
    warm.fold(None, |m: Option<f64>, q| Some(m.map_or(q, |m| m.max(q)))).unwrap_or(r.l3.qps_peak)
}

fn violations(c: &Constraints, m: &Metrics) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(slo) = c.p99_ms.filter(|&slo| m.read_p99_us / 1000.0 > slo) {
        v.push(format!("read p99 {:.3} ms > {slo} ms", m.read_p99_us / 1000.0));
    }
    if let Some(max) = c.max_stale_ratio.filter(|&max| m.stale_ratio > max) {
        v.push(format!("stale reads {:.4}% > {}%", m.stale_ratio * 100.0, max * 100.0));
    }
    if let Some(max) = c.max_stale_age_ms.filter(|&max| m.max_stale_age_ms > max) {
        v.push(format!("stale age {:.1} ms > {max} ms", m.max_stale_age_ms));
    }
    if let Some(max) = c.max_error_ratio.filter(|&max| m.error_ratio > max) {
        v.push(format!("errors {:.4}% > {}%", m.error_ratio * 100.0, max * 100.0));
    }
    if let Some(max) = c.l3_qps.filter(|&max| m.l3_qps_peak > max) {
        v.push(format!("L3 peak {:.1} req/s > {max} req/s", m.l3_qps_peak));
    }
    v
}

/// How far `m` is outside the constraints (0 when feasible), each term relative to its limit.
fn excess(c: &Constraints, m: &Metrics) -> f64 {
    let rel = |value: f64, limit: Option<f64>| match limit {
        Some(l) if value > l => (value - l) / l.max(1e-9),
        _ => 0.0,
    };
    rel(m.read_p99_us / 1000.0, c.p99_ms)
        + rel(m.stale_ratio, c.max_stale_ratio)
        + rel(m.max_stale_age_ms, c.max_stale_age_ms)
        + rel(m.l3_qps_peak, c.l3_qps)
        + rel(m.error_ratio, c.max_error_ratio)
}

fn objective_value(o: Objective, m: &Metrics) -> f64 {
    match o {
        Objective::P99 => m.read_p99_us,
        Objective::L3Load => m.l3_qps_mean,
        Objective::Cost(_) => m.cost,
    }
}

/// Orders candidates best first: feasible before infeasible (less excess
/// first), then the objective, then cost, memory and evaluation order.
fn compare(spec: &TuneSpec, cands: &[Candidate], a: usize, b: usize) -> Ordering {
    let (x, y) = (&cands[a], &cands[b]);
    let key = |c: &Candidate| {
        [
            excess(&spec.constraints, &c.metrics),
            objective_value(spec.objective, &c.metrics),
            c.metrics.cost,
            c.metrics.memory,
        ]
    };
    let (kx, ky) = (key(x), key(y));
    kx.iter().zip(&ky).map(|(p, q)| p.total_cmp(q)).find(|o| o.is_ne()).unwrap_or_else(|| a.cmp(&b))
}

/// Replays the trace through each configuration (in parallel on native
/// targets), in order.
fn evaluate(configs: &[CacheConfig], spec: &TuneSpec, source: &RequestSource<'_>) -> Vec<Result<Report>> {
    let one = |c: &CacheConfig| crate::replay::run(c, &spec.sim, source(), |_| {});
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
        let threads =
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).min(configs.len());
        if threads > 1 {
            let next = AtomicUsize::new(0);
            let mut done: Vec<(usize, Result<Report>)> = std::thread::scope(|scope| {
                let workers: Vec<_> = (0..threads)
                    .map(|_| {
                        scope.spawn(|| {
                            let mut out = Vec::new();
                            loop {
                                let i = next.fetch_add(1, AtomicOrdering::Relaxed);
                                let Some(c) = configs.get(i) else { break };
                                out.push((i, one(c)));
                            }
                            out
                        })
                    })
                    .collect();
                workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
            });
            done.sort_by_key(|(i, _)| *i);
            if done.len() == configs.len() {
                return done.into_iter().map(|(_, r)| r).collect();
            }
            // A worker panicked: fall back to running everything here.
        }
    }
    configs.iter().map(one).collect()
}

struct Search<'s, 'a> {
    spec: &'s TuneSpec,
    source: &'s RequestSource<'a>,
    candidates: Vec<Candidate>,
    seen: BTreeMap<String, usize>,
}

impl Search<'_, '_> {
    fn key(c: &CacheConfig) -> String {
        c.to_toml_string().unwrap_or_else(|_| format!("{c:?}"))
    }

    /// The candidate indices of `knobs`, evaluating those not seen yet.
    fn indices(&mut self, knobs: &[Knobs], progress: &dyn Fn(usize)) -> Result<Vec<usize>> {
        let configs: Vec<CacheConfig> = knobs.iter().map(|&k| self.spec.config(k)).collect();
        let keys: Vec<String> = configs.iter().map(Self::key).collect();
        let mut fresh: Vec<(CacheConfig, String)> = Vec::new();
        for (c, k) in configs.iter().zip(&keys) {
            if !self.seen.contains_key(k) && !fresh.iter().any(|(_, f)| f == k) {
                fresh.push((c.clone(), k.clone()));
            }
        }
        let to_run: Vec<CacheConfig> = fresh.iter().map(|(c, _)| c.clone()).collect();
        let reports = evaluate(&to_run, self.spec, self.source);
        for ((config, key), report) in fresh.into_iter().zip(reports) {
            let metrics = self.spec.metrics(&config, &report?);
            let violations = violations(&self.spec.constraints, &metrics);
            self.seen.insert(key, self.candidates.len());
            self.candidates.push(Candidate { config, metrics, violations });
            progress(self.candidates.len());
        }
        Ok(keys.iter().map(|k| self.seen.get(k).copied().unwrap_or(0)).collect())
    }
}

/// Searches `spec.space` for the best configuration on the trace `source`
/// streams; `progress` gets the number of candidates evaluated so far.
///
/// # Errors
/// [`SimError::Config`] when the spec is invalid (empty value lists,
/// fractions outside [0, 1], zero or mixed-unit budgets, invalid configs).
pub fn tune(spec: &TuneSpec, source: &RequestSource<'_>, progress: &dyn Fn(usize)) -> Result<TuneResult> {
    spec.check()?;
    let mut search = Search { spec, source, candidates: Vec::new(), seen: BTreeMap::new() };
    let mut current = spec.start();
    let mut current_idx = search.indices(&[current], progress)?[0];
    let mut rounds = 0;
    while rounds < spec.max_rounds.max(1) {
        rounds += 1;
        let mut changed = false;
        for dim in 0..DIMS {
            let variants: Vec<Knobs> = (0..spec.dim_len(dim))
                .map(|v| {
                    let mut k = current;
                    k.0[dim] = v;
                    k
                })
                .filter(|k| *k != current)
                .collect();
            if variants.is_empty() {
                continue;
            }
            let idx = search.indices(&variants, progress)?;
            let best = variants
                .iter()
                .zip(&idx)
                .min_by(|a, b| compare(spec, &search.candidates, *a.1, *b.1))
                .map(|(k, &i)| (*k, i));
            if let Some((k, i)) = best
                && compare(spec, &search.candidates, i, current_idx) == Ordering::Less
            {
                current = k;
                current_idx = i;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let all: Vec<usize> = (0..search.candidates.len()).collect();
    let feasible: Vec<usize> = all.iter().copied().filter(|&i| search.candidates[i].is_feasible()).collect();
    let frontier = frontier(&search.candidates, if feasible.is_empty() { &all } else { &feasible });
    Ok(TuneResult {
        objective: spec.objective,
        constraints: spec.constraints.clone(),
        candidates: search.candidates,
        frontier,
        best: current_idx,
        rounds,
    })
}

#[cfg(test)]
mod tests {
    use strata_core::CacheConfig;

    use super::warm_peak;
    use crate::SimConfig;
    use crate::config::Arrival;
    use crate::generate::{GenConfig, KeyDist};

    #[test]
    fn the_l3_peak_leaves_the_cold_start_out() {
        let reqs: Vec<_> = GenConfig {
            dist: KeyDist::Zipf { alpha: 1.0 },
            keys: 2_000,
            requests: 20_000,
            ..GenConfig::default()
        }
        .build()
        .unwrap()
        .collect();
        let sim = SimConfig { arrival: Arrival::Rate { per_sec: 2_000.0 }, ..SimConfig::default() };
        let r = crate::replay::run(&CacheConfig::default(), &sim, reqs, |_| {}).unwrap();
        // 10 s of windows; the first (every read a cold miss) is the busiest
        assert_eq!(r.l3.qps_peak, r.series[0].l3_qps);
        let warm = warm_peak(&r);
        assert!(warm < r.l3.qps_peak / 2.0, "{warm} vs {}", r.l3.qps_peak);
        assert_eq!(warm, r.series[1..].iter().map(|p| p.l3_qps).fold(0.0, f64::max));
    }
}
