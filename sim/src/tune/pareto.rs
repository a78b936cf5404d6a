//! The Pareto frontier of candidates over (read p99, L3 load, memory).

use super::Candidate;

fn point(c: &Candidate) -> [f64; 3] {
    [c.metrics.read_p99_us, c.metrics.l3_qps_mean, c.metrics.memory]
}

fn dominates(a: [f64; 3], b: [f64; 3]) -> bool {
    a.iter().zip(&b).all(|(x, y)| x <= y) && a.iter().zip(&b).any(|(x, y)| x < y)
}

/// Indices (ascending) of the candidates among `indices` that no other of
/// them dominates; of identical points only the first is kept.
#[must_use]
pub fn frontier(candidates: &[Candidate], indices: &[usize]) -> Vec<usize> {
    let pts: Vec<(usize, [f64; 3])> = indices.iter().map(|&i| (i, point(&candidates[i]))).collect();
    let mut out: Vec<usize> = pts
        .iter()
        .filter(|(i, p)| !pts.iter().any(|(j, q)| dominates(*q, *p) || (q == p && j < i)))
        .map(|(i, _)| *i)
        .collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use strata_core::CacheConfig;

    use super::*;
    use crate::tune::Metrics;

    fn cand(p99: f64, qps: f64, mem: f64) -> Candidate {
        Candidate {
            config: CacheConfig::default(),
            metrics: Metrics {
                read_p99_us: p99,
                write_p99_us: 0.0,
                l3_qps_mean: qps,
                l3_qps_peak: qps,
                stale_ratio: 0.0,
                max_stale_age_ms: 0.0,
                error_ratio: 0.0,
                hit_ratio: 0.0,
                memory: mem,
                cost: 0.0,
            },
            violations: vec![],
        }
    }

    #[test]
    fn keeps_only_non_dominated_points() {
        let c = vec![
            cand(10.0, 100.0, 1.0), // 0: frontier
            cand(20.0, 50.0, 1.0),  // 1: frontier
            cand(20.0, 100.0, 1.0), // 2: dominated by 0 and 1
            cand(30.0, 200.0, 0.5), // 3: frontier (least memory)
            cand(10.0, 100.0, 1.0), // 4: duplicate of 0
        ];
        assert_eq!(frontier(&c, &[0, 1, 2, 3, 4]), vec![0, 1, 3]);
        assert_eq!(frontier(&c, &[2, 4]), vec![4]);
    }

    #[test]
    fn brute_force_agrees() {
        // Every point off the frontier is dominated by one on it.
        let c: Vec<Candidate> = (0..60u64)
            .map(|i| cand((i * 37 % 11) as f64, (i * 53 % 13) as f64, (i * 71 % 7) as f64))
            .collect();
        let all: Vec<usize> = (0..c.len()).collect();
        let f = frontier(&c, &all);
        for i in &all {
            let on = f.contains(i);
            let dominated = all.iter().any(|&j| dominates(point(&c[j]), point(&c[*i])));
            if !on {
                assert!(dominated || f.iter().any(|&j| point(&c[j]) == point(&c[*i])), "{i}");
            } else {
                assert!(!dominated, "{i} on the frontier but dominated");
            }
        }
    }
}
