//! `SimConfig`: what the simulator models beyond the cache configuration
//! (latencies, concurrency, instances, arrivals, seed). Written in TOML:
//!
//! ```toml
//! seed = 7
//! instances = 4
//! window_ms = 1000
//! arrival = { mode = "rate", per_sec = 50000 }
//! [latency]
//! l2 = { dist = "lognormal", p50_us = 300, p99_us = 2000 }
//! l3_read = { dist = "gamma", mean_us = 3000, std_us = 1500 }
//! [l3]
//! concurrency = 32
//! failure_rate = 0.001
//! outages = [{ start_ms = 60000, duration_ms = 30000 }]
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Result, SimError};
use crate::latency::{LatencyConfig, LatencyModel};

/// Default master seed.
pub const DEFAULT_SEED: u64 = 0x5eed;
/// Default time-series window.
pub const DEFAULT_WINDOW_MS: u64 = 1000;
/// Default `shutdown_ms`: the deadline `strata demo` gives the engine's
/// `shutdown()`.
pub const DEFAULT_SHUTDOWN_MS: u64 = 60_000;
/// Most application instances a simulation may model: each gets its own L1
/// store and write queue, so the count bounds the memory a configuration can
/// ask for.
pub const MAX_INSTANCES: u32 = 1024;
/// Largest `arrival.time_scale`: a trace slowed down 1000-fold may still
/// span 213 days before its arrival times pass what `u64` nanoseconds hold
/// (584 years); past that they would be clamped.
pub const MAX_TIME_SCALE: f64 = 1000.0;
/// Smallest `arrival.per_sec`: one request every 100 s, at which the
/// arrival times of 184 million requests fit in `u64` nanoseconds.
pub const MIN_RATE_PER_SEC: f64 = 0.01;

/// The simulator's own settings. Every field has a default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Master seed; every random choice derives from it.
    pub seed: u64,
    /// Application instances, each with its own L1, sharing L2 and L3:
    /// 1 to [`MAX_INSTANCES`].
    pub instances: u32,
    /// Which instance serves a request.
    pub routing: Routing,
    /// When requests arrive.
    pub arrival: Arrival,
    /// Width of a time-series window.
    pub window_ms: u64,
    /// Latency of each tier.
    pub latency: Latencies,
    /// L3 capacity model.
    pub l3: L3Sim,
    /// Flusher turns in flight per instance (the engine runs one): a
    /// write-behind turn writes one batch with one L3 call, a write-back
    /// turn each of its writes with a call of its own, up to
    /// `WRITE_BACK_CONCURRENCY` at once.
    pub flushers: u32,
    /// When the trace ends the application shuts the cache down with this
    /// deadline (the engine's `shutdown(deadline)`), in ms after the last
    /// arrival: queued writes are flushed at once, a failed batch is
    /// retried with the flusher's backoff while the next try comes before
    /// the deadline, and what is still queued then is reported unwritten
    /// (`write_queue.unflushed`, the engine's `Unflushed` keys).
    pub shutdown_ms: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: DEFAULT_SEED,
            instances: 1,
            routing: Routing::default(),
            arrival: Arrival::default(),
            window_ms: DEFAULT_WINDOW_MS,
            latency: Latencies::default(),
            l3: L3Sim::default(),
            flushers: 1,
            shutdown_ms: DEFAULT_SHUTDOWN_MS,
        }
    }
}

/// How requests are spread over instances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Routing {
    /// Request i goes to instance i mod n.
    #[default]
    RoundRobin,
    /// A uniformly random instance (seeded).
    Random,
    /// The instance chosen by the key's hash (sticky sessions).
    KeyHash,
}

/// When requests arrive.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase", deny_unknown_fields)]
pub enum Arrival {
    /// At the trace's timestamps (relative to the first), multiplied by
    /// `time_scale` (0.5: twice as fast).
    Trace {
        /// Multiplier of trace time, 0 to [`MAX_TIME_SCALE`].
        #[serde(default = "one")]
        time_scale: f64,
    },
    /// At a fixed rate, ignoring trace timestamps.
    Rate {
        /// Requests per second, at least [`MIN_RATE_PER_SEC`].
        per_sec: f64,
    },
}

fn one() -> f64 {
    1.0
}

impl Default for Arrival {
    fn default() -> Self {
        Arrival::Trace { time_scale: 1.0 }
    }
}

