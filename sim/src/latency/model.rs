//! The validated, sampling form of a latency distribution.

use rand::distr::Distribution;
use rand::{Rng, RngExt};
use statrs::distribution::{Gamma, LogNormal, Normal};

use super::Z99;
use super::config::LatencyConfig;
use super::empirical::EmpiricalLatency;
use crate::error::{Result, SimError};

/// How many times a truncated normal redraws a negative sample before giving 0.
const MAX_REDRAWS: u32 = 64;

#[derive(Clone, Debug)]
enum Kind {
    Constant(u64),
    Uniform { min_us: f64, span_us: f64 },
    Normal(Normal),
    LogNormal(LogNormal),
    Gamma(Gamma),
    Empirical(EmpiricalLatency),
}

/// A latency distribution ready to sample, in nanoseconds.
#[derive(Clone, Debug)]
pub struct LatencyModel {
    kind: Kind,
}

fn positive(v: f64, field: &str, name: &str) -> Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(SimError::config(format!("{field}.{name}"), format!("must be a positive number, got {v}")))
    }
}

fn non_negative(v: f64, field: &str, name: &str) -> Result<f64> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(SimError::config(format!("{field}.{name}"), format!("must be >= 0, got {v}")))
    }
}

/// Exactly one of two parameter pairs must be given.
fn pick(
    field: &str,
    first: (&str, Option<f64>, &str, Option<f64>),
    second: (&str, Option<f64>, &str, Option<f64>),
) -> Result<Pair> {
    let (a, av, b, bv) = first;
    let (c, cv, d, dv) = second;
    match (av, bv, cv, dv) {
        (Some(x), Some(y), None, None) => Ok(Pair::First(x, y)),
        (None, None, Some(x), Some(y)) => Ok(Pair::Second(x, y)),
        _ => Err(SimError::config(field, format!("give either {a} and {b}, or {c} and {d}"))),
    }
}

enum Pair {
    First(f64, f64),
    Second(f64, f64),
}

impl LatencyModel {
    /// A constant latency of `ns` nanoseconds.
    #[must_use]
    pub fn constant_ns(ns: u64) -> Self {
        Self { kind: Kind::Constant(ns) }
    }

    /// Validates `cfg` and builds the model; `field` names the setting in
    /// errors (e.g. `latency.l2`).
    ///
    /// # Errors
    /// [`SimError::Config`] naming the parameter that is missing, surplus or
    /// out of range (quantiles must satisfy 0 < p50 < p99 for log-normal and
    /// p50 < p99 for normal; shapes, scales and deviations must be positive).
    pub fn new(cfg: &LatencyConfig, field: &str) -> Result<Self> {
        let stat = |e: &dyn std::fmt::Display| SimError::config(field, e.to_string());
        let kind = match *cfg {
            LatencyConfig::Constant { us } => Kind::Constant(us_to_ns(non_negative(us, field, "us")?)),
            LatencyConfig::Uniform { min_us, max_us } => {
                let lo = non_negative(min_us, field, "min_us")?;
                let hi = non_negative(max_us, field, "max_us")?;
                if hi < lo {
                    return Err(SimError::config(format!("{field}.max_us"), "must be >= min_us"));
                }
                Kind::Uniform { min_us: lo, span_us: hi - lo }
            }
            LatencyConfig::Normal { mean_us, std_us, p50_us, p99_us } => {
                let (mean, std) = match pick(
                    field,
                    ("mean_us", mean_us, "std_us", std_us),
                    ("p50_us", p50_us, "p99_us", p99_us),
                )? {
                    Pair::First(m, s) => (non_negative(m, field, "mean_us")?, positive(s, field, "std_us")?),
                    Pair::Second(p50, p99) => {
                        let p50 = non_negative(p50, field, "p50_us")?;
                        if !(p99.is_finite() && p99 > p50) {
                            return Err(SimError::config(
                                format!("{field}.p99_us"),
                                "must be greater than p50_us",
                            ));
                        }
                        (p50, (p99 - p50) / Z99)
                    }
                };
                Kind::Normal(Normal::new(mean, std).map_err(|e| stat(&e))?)
            }
            LatencyConfig::LogNormal { p50_us, p99_us, mu, sigma } => {
                let (mu, sigma) =
                    match pick(field, ("p50_us", p50_us, "p99_us", p99_us), ("mu", mu, "sigma", sigma))? {
                        Pair::First(p50, p99) => {
                            let p50 = positive(p50, field, "p50_us")?;
                            if !(p99.is_finite() && p99 > p50) {
                                return Err(SimError::config(
                                    format!("{field}.p99_us"),
                                    "must be greater than p50_us",
                                ));
                            }
                            (p50.ln(), (p99.ln() - p50.ln()) / Z99)
                        }
                        Pair::Second(mu, sigma) => {
                            if !mu.is_finite() {
                                return Err(SimError::config(format!("{field}.mu"), "must be finite"));
                            }
                            (mu, positive(sigma, field, "sigma")?)
                        }
                    };
                Kind::LogNormal(LogNormal::new(mu, sigma).map_err(|e| stat(&e))?)
            }
            LatencyConfig::Gamma { shape, scale_us, mean_us, std_us } => {
                let (shape, scale) = match pick(
                    field,
                    ("shape", shape, "scale_us", scale_us),
                    ("mean_us", mean_us, "std_us", std_us),
                )? {
                    Pair::First(k, theta) => {
                        (positive(k, field, "shape")?, positive(theta, field, "scale_us")?)
                    }
                    Pair::Second(m, s) => {
                        let (m, s) = (positive(m, field, "mean_us")?, positive(s, field, "std_us")?);
                        ((m / s) * (m / s), s * s / m)
                    }
                };
                Kind::Gamma(Gamma::new(shape, 1.0 / scale).map_err(|e| stat(&e))?)
            }
            LatencyConfig::Empirical { ref buckets, min_us } => {
                Kind::Empirical(EmpiricalLatency::new(buckets, min_us.unwrap_or(0.0), field)?)
            }
        };
        Ok(Self { kind })
    }

