//! The values the tuner tries for each setting.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use strata_core::config::WriteStrategy;
use strata_core::policy::eviction::EvictionConfig;

/// Candidate values per setting. Capacities are fractions of the budgets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchSpace {
    /// L1 eviction policies.
    pub policies: Vec<EvictionConfig>,
    /// L1 capacity as fractions of the L1 budget.
    pub l1_fractions: Vec<f64>,
    /// L2 capacity as fractions of the L2 budget (0: no L2).
    pub l2_fractions: Vec<f64>,
    /// L1 TTLs (`None`: no expiry).
    pub l1_ttls: Vec<Option<Duration>>,
    /// L2 TTLs. (`None` is not written by `CacheConfig::to_toml_string`:
    /// an absent `l2.ttl_ms` loads as the default TTL, so every candidate is
    /// normalised through TOML before it is evaluated.)
    pub l2_ttls: Vec<Option<Duration>>,
    /// Write strategies.
    pub strategies: Vec<WriteStrategy>,
    /// Refresh-ahead off / on (at the base threshold).
    pub refresh: Vec<bool>,
    /// How long L1 remembers absent keys (`l1.negative_ttl_ms`; `None`:
    /// not at all). Empty (the default): the base configuration's value,
    /// not searched.
    #[serde(default)]
    pub negative_ttls: Vec<Option<Duration>>,
    /// How long L2 remembers absent keys (`l2.negative_ttl_ms`; `None`:
    /// not at all), for candidates with an L2. Empty (the default): the
    /// base configuration's value, not searched.
    #[serde(default)]
    pub l2_negative_ttls: Vec<Option<Duration>>,
}

fn secs(s: u64) -> Option<Duration> {
    Some(Duration::from_secs(s))
}

impl Default for SearchSpace {
    fn default() -> Self {
        Self {
            policies: EvictionConfig::all(),
            l1_fractions: vec![1.0, 0.5, 0.25, 0.125],
            l2_fractions: vec![1.0, 0.5, 0.25, 0.0],
            l1_ttls: vec![None, secs(1), secs(10), secs(60), secs(600)],
            l2_ttls: vec![secs(300), secs(10), secs(60), secs(3600)],
            strategies: vec![
                WriteStrategy::WriteThrough,
                WriteStrategy::WriteBack,
                WriteStrategy::WriteBehind,
            ],
            refresh: vec![false, true],
            negative_ttls: Vec::new(),
            l2_negative_ttls: Vec::new(),
        }
    }
}