/// The latency of each tier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Latencies {
    /// An L1 lookup (hit or miss).
    pub l1: LatencyConfig,
    /// One L2 (Redis) call.
    pub l2: LatencyConfig,
    /// One L3 read.
    pub l3_read: LatencyConfig,
    /// One L3 write request (a single write or a whole batch).
    pub l3_write: LatencyConfig,
    /// Extra L3 time per key of a write-behind batch.
    pub l3_batch_item_us: f64,
    /// Delay of an invalidation message reaching another instance.
    pub invalidation: LatencyConfig,
}

impl Default for Latencies {
    fn default() -> Self {
        Self {
            l1: LatencyConfig::constant(1.0),
            l2: LatencyConfig::lognormal(300.0, 2_000.0),
            l3_read: LatencyConfig::lognormal(2_000.0, 20_000.0),
            l3_write: LatencyConfig::lognormal(3_000.0, 30_000.0),
            l3_batch_item_us: 20.0,
            invalidation: LatencyConfig::lognormal(500.0, 5_000.0),
        }
    }
}

impl Latencies {
    /// No latency anywhere: each request's loads, writes (write-through)
    /// and invalidations complete before the next request arrives. What
    /// the naive reference and `strata fleet` compare against.
    #[must_use]
    pub fn none() -> Self {
        let zero = LatencyConfig::constant(0.0);
        Self {
            l1: zero.clone(),
            l2: zero.clone(),
            l3_read: zero.clone(),
            l3_write: zero.clone(),
            l3_batch_item_us: 0.0,
            invalidation: zero,
        }
    }
}

/// The L3 capacity and failure model.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct L3Sim {
    /// Requests L3 serves at once; more wait in a FIFO queue. `None`: no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Share of L3 requests that fail (0 to 1, drawn from the seed), after
    /// their usual latency.
    #[serde(skip_serializing_if = "is_zero")]
    pub failure_rate: f64,
    /// Spans of virtual time (from the first arrival) in which every L3
    /// request that enters service fails.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outages: Vec<Outage>,
}

/// A span in which L3 is down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outage {
    /// When it begins, in ms from the first arrival.
    pub start_ms: u64,
    /// How long it lasts, in ms (at least 1).
    pub duration_ms: u64,
}

impl Outage {
    /// The span in nanoseconds, `[start, end)` (validated not to overflow).
    #[must_use]
    pub fn span_ns(&self) -> (u64, u64) {
        let start = self.start_ms.saturating_mul(1_000_000);
        (start, start.saturating_add(self.duration_ms.saturating_mul(1_000_000)))
    }
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// The latency models built from [`Latencies`].
#[derive(Clone, Debug)]
pub struct LatencyModels {
    /// L1 lookup.
    pub l1: LatencyModel,
    /// L2 call.
    pub l2: LatencyModel,
    /// L3 read.
    pub l3_read: LatencyModel,
    /// L3 write request.
    pub l3_write: LatencyModel,
    /// Extra nanoseconds per batched key.
    pub l3_batch_item_ns: u64,
    /// Invalidation delay.
    pub invalidation: LatencyModel,
}

impl SimConfig {
    /// Parses TOML text (`source` names it in errors) and validates it.
    ///
    /// # Errors
    /// [`SimError::Config`] naming the source, line and field.
    pub fn from_toml_str(text: &str, source: &str) -> Result<Self> {
        let cfg: SimConfig = toml::from_str(text).map_err(|e| {
            let (at, what) = strata_core::config::toml_error_parts(text, source, &e);
            SimError::config(at, what)
        })?;
        cfg.validate().map_err(|e| match e {
            SimError::Config { field, reason } => {
                SimError::config(strata_core::config::locate_field(text, source, &field), reason)
            }
            other => other,
        })?;
        Ok(cfg)
    }

    /// Serialises to TOML.
    ///
    /// # Errors
    /// [`SimError::Config`] if a value cannot be represented.
    pub fn to_toml_string(&self) -> Result<String> {
        toml::to_string_pretty(self).map_err(|e| SimError::config("<sim config>", e.to_string()))
    }

