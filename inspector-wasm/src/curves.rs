//! Miss-ratio curves of every eviction policy over a loaded trace, as hit
//! ratio against L1 capacity (in entries): LRU exactly at every capacity
//! (`strata_sim::mrc::MrcBuilder`, one pass), the other policies simulated
//! at a grid of capacities (`strata_sim::mrc::simulate_curves_sampled`),
//! on a spatial sample of the keys when the trace is large, so that a
//! curve costs at most [`SIMULATION_BUDGET`] cache operations. Like the
//! simulator's curves they ignore TTLs and L2: they answer "how large
//! should L1 be, with which policy".

use std::convert::Infallible;

use serde::Serialize;
use strata_core::policy::eviction::EvictionConfig;
use strata_sim::mrc::{KeySample, MrcBuilder, simulate_curves_sampled};
use strata_sim::{Request, Unit};

use crate::Progress;

/// Capacities simulated per policy (besides LRU, which is exact everywhere).
pub const GRID_POINTS: usize = 12;
/// Capacities at which the exact LRU curve is drawn.
pub const LRU_POINTS: usize = 48;
/// Most requests × simulated caches replayed for the curves; above it the
/// keys are sampled (SHARDS) down to this budget.
pub const SIMULATION_BUDGET: u64 = 6_000_000;
/// Most requests the exact LRU curve reads; above it, SHARDS sampling.
pub const LRU_BUDGET: u64 = 4_000_000;
/// Requests between two progress reports.
const PROGRESS_EVERY: usize = 1 << 16;

/// One point of a curve.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CurvePoint {
    /// L1 capacity in entries.
    pub capacity: u64,
    /// Hit ratio at that capacity.
    pub hit_ratio: f64,
}

/// The curve of one policy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyCurve {
    /// The policy's name.
    pub policy: &'static str,
    /// Points by increasing capacity.
    pub points: Vec<CurvePoint>,
    /// Fraction of the keys simulated (1: all).
    pub sample_rate: f64,
}

/// A sample of about `budget / work` of the keys (all of them when the work fits).
fn sample_for(work: u64, budget: u64) -> KeySample {
    if work <= budget {
        return KeySample::all();
    }
    KeySample::new(budget as f64 / work as f64).unwrap_or_else(|_| KeySample::all())
}

/// `n` capacities spread geometrically over `[lo, hi]`, distinct and increasing.
#[must_use]
pub fn log_grid(lo: u64, hi: u64, n: usize) -> Vec<u64> {
    let (lo, hi) = (lo.max(1), hi.max(lo.max(1)));
    let steps = n.max(2) - 1;
    let ratio = (hi as f64 / lo as f64).powf(1.0 / steps as f64);
    let mut grid: Vec<u64> = (0..=steps).map(|i| (lo as f64 * ratio.powi(i as i32)).round() as u64).collect();
    grid.push(hi);
    grid.sort_unstable();
    grid.dedup();
    grid.retain(|&c| c <= hi);
    grid
}

