//! Zipf sampling by exact inversion of a precomputed CDF, with a guide
//! table so that a sample costs one table lookup and a short binary search.

/// The Zipf(alpha) distribution over ranks `0..n`: `P(r) ∝ 1 / (r+1)^alpha`.
/// Memory: 12 bytes a rank. `alpha = 0` is uniform.
#[derive(Debug, Clone)]
pub struct Zipf {
    cdf: Vec<f64>,
    guide: Vec<u32>,
}

impl Zipf {
    /// The table for `n` ranks (1 ≤ n ≤ `u32::MAX`) and `alpha` ≥ 0 (finite);
    /// the caller validates both.
    #[must_use]
    pub fn new(n: u32, alpha: f64) -> Self {
        let n = n.max(1) as usize;
        let mut cdf = Vec::with_capacity(n);
        let mut sum = 0.0f64;
        for r in 0..n {
            sum += (r as f64 + 1.0).powf(-alpha);
            cdf.push(sum);
        }
        for c in &mut cdf {
            *c /= sum;
        }
        if let Some(last) = cdf.last_mut() {
            *last = 1.0;
        }
        // guide[j] = first rank whose cdf exceeds j / n
        let cells = n;
        let mut guide = Vec::with_capacity(cells + 1);
        let mut r = 0usize;
        for j in 0..=cells {
            let target = j as f64 / cells as f64;
            while r + 1 < n && cdf[r] <= target {
                r += 1;
            }
            guide.push(r as u32);
        }
        Self { cdf, guide }
    }

    /// Number of ranks.
    #[must_use]
    pub fn len(&self) -> usize {
        self.cdf.len()
    }

    /// Whether there are no ranks (never: at least one).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.cdf.is_empty()
    }

    /// The rank for a uniform `u` in `[0, 1)`: the first rank whose CDF exceeds `u`.
    #[inline]
    #[must_use]
    pub fn rank(&self, u: f64) -> u32 {
        let cells = self.guide.len() - 1;
        let j = ((u * cells as f64) as usize).min(cells - 1);
        let lo = self.guide[j] as usize;
        let hi = self.guide[j + 1] as usize;
        let off = self.cdf[lo..=hi].partition_point(|&c| c <= u);
        (lo + off).min(self.cdf.len() - 1) as u32
    }

    /// The probability of rank `r`.
    #[must_use]
    pub fn probability(&self, r: u32) -> f64 {
        let r = r as usize;
        match r {
            0 => self.cdf[0],
            _ if r < self.cdf.len() => self.cdf[r] - self.cdf[r - 1],
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_rank(z: &Zipf, u: f64) -> u32 {
        z.cdf.iter().position(|&c| c > u).unwrap_or(z.cdf.len() - 1) as u32
    }

    #[test]
    fn rank_is_exact_inversion() {
        for (n, alpha) in [(1u32, 1.0), (2, 0.0), (10, 1.0), (1000, 0.6), (1000, 1.4), (5000, 2.5)] {
            let z = Zipf::new(n, alpha);
            for i in 0..20_000 {
                let u = (i as f64 + 0.5) / 20_000.0;
                assert_eq!(z.rank(u), naive_rank(&z, u), "n={n} alpha={alpha} u={u}");
            }
            // at the cell boundaries and CDF values themselves
            for r in 0..n.min(200) as usize {
                let u = z.cdf[r];
                if u < 1.0 {
                    assert_eq!(z.rank(u), naive_rank(&z, u));
                }
            }
            assert_eq!(z.rank(0.0), 0);
            assert_eq!(z.rank(1.0 - f64::EPSILON), n - 1);
        }
    }

    #[test]
    fn probabilities_follow_the_power_law() {
        let z = Zipf::new(100, 1.0);
        let h: f64 = (1..=100).map(|i| 1.0 / i as f64).sum();
        for r in [0u32, 1, 9, 99] {
            assert!((z.probability(r) - 1.0 / ((r + 1) as f64 * h)).abs() < 1e-12);
        }
        assert_eq!(z.probability(100), 0.0);
    }
}