    /// Whether every sample is 0 (the model can be skipped).
    #[must_use]
    pub fn is_zero(&self) -> bool {
        matches!(self.kind, Kind::Constant(0))
    }

    /// One sample, in nanoseconds (never negative).
    #[inline]
    pub fn sample_ns<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        let us = match &self.kind {
            Kind::Constant(ns) => return *ns,
            Kind::Uniform { min_us, span_us } => min_us + span_us * rng.random::<f64>(),
            Kind::Normal(d) => {
                let mut x = d.sample(rng);
                let mut tries = 0;
                while x < 0.0 && tries < MAX_REDRAWS {
                    x = d.sample(rng);
                    tries += 1;
                }
                x.max(0.0)
            }
            Kind::LogNormal(d) => d.sample(rng),
            Kind::Gamma(d) => d.sample(rng),
            Kind::Empirical(d) => d.sample_us(rng),
        };
        us_to_ns(us)
    }
}

/// Microseconds to whole nanoseconds (rounded; negative and NaN give 0,
/// huge values saturate).
#[inline]
fn us_to_ns(us: f64) -> u64 {
    // `as` saturates and maps NaN to 0.
    (us * 1000.0).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream_rng};

    fn quantiles(cfg: &LatencyConfig, n: usize) -> (f64, f64) {
        let m = LatencyModel::new(cfg, "t").unwrap();
        let mut rng = stream_rng(42, Stream::L3Read, 0);
        let mut v: Vec<u64> = (0..n).map(|_| m.sample_ns(&mut rng)).collect();
        v.sort_unstable();
        let q = |p: f64| v[((n as f64 * p) as usize).min(n - 1)] as f64 / 1000.0;
        (q(0.5), q(0.99))
    }

    fn close(got: f64, want: f64, tol: f64) {
        assert!((got - want).abs() <= want * tol, "got {got}, want {want} ±{}%", tol * 100.0);
    }

    #[test]
    fn lognormal_from_quantiles_hits_them() {
        let (p50, p99) = quantiles(&LatencyConfig::lognormal(300.0, 2000.0), 200_000);
        close(p50, 300.0, 0.02);
        close(p99, 2000.0, 0.04);
    }

    #[test]
    fn lognormal_raw_parameters() {
        let cfg = LatencyConfig::LogNormal { p50_us: None, p99_us: None, mu: Some(5.0), sigma: Some(0.5) };
        let (p50, p99) = quantiles(&cfg, 200_000);
        close(p50, 5.0f64.exp(), 0.02);
        close(p99, (5.0 + 0.5 * Z99).exp(), 0.04);
    }

    #[test]
    fn normal_from_quantiles_hits_them() {
        let cfg =
            LatencyConfig::Normal { mean_us: None, std_us: None, p50_us: Some(1000.0), p99_us: Some(1500.0) };
        let (p50, p99) = quantiles(&cfg, 200_000);
        close(p50, 1000.0, 0.01);
        close(p99, 1500.0, 0.02);
    }

    #[test]
    fn normal_is_truncated_at_zero() {
        let cfg =
            LatencyConfig::Normal { mean_us: Some(10.0), std_us: Some(100.0), p50_us: None, p99_us: None };
        let m = LatencyModel::new(&cfg, "t").unwrap();
        let mut rng = stream_rng(1, Stream::L3Read, 0);
        // All samples are valid u64s (never negative): what matters is that
        // half of them are not clamped to exactly 0.
        let zeros = (0..10_000).filter(|_| m.sample_ns(&mut rng) == 0).count();
        assert!(zeros < 10, "{zeros} samples clamped to 0: negatives were not redrawn");
    }

    #[test]
    fn gamma_by_mean_and_std() {
        let cfg =
            LatencyConfig::Gamma { shape: None, scale_us: None, mean_us: Some(400.0), std_us: Some(200.0) };
        // shape 4, scale 100: median ≈ 367.2, p99 ≈ 1004.5 (k=4 quantiles ×θ)
        let (p50, p99) = quantiles(&cfg, 200_000);
        close(p50, 367.21, 0.02);
        close(p99, 1004.5, 0.04);
    }

    #[test]
    fn uniform_and_constant() {
        let (p50, p99) = quantiles(&LatencyConfig::Uniform { min_us: 100.0, max_us: 200.0 }, 100_000);
        close(p50, 150.0, 0.01);
        close(p99, 199.0, 0.01);
        assert_eq!(quantiles(&LatencyConfig::constant(2.5), 10), (2.5, 2.5));
    }

    #[test]
    fn empirical_histogram_follows_counts() {
        let cfg =
            LatencyConfig::Empirical { buckets: vec![(100.0, 50), (200.0, 49), (1000.0, 1)], min_us: None };
        let (p50, p99) = quantiles(&cfg, 200_000);
        close(p50, 100.0, 0.02);
        close(p99, 200.0, 0.02);
    }

    #[test]
    fn bad_parameters_name_the_field() {
        let err = |cfg: LatencyConfig| LatencyModel::new(&cfg, "latency.l2").unwrap_err().to_string();
        let e = err(LatencyConfig::lognormal(300.0, 200.0));
        assert!(e.contains("latency.l2.p99_us"), "{e}");
        let e = err(LatencyConfig::LogNormal { p50_us: Some(1.0), p99_us: None, mu: Some(1.0), sigma: None });
        assert!(e.starts_with("latency.l2:") && e.contains("p50_us and p99_us"), "{e}");
        let e = err(LatencyConfig::constant(-1.0));
        assert!(e.contains("latency.l2.us"), "{e}");
        let e = err(LatencyConfig::Empirical { buckets: vec![(10.0, 1), (5.0, 1)], min_us: None });
        assert!(e.contains("latency.l2.buckets[1]"), "{e}");
        let e = err(LatencyConfig::Empirical { buckets: vec![(10.0, 0)], min_us: None });
        assert!(e.contains("latency.l2.buckets"), "{e}");
    }

    #[test]
    fn toml_forms_parse() {
        #[derive(serde::Deserialize)]
        struct W {
            l: LatencyConfig,
        }
        let w: W = toml::from_str("l = { dist = \"lognormal\", p50_us = 300, p99_us = 2000 }").unwrap();
        assert_eq!(w.l, LatencyConfig::lognormal(300.0, 2000.0));
        let w: W = toml::from_str("l = { dist = \"empirical\", buckets = [[100, 3], [250.5, 1]] }").unwrap();
        assert!(matches!(w.l, LatencyConfig::Empirical { ref buckets, .. } if buckets.len() == 2));
        let bad = toml::from_str::<W>("l = { dist = \"lognormal\", p50 = 300 }");
        assert!(bad.is_err());
    }
}