    /// Checks every value (latency models included).
    ///
    /// # Errors
    /// [`SimError::Config`] naming the first invalid field.
    pub fn validate(&self) -> Result<()> {
        if self.instances == 0 {
            return Err(SimError::config("instances", "must be at least 1"));
        }
        if self.instances > MAX_INSTANCES {
            return Err(SimError::config(
                "instances",
                format!("must be at most {MAX_INSTANCES}, got {}", self.instances),
            ));
        }
        if self.window_ms == 0 {
            return Err(SimError::config("window_ms", "must be positive"));
        }
        if self.flushers == 0 {
            return Err(SimError::config("flushers", "must be at least 1"));
        }
        if self.shutdown_ms.checked_mul(1_000_000).is_none() {
            return Err(SimError::config(
                "shutdown_ms",
                format!(
                    "must be at most {} (u64 nanoseconds), got {}",
                    u64::MAX / 1_000_000,
                    self.shutdown_ms
                ),
            ));
        }
        if self.l3.concurrency == Some(0) {
            return Err(SimError::config("l3.concurrency", "must be at least 1 (omit it for no limit)"));
        }
        let rate = self.l3.failure_rate;
        if !(rate.is_finite() && (0.0..=1.0).contains(&rate)) {
            return Err(SimError::config("l3.failure_rate", format!("must be between 0 and 1, got {rate}")));
        }
        for (n, o) in self.l3.outages.iter().enumerate() {
            if o.duration_ms == 0 {
                return Err(SimError::config(format!("l3.outages[{n}].duration_ms"), "must be at least 1"));
            }
            // Virtual time is u64 nanoseconds (584 years).
            let end = o.start_ms.checked_add(o.duration_ms).and_then(|ms| ms.checked_mul(1_000_000));
            if end.is_none() {
                return Err(SimError::config(
                    format!("l3.outages[{n}]"),
                    "must end within 584 years (u64 nanoseconds)",
                ));
            }
        }
        match self.arrival {
            Arrival::Trace { time_scale } if !(time_scale.is_finite() && time_scale >= 0.0) => {
                return Err(SimError::config(
                    "arrival.time_scale",
                    format!("must be >= 0, got {time_scale}"),
                ));
            }
            Arrival::Trace { time_scale } if time_scale > MAX_TIME_SCALE => {
                return Err(SimError::config(
                    "arrival.time_scale",
                    format!(
                        "must be at most {MAX_TIME_SCALE} (scaled arrival times must fit in u64 nanoseconds), got {time_scale}"
                    ),
                ));
            }
            Arrival::Rate { per_sec } if !(per_sec.is_finite() && per_sec > 0.0) => {
                return Err(SimError::config("arrival.per_sec", format!("must be positive, got {per_sec}")));
            }
            Arrival::Rate { per_sec } if per_sec < MIN_RATE_PER_SEC => {
                return Err(SimError::config(
                    "arrival.per_sec",
                    format!(
                        "must be at least {MIN_RATE_PER_SEC} (arrival times must fit in u64 nanoseconds), got {per_sec}"
                    ),
                ));
            }
            _ => {}
        }
        self.latency.build().map(|_| ())
    }
}

impl Latencies {
    /// Validates and builds every model.
    ///
    /// # Errors
    /// [`SimError::Config`] naming the invalid field (`latency.l2.p99_us`).
    pub fn build(&self) -> Result<LatencyModels> {
        let item = self.l3_batch_item_us;
        if !(item.is_finite() && item >= 0.0) {
            return Err(SimError::config("latency.l3_batch_item_us", format!("must be >= 0, got {item}")));
        }
        Ok(LatencyModels {
            l1: LatencyModel::new(&self.l1, "latency.l1")?,
            l2: LatencyModel::new(&self.l2, "latency.l2")?,
            l3_read: LatencyModel::new(&self.l3_read, "latency.l3_read")?,
            l3_write: LatencyModel::new(&self.l3_write, "latency.l3_write")?,
            l3_batch_item_ns: (item * 1000.0).round() as u64,
            invalidation: LatencyModel::new(&self.invalidation, "latency.invalidation")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_and_validate() {
        let cfg = SimConfig::default();
        cfg.validate().unwrap();
        let text = cfg.to_toml_string().unwrap();
        assert_eq!(SimConfig::from_toml_str(&text, "x.toml").unwrap(), cfg);
    }

    #[test]
    fn partial_file_gets_defaults() {
        let cfg = SimConfig::from_toml_str(
            "instances = 3\narrival = { mode = \"rate\", per_sec = 1000 }\n[latency]\nl2 = { dist = \"constant\", us = 100 }\n[l3]\nconcurrency = 8\n",
            "s.toml",
        )
        .unwrap();
        assert_eq!(cfg.instances, 3);
        assert_eq!(cfg.arrival, Arrival::Rate { per_sec: 1000.0 });
        assert_eq!(cfg.latency.l2, LatencyConfig::constant(100.0));
        assert_eq!(cfg.latency.l3_read, Latencies::default().l3_read);
        assert_eq!(cfg.l3.concurrency, Some(8));
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let e = SimConfig::from_toml_str("seed = 1\n\ninstancez = 2\n", "s.toml").unwrap_err().to_string();
        assert!(e.contains("s.toml line 3") && e.contains("instancez"), "{e}");
        let e = SimConfig::from_toml_str(
            "[latency]\nl3_read = { dist = \"lognormal\", p50_us = 5, p99_us = 1 }\n",
            "s.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("s.toml line 2: latency.l3_read.p99_us"), "{e}");
        let e = SimConfig::from_toml_str("instances = 0\n", "s.toml").unwrap_err().to_string();
        assert!(e.contains("instances"), "{e}");
    }

    #[test]
    fn instances_are_bounded() {
        let e = SimConfig::from_toml_str("instances = 4000000000\n", "s.toml").unwrap_err().to_string();
        assert_eq!(e, format!("s.toml line 1: instances: must be at most {MAX_INSTANCES}, got 4000000000"));
        let cfg = SimConfig { instances: MAX_INSTANCES, ..SimConfig::default() };
        cfg.validate().unwrap();
        let cfg = SimConfig { instances: MAX_INSTANCES + 1, ..SimConfig::default() };
        assert!(cfg.validate().unwrap_err().to_string().starts_with("instances: must be at most 1024"));
    }

    #[test]
    fn arrivals_whose_times_overflow_are_rejected() {
        let e = SimConfig::from_toml_str("arrival = { mode = \"trace\", time_scale = 1e300 }\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s.toml line 1: arrival.time_scale: must be at most 1000"), "{e}");
        let e = SimConfig::from_toml_str("arrival = { mode = \"rate\", per_sec = 1e-300 }\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s.toml line 1: arrival.per_sec: must be at least 0.01"), "{e}");
        for arrival in
            [Arrival::Trace { time_scale: MAX_TIME_SCALE }, Arrival::Rate { per_sec: MIN_RATE_PER_SEC }]
        {
            SimConfig { arrival, ..SimConfig::default() }.validate().unwrap();
        }
    }

    #[test]
    fn shutdown_deadline_parses_and_must_fit() {
        assert_eq!(SimConfig::default().shutdown_ms, 60_000);
        assert_eq!(SimConfig::from_toml_str("shutdown_ms = 500\n", "s.toml").unwrap().shutdown_ms, 500);
        let e = SimConfig::from_toml_str("shutdown_ms = 18446744073709551615\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s.toml line 1: shutdown_ms: must be at most 18446744073709"), "{e}");
    }

    #[test]
    fn l3_failures_parse_and_bad_ones_are_named() {
        let text = "[l3]\nfailure_rate = 0.01\noutages = [{ start_ms = 60000, duration_ms = 30000 }]\n";
        let cfg = SimConfig::from_toml_str(text, "s.toml").unwrap();
        assert_eq!(cfg.l3.failure_rate, 0.01);
        assert_eq!(cfg.l3.outages, [Outage { start_ms: 60_000, duration_ms: 30_000 }]);
        assert_eq!(cfg.l3.outages[0].span_ns(), (60_000_000_000, 90_000_000_000));
        assert_eq!(SimConfig::from_toml_str(&cfg.to_toml_string().unwrap(), "x").unwrap(), cfg);
        let err = |text: &str| SimConfig::from_toml_str(text, "s.toml").unwrap_err().to_string();
        let e = err("[l3]\nfailure_rate = 1.5\n");
        assert_eq!(e, "s.toml line 2: l3.failure_rate: must be between 0 and 1, got 1.5");
        let e =
            err("[l3]\noutages = [{ start_ms = 0, duration_ms = 5 }, { start_ms = 9, duration_ms = 0 }]\n");
        assert_eq!(e, "s.toml line 2: l3.outages[1].duration_ms: must be at least 1");
        let e = err("[l3]\noutages = [{ start_ms = 18446744073709551615, duration_ms = 1 }]\n");
        assert!(e.starts_with("s.toml line 2: l3.outages[0]: must end within 584 years"), "{e}");
        let e = err("[l3]\noutages = [{ start_ms = 0, duration = 1 }]\n");
        assert!(e.contains("s.toml line 2") && e.contains("duration"), "{e}");
    }
}
