//! The settings the page's controls produce (JSON from JavaScript), and their
//! translation into the types of `strata-core` and `strata-sim`. Strings are
//! parsed here, at the wasm edge, into typed configuration.

use std::time::Duration;

use serde::Deserialize;
use strata_core::CacheConfig;
use strata_core::config::{Capacity, L1Config, L2Config, RefreshConfig, WriteConfig, WriteStrategy};
use strata_core::policy::eviction::EvictionConfig;
use strata_sim::SimConfig;

use crate::error::InspectError;

/// Everything the page lets the user set.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageConfig {
    /// L1 capacity in entries.
    pub l1_capacity: u64,
    /// L1 time to live in milliseconds; `None` or 0: no expiry.
    #[serde(default)]
    pub l1_ttl_ms: Option<u64>,
    /// How long L1 remembers a key found absent, in milliseconds
    /// (`l1.negative_ttl_ms`); `None` or 0: not at all.
    #[serde(default)]
    pub l1_negative_ttl_ms: Option<u64>,
    /// Eviction policy name (`EvictionConfig::name`).
    pub policy: String,
    /// L2 capacity in entries; `None`: no L2 tier.
    #[serde(default)]
    pub l2_capacity: Option<u64>,
    /// L2 time to live in milliseconds; `None` or 0: no expiry.
    #[serde(default)]
    pub l2_ttl_ms: Option<u64>,
    /// How long L2 remembers a key found absent, in milliseconds
    /// (`l2.negative_ttl_ms`); `None` or 0: not at all.
    #[serde(default)]
    pub l2_negative_ttl_ms: Option<u64>,
    /// Write strategy (`write-through`, `write-back`, `write-behind`).
    pub write: WriteStrategy,
    /// Refresh-ahead threshold as a fraction of the TTL; `None`: off.
    #[serde(default)]
    pub refresh_threshold: Option<f64>,
    /// The simulator's settings (latency model per tier, arrivals, seed),
    /// in its own format; absent fields get the simulator's defaults. The
    /// time-series window is chosen by the inspector (see
    /// [`crate::session::Session::run`]).
    #[serde(default)]
    pub sim: SimConfig,
}

/// The eviction policy called `name`.
///
/// # Errors
/// [`InspectError::Param`] when no policy has that name.
pub fn policy_named(name: &str) -> Result<EvictionConfig, InspectError> {
    EvictionConfig::all().into_iter().find(|p| p.name() == name).ok_or_else(|| InspectError::Param {
        field: "policy",
        reason: format!(
            "unknown policy {name:?} (known: {})",
            EvictionConfig::all().iter().map(EvictionConfig::name).collect::<Vec<_>>().join(", ")
        ),
    })
}

fn ttl(ms: Option<u64>) -> Option<Duration> {
    ms.filter(|&ms| ms > 0).map(Duration::from_millis)
}

impl PageConfig {
    /// Parses the page's JSON.
    ///
    /// # Errors
    /// [`InspectError::Param`] naming the field.
    pub fn from_json(json: &str) -> Result<Self, InspectError> {
        serde_json::from_str(json).map_err(|e| InspectError::Param { field: "config", reason: e.to_string() })
    }

