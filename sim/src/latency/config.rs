//! The serde form of a latency distribution.

use serde::{Deserialize, Serialize};

/// A latency distribution as written in configuration. All values are in
/// microseconds (fractions allowed). See [`super::LatencyModel::new`] for
/// the rules each variant is checked against.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum LatencyConfig {
    /// Always the same latency.
    Constant {
        /// The latency.
        us: f64,
    },
    /// Uniform between two bounds.
    Uniform {
        /// Lower bound.
        min_us: f64,
        /// Upper bound.
        max_us: f64,
    },
    /// Normal, truncated at 0 (negative samples are drawn again); given by
    /// `mean_us` and `std_us`, or by `p50_us` and `p99_us`.
    Normal {
        /// Mean.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mean_us: Option<f64>,
        /// Standard deviation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        std_us: Option<f64>,
        /// Median.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        p50_us: Option<f64>,
        /// 99th percentile.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        p99_us: Option<f64>,
    },
    /// Log-normal; given by `p50_us` and `p99_us`, or by `mu` and `sigma`,
    /// the mean and standard deviation of ln(latency in µs).
    LogNormal {
        /// Median.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        p50_us: Option<f64>,
        /// 99th percentile.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        p99_us: Option<f64>,
        /// Location of ln(latency in µs).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mu: Option<f64>,
        /// Scale of ln(latency in µs).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sigma: Option<f64>,
    },
    /// Gamma; given by `shape` and `scale_us`, or by `mean_us` and `std_us`.
    Gamma {
        /// Shape k.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shape: Option<f64>,
        /// Scale θ.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scale_us: Option<f64>,
        /// Mean (kθ).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mean_us: Option<f64>,
        /// Standard deviation (√k θ).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        std_us: Option<f64>,
    },
    /// An empirical histogram: `buckets = [[upper_us, count], ...]` with
    /// increasing upper bounds; a sample picks a bucket by its count and a
    /// uniform value inside it (the first bucket starts at `min_us`, 0 by
    /// default).
    Empirical {
        /// `[upper bound in µs, count]` pairs.
        buckets: Vec<(f64, u64)>,
        /// Lower bound of the first bucket.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_us: Option<f64>,
    },
}

impl LatencyConfig {
    /// A constant latency of `us` microseconds.
    #[must_use]
    pub fn constant(us: f64) -> Self {
        LatencyConfig::Constant { us }
    }

    /// A log-normal latency with the given median and 99th percentile.
    #[must_use]
    pub fn lognormal(p50_us: f64, p99_us: f64) -> Self {
        LatencyConfig::LogNormal { p50_us: Some(p50_us), p99_us: Some(p99_us), mu: None, sigma: None }
    }
}