/// The curves of every policy of [`EvictionConfig::all`] over `requests`
/// with `distinct_keys` keys, from 0.1 % of the keys to all of them.
#[must_use]
pub fn policy_curves(
    requests: &[Request],
    distinct_keys: u64,
    progress: &mut Progress<'_>,
) -> Vec<PolicyCurve> {
    let hi = distinct_keys.max(1);
    let lo = (hi / 1000).max(1);
    let total = requests.len() as u64;
    let lru_sample = sample_for(total, LRU_BUDGET);
    let mut builder = if lru_sample.is_all() {
        MrcBuilder::new(Unit::Objects)
    } else {
        MrcBuilder::sampled(Unit::Objects, lru_sample.rate())
            .unwrap_or_else(|_| MrcBuilder::new(Unit::Objects))
    };
    for (i, r) in requests.iter().enumerate() {
        builder.access(r);
        if i % PROGRESS_EVERY == 0 {
            progress("LRU curve", i as u64, total);
        }
    }
    let lru = builder.finish();
    let mut curves = vec![PolicyCurve {
        policy: EvictionConfig::Lru.name(),
        points: log_grid(lo, hi, LRU_POINTS)
            .into_iter()
            .map(|capacity| CurvePoint { capacity, hit_ratio: 1.0 - lru.miss_ratio(capacity) })
            .collect(),
        sample_rate: lru.sample_rate(),
    }];
    let others: Vec<EvictionConfig> =
        EvictionConfig::all().into_iter().filter(|p| *p != EvictionConfig::Lru).collect();
    if others.is_empty() {
        return curves;
    }
    let grid = log_grid(lo, hi, GRID_POINTS);
    let sample = sample_for(total.saturating_mul((others.len() * grid.len()) as u64), SIMULATION_BUDGET);
    let stream = requests.iter().enumerate().map(|(i, r)| {
        if i % PROGRESS_EVERY == 0 {
            progress("policy curves", i as u64, total);
        }
        Ok::<Request, Infallible>(*r)
    });
    let Ok(points) = simulate_curves_sampled(stream, &others, &grid, Unit::Objects, sample);
    for p in &others {
        curves.push(PolicyCurve {
            policy: p.name(),
            points: points
                .iter()
                .filter(|s| s.policy == p.name())
                .map(|s| CurvePoint { capacity: s.capacity, hit_ratio: 1.0 - s.miss_ratio() })
                .collect(),
            sample_rate: sample.rate(),
        });
    }
    curves
}

#[cfg(test)]
mod tests {
    use strata_sim::trace::Op;

    use super::*;

    #[test]
    fn grids_are_geometric_distinct_and_end_at_the_top() {
        assert_eq!(log_grid(1, 1000, 4), vec![1, 10, 100, 1000]);
        assert_eq!(log_grid(1, 3, 12), vec![1, 2, 3]);
        assert_eq!(log_grid(0, 0, 5), vec![1]);
        let g = log_grid(20, 20_000, 12);
        assert_eq!((g[0], *g.last().unwrap(), g.len()), (20, 20_000, 12));
        assert!(g.windows(2).all(|w| w[0] < w[1]));
    }

    /// A naive LRU (a Vec ordered by recency) at one capacity.
    fn naive_lru_hits(keys: &[u64], capacity: usize) -> u64 {
        let mut order: Vec<u64> = Vec::new();
        let mut hits = 0;
        for &k in keys {
            if let Some(i) = order.iter().position(|&x| x == k) {
                hits += 1;
                order.remove(i);
            } else if order.len() == capacity {
                order.remove(0);
            }
            order.push(k);
        }
        hits
    }

    #[test]
    fn every_policy_has_a_rising_curve_and_lru_matches_a_naive_model() {
        let keys: Vec<u64> = (0..20_000u64).map(|i| (i * i + 7 * i) % 211 + (i % 3) * (i % 50)).collect();
        let requests: Vec<Request> = keys
            .iter()
            .enumerate()
            .map(|(i, &key)| Request { time_ns: i as u64, key, op: Op::Get, size: 1, ttl: None })
            .collect();
        let distinct = {
            let mut k = keys.clone();
            k.sort_unstable();
            k.dedup();
            k.len() as u64
        };
        let mut reports = 0;
        let curves = policy_curves(&requests, distinct, &mut |_, _, _| reports += 1);
        assert!(reports > 0);
        assert_eq!(curves.len(), EvictionConfig::all().len());
        for c in &curves {
            assert!(c.points.len() >= 2, "{}", c.policy);
            let last = c.points.last().unwrap();
            assert_eq!(last.capacity, distinct);
            // With room for every key only the first access of each misses.
            let expected = 1.0 - distinct as f64 / keys.len() as f64;
            assert!((last.hit_ratio - expected).abs() < 1e-9, "{}: {}", c.policy, last.hit_ratio);
        }
        let lru = &curves[0];
        assert_eq!(lru.policy, "lru");
        for p in lru.points.iter().step_by(7) {
            let naive = naive_lru_hits(&keys, p.capacity as usize) as f64 / keys.len() as f64;
            assert!(
                (p.hit_ratio - naive).abs() < 1e-12,
                "capacity {}: {} vs {naive}",
                p.capacity,
                p.hit_ratio
            );
        }
    }
}
