//! Latency distributions of the modelled tiers.
//!
//! [`LatencyConfig`] is the serde form, written in a simulator TOML as e.g.
//! `{ dist = "lognormal", p50_us = 300, p99_us = 2000 }` (parameters solved
//! from two quantiles) or `{ dist = "lognormal", mu = 5.7, sigma = 0.8 }`
//! (raw parameters of ln(latency in µs)). [`LatencyModel`] is the validated,
//! ready-to-sample form; sampling uses `statrs` distributions and `rand`.

mod config;
mod empirical;
mod model;

pub use config::LatencyConfig;
pub use empirical::EmpiricalLatency;
pub use model::LatencyModel;

/// The standard normal quantile at 0.99 (Φ⁻¹(0.99)).
pub const Z99: f64 = 2.326_347_874_040_841;
