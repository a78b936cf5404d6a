//! The tuner: searches L1/L2 capacities, TTLs, the eviction policy, the
//! write strategy and refresh-ahead for the configuration that best meets
//! an objective under the user's constraints, by replaying the trace once
//! per candidate through the full simulator.
//!
//! The search is a coordinate descent over a [`SearchSpace`]: starting from
//! the largest caches the budgets allow, each round tries every value of one
//! setting at a time (the candidates of a step run in parallel on native
//! targets), keeps the best, and stops when a round changes nothing. Every
//! candidate evaluated is kept; the result has the Pareto frontier (read
//! p99, L3 load, memory) of the feasible ones and the winner, a
//! `CacheConfig` that `strata-core` loads unchanged.

mod pareto;
mod search;
mod space;
mod table;

use serde::{Deserialize, Serialize};

pub use pareto::frontier;
pub use search::{RequestSource, tune};
pub use space::SearchSpace;

use strata_core::CacheConfig;
use strata_core::config::Capacity;

use crate::config::SimConfig;

/// What the winner must satisfy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Constraints {
    /// Read p99 at most this many milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
    /// Stale reads at most this fraction of reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_stale_ratio: Option<f64>,
    /// No stale read older than this many milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_stale_age_ms: Option<f64>,
    /// L3 requests per second at most this in the busiest window once warm
    /// (windows after the first tenth of the run: a cold start is excluded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l3_qps: Option<f64>,
    /// Requests answered with an error (failed L3 requests, see `[l3]
    /// failure_rate` and `outages`) at most this fraction of requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_error_ratio: Option<f64>,
}

impl Constraints {
    /// Checks that every limit is a number a metric can be compared with: a
    /// NaN would switch its constraint off and a negative one make every
    /// candidate infeasible, both without a word.
    ///
    /// # Errors
    /// [`crate::SimError::Config`] naming the first invalid field.
    pub fn check(&self) -> crate::error::Result<()> {
        let positive = [("constraints.p99_ms", self.p99_ms), ("constraints.l3_qps", self.l3_qps)];
        for (field, v) in positive {
            if let Some(v) = v.filter(|v| !(v.is_finite() && *v > 0.0)) {
                return Err(crate::SimError::config(
                    field,
                    format!("must be a finite number above 0, got {v}"),
                ));
            }
        }
        if let Some(v) = self.max_stale_ratio.filter(|v| !(0.0..=1.0).contains(v)) {
            return Err(crate::SimError::config(
                "constraints.max_stale_ratio",
                format!("must be in [0, 1], got {v}"),
            ));
        }
        if let Some(v) = self.max_error_ratio.filter(|v| !(0.0..=1.0).contains(v)) {
            return Err(crate::SimError::config(
                "constraints.max_error_ratio",
                format!("must be in [0, 1], got {v}"),
            ));
        }
        if let Some(v) = self.max_stale_age_ms.filter(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(crate::SimError::config(
                "constraints.max_stale_age_ms",
                format!("must be a finite number of at least 0, got {v}"),
            ));
        }
        Ok(())
    }
}

/// Weights of the cost objective: each term is normalised to about [0, 1]
/// (memory by its budget, L3 load by the load without any cache).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostWeights {
    /// Weight of L1 memory (all instances) over the L1 budget.
    pub l1: f64,
    /// Weight of L2 memory over the L2 budget.
    pub l2: f64,
    /// Weight of the L3 load over the load with no cache.
    pub l3: f64,
}

impl Default for CostWeights {
    fn default() -> Self {
        Self { l1: 1.0, l2: 0.5, l3: 1.0 }
    }
}

/// What to minimise.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "objective")]
pub enum Objective {
    /// Read p99 latency.
    P99,
    /// Mean L3 requests per second.
    L3Load,
    /// The weighted cost of memory and L3 load.
    Cost(CostWeights),
}

/// Everything the tuner needs besides the trace.
#[derive(Clone, Debug)]
pub struct TuneSpec {
    /// Starting configuration: its other settings (L2 URL, namespace,
    /// write-behind batch size...) are kept in every candidate.
    pub base: CacheConfig,
    /// How the simulator models the tiers.
    pub sim: SimConfig,
    /// Largest L1 per instance.
    pub l1_budget: Capacity,
    /// Largest L2; `None`: candidates have no L2.
    pub l2_budget: Option<Capacity>,
    /// Constraints.
    pub constraints: Constraints,
    /// Objective.
    pub objective: Objective,
    /// The values tried for each setting.
    pub space: SearchSpace,
    /// Most rounds of the coordinate descent.
    pub max_rounds: usize,
}

/// The measured qualities of one candidate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Read p99 (µs).
    pub read_p99_us: f64,
    /// Write p99 (µs; 0 without writes).
    pub write_p99_us: f64,
    /// Mean L3 requests per second.
    pub l3_qps_mean: f64,
    /// L3 requests per second in the busiest window once warm (see
    /// [`Constraints::l3_qps`]).
    pub l3_qps_peak: f64,
    /// Stale reads / reads.
    pub stale_ratio: f64,
    /// Oldest stale read (ms).
    pub max_stale_age_ms: f64,
    /// Requests answered with an error / requests (failed reads and
    /// writes; 0 unless L3 fails).
    #[serde(default)]
    pub error_ratio: f64,
    /// Reads that caused no L3 read.
    pub hit_ratio: f64,
    /// Memory: L1 of all instances over the L1 budget plus L2 over the L2 budget.
    pub memory: f64,
    /// The cost objective's value.
    pub cost: f64,
}

/// One evaluated configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The configuration.
    pub config: CacheConfig,
    /// What the simulator measured.
    pub metrics: Metrics,
    /// Constraints it violates (empty: feasible).
    pub violations: Vec<String>,
}

impl Candidate {
    /// Whether every constraint holds.
    #[must_use]
    pub fn is_feasible(&self) -> bool {
        self.violations.is_empty()
    }
}

/// The outcome of a search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TuneResult {
    /// The objective.
    pub objective: Objective,
    /// The constraints.
    pub constraints: Constraints,
    /// Every candidate, in evaluation order.
    pub candidates: Vec<Candidate>,
    /// Indices of the Pareto frontier (read p99, L3 load, memory) among the
    /// feasible candidates (among all when none is feasible).
    pub frontier: Vec<usize>,
    /// Index of the winner.
    pub best: usize,
    /// Rounds run.
    pub rounds: usize,
}

impl TuneResult {
    /// The winner.
    #[must_use]
    pub fn winner(&self) -> &Candidate {
        &self.candidates[self.best]
    }

    /// Whether the winner meets every constraint.
    #[must_use]
    pub fn is_feasible(&self) -> bool {
        self.winner().is_feasible()
    }
}

#[cfg(test)]
mod tests;