    /// The production configuration these settings describe; validated.
    ///
    /// # Errors
    /// [`InspectError::Param`] for an unknown policy, [`InspectError::Config`]
    /// when `strata-core` rejects a value.
    pub fn cache_config(&self) -> Result<CacheConfig, InspectError> {
        let cfg = CacheConfig {
            l1: L1Config {
                capacity: Capacity::Entries(self.l1_capacity),
                ttl: ttl(self.l1_ttl_ms),
                negative_ttl: ttl(self.l1_negative_ttl_ms),
                eviction: policy_named(&self.policy)?,
                ..L1Config::default()
            },
            l2: self.l2_capacity.map(|n| L2Config {
                ttl: ttl(self.l2_ttl_ms),
                negative_ttl: ttl(self.l2_negative_ttl_ms),
                capacity: Some(Capacity::Entries(n)),
                ..L2Config::default()
            }),
            write: WriteConfig { strategy: self.write, ..WriteConfig::default() },
            refresh: match self.refresh_threshold {
                Some(threshold) => RefreshConfig { enabled: true, threshold },
                None => RefreshConfig::default(),
            },
            ..CacheConfig::default()
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = r#"{"l1_capacity": 2000, "l1_ttl_ms": 0, "policy": "lru", "l2_capacity": 20000,
        "l2_ttl_ms": 60000, "write": "write-behind", "refresh_threshold": 0.75}"#;

    #[test]
    fn simulator_settings_use_the_simulator_format() {
        let json = JSON.replace(
            "}",
            r#", "sim": {"arrival": {"mode": "rate", "per_sec": 5000}, "latency": {"l2": {"dist": "constant", "us": 250}}}}"#,
        );
        let page = PageConfig::from_json(&json).unwrap();
        assert_eq!(page.sim.arrival, strata_sim::config::Arrival::Rate { per_sec: 5000.0 });
        assert_eq!(page.sim.latency.l2, strata_sim::latency::LatencyConfig::constant(250.0));
        assert_eq!(page.sim.latency.l3_read, SimConfig::default().latency.l3_read);
    }

    #[test]
    fn page_settings_become_a_core_config_that_round_trips_through_toml() {
        let page = PageConfig::from_json(JSON).unwrap();
        assert_eq!(page.sim, SimConfig::default());
        let cfg = page.cache_config().unwrap();
        assert_eq!(cfg.l1.capacity, Capacity::Entries(2000));
        assert_eq!((cfg.l1.ttl, cfg.l1.negative_ttl), (None, None));
        let l2 = cfg.l2.as_ref().unwrap();
        assert_eq!((l2.ttl, l2.capacity), (Some(Duration::from_secs(60)), Some(Capacity::Entries(20000))));
        assert_eq!(cfg.write.strategy, WriteStrategy::WriteBehind);
        assert_eq!(cfg.refresh, RefreshConfig { enabled: true, threshold: 0.75 });
        let text = cfg.to_toml_string().unwrap();
        assert_eq!(CacheConfig::from_toml_str(&text, "export").unwrap(), cfg);
    }

    #[test]
    fn negative_ttls_reach_the_config_and_zero_means_none() {
        let page =
            PageConfig::from_json(&JSON.replace("\"l1_ttl_ms\": 0", "\"l1_negative_ttl_ms\": 500")).unwrap();
        let cfg = page.cache_config().unwrap();
        assert_eq!(cfg.l1.negative_ttl, Some(Duration::from_millis(500)));
        assert!(cfg.to_toml_string().unwrap().contains("negative_ttl_ms = 500"));
        let page =
            PageConfig::from_json(&JSON.replace("\"l1_ttl_ms\": 0", "\"l1_negative_ttl_ms\": 0")).unwrap();
        assert_eq!(page.cache_config().unwrap().l1.negative_ttl, None);
        let page = PageConfig::from_json(
            &JSON.replace("\"l2_ttl_ms\"", "\"l2_negative_ttl_ms\": 700, \"l2_ttl_ms\""),
        )
        .unwrap();
        let cfg = page.cache_config().unwrap();
        assert_eq!(cfg.l2.as_ref().unwrap().negative_ttl, Some(Duration::from_millis(700)));
        assert_eq!(cfg.l1.negative_ttl, None);
        let text = cfg.to_toml_string().unwrap();
        assert!(text.contains("negative_ttl_ms = 700"), "{text}");
        assert_eq!(CacheConfig::from_toml_str(&text, "export").unwrap(), cfg);
    }

    #[test]
    fn bad_values_name_their_field() {
        let e =
            PageConfig::from_json(&JSON.replace("\"lru\"", "\"nope\"")).unwrap().cache_config().unwrap_err();
        assert!(e.to_string().contains("policy") && e.to_string().contains("nope"), "{e}");
        let e = PageConfig::from_json(&JSON.replace("2000,", "0,")).unwrap().cache_config().unwrap_err();
        assert!(e.to_string().contains("l1.capacity"), "{e}");
        let e = PageConfig::from_json(&JSON.replace("0.75", "1.5")).unwrap().cache_config().unwrap_err();
        assert!(e.to_string().contains("refresh.threshold"), "{e}");
        let e = PageConfig::from_json(&JSON.replace("write-behind", "write-sideways")).unwrap_err();
        assert!(e.to_string().contains("write-sideways"), "{e}");
        let e = PageConfig::from_json(
            &JSON.replace("}", r#", "sim": {"latency": {"l2": {"dist": "weibull"}}}}"#),
        )
        .unwrap_err();
        assert!(e.to_string().contains("weibull"), "{e}");
    }
}
