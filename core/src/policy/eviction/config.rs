//! [`EvictionConfig`]: which policy, with which parameters; serde and
//! `FromStr` (the short names used by the CLI and the inspector).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{AnyPolicy, Clock, Fifo, Lfu, Lru, S3Fifo, Sieve, TinyLfu};
use crate::error::{Result, StateError};

/// Default share of the capacity given to S3-FIFO's small queue.
pub const DEFAULT_S3FIFO_SMALL_RATIO: f64 = 0.10;
/// Default size of S3-FIFO's ghost queue, as a share of the capacity (that
/// of the main queue).
pub const DEFAULT_S3FIFO_GHOST_RATIO: f64 = 0.90;
/// Default share of the capacity given to W-TinyLFU's admission window.
pub const DEFAULT_TINYLFU_WINDOW_RATIO: f64 = 0.01;
/// Default share of W-TinyLFU's main space given to its protected segment.
pub const DEFAULT_TINYLFU_PROTECTED_RATIO: f64 = 0.80;

/// Parameters of [`Clock`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClockConfig {
    /// Bits of the per-entry use counter, 1..=8 (1: the classic reference bit).
    pub bits: u8,
}

impl Default for ClockConfig {
    fn default() -> Self {
        Self { bits: 1 }
    }
}

/// Parameters of [`S3Fifo`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3FifoConfig {
    /// Share of the capacity for the small (probationary) FIFO, in `[0, 1]`.
    pub small_ratio: f64,
    /// Capacity of the ghost FIFO (hashes of recent small-queue victims) as a
    /// share of the cache's capacity, in `[0, 1]`; 0 disables it.
    pub ghost_ratio: f64,
}

impl Default for S3FifoConfig {
    fn default() -> Self {
        Self { small_ratio: DEFAULT_S3FIFO_SMALL_RATIO, ghost_ratio: DEFAULT_S3FIFO_GHOST_RATIO }
    }
}

/// Parameters of [`TinyLfu`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TinyLfuConfig {
    /// Share of the capacity for the LRU admission window, in `[0, 1]`.
    pub window_ratio: f64,
    /// Share of the main space for the protected segment, in `[0, 1]`.
    pub protected_ratio: f64,
}

impl Default for TinyLfuConfig {
    fn default() -> Self {
        Self { window_ratio: DEFAULT_TINYLFU_WINDOW_RATIO, protected_ratio: DEFAULT_TINYLFU_PROTECTED_RATIO }
    }
}

/// Which eviction policy to use, with its parameters. Serialised in
/// `CacheConfig` as e.g. `eviction = { policy = "s3fifo", small_ratio = 0.1 }`;
/// parameters left out take their defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "policy", rename_all = "lowercase", from = "Repr")]
#[non_exhaustive]
pub enum EvictionConfig {
    /// Least recently used ([`Lru`]).
    #[default]
    Lru,
    /// Least frequently used, ties by recency ([`Lfu`]).
    Lfu,
    /// First in, first out ([`Fifo`]).
    Fifo,
    /// CLOCK, second chance ([`Clock`]).
    Clock(ClockConfig),
    /// SIEVE ([`Sieve`]).
    Sieve,
    /// S3-FIFO ([`S3Fifo`]).
    S3Fifo(S3FifoConfig),
    /// W-TinyLFU ([`TinyLfu`]).
    TinyLfu(TinyLfuConfig),
}

/// What [`EvictionConfig`] is read from: the same shape, with the
/// parameterless policies as empty structs so that a stray field (a typo, a
/// parameter of another policy) is an error rather than silently ignored.
#[derive(Deserialize)]
#[serde(tag = "policy", rename_all = "lowercase")]
enum Repr {
    Lru(NoParams),
    Lfu(NoParams),
    Fifo(NoParams),
    Clock(ClockConfig),
    Sieve(NoParams),
    S3Fifo(S3FifoConfig),
    TinyLfu(TinyLfuConfig),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

impl From<Repr> for EvictionConfig {
    fn from(r: Repr) -> Self {
        match r {
            Repr::Lru(_) => EvictionConfig::Lru,
            Repr::Lfu(_) => EvictionConfig::Lfu,
            Repr::Fifo(_) => EvictionConfig::Fifo,
            Repr::Clock(c) => EvictionConfig::Clock(c),
            Repr::Sieve(_) => EvictionConfig::Sieve,
            Repr::S3Fifo(c) => EvictionConfig::S3Fifo(c),
            Repr::TinyLfu(c) => EvictionConfig::TinyLfu(c),
        }
    }
}

impl EvictionConfig {
    /// The short names [`FromStr`] accepts, in the order of [`Self::all`].
    pub const NAMES: [&'static str; 7] = ["lru", "lfu", "fifo", "clock", "sieve", "s3fifo", "tinylfu"];

    /// Every policy with default parameters, for comparisons.
    #[must_use]
    pub fn all() -> Vec<EvictionConfig> {
        vec![
            EvictionConfig::Lru,
            EvictionConfig::Lfu,
            EvictionConfig::Fifo,
            EvictionConfig::Clock(ClockConfig::default()),
            EvictionConfig::Sieve,
            EvictionConfig::S3Fifo(S3FifoConfig::default()),
            EvictionConfig::TinyLfu(TinyLfuConfig::default()),
        ]
    }

    /// The policy's short name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            EvictionConfig::Lru => "lru",
            EvictionConfig::Lfu => "lfu",
            EvictionConfig::Fifo => "fifo",
            EvictionConfig::Clock(_) => "clock",
            EvictionConfig::Sieve => "sieve",
            EvictionConfig::S3Fifo(_) => "s3fifo",
            EvictionConfig::TinyLfu(_) => "tinylfu",
        }
    }

    /// Builds the policy for a store of `capacity` weight units (out-of-range
    /// ratios are clamped; [`Self::validate`] reports them).
    #[must_use]
    pub fn build(&self, capacity: u64) -> AnyPolicy {
        match self {
            EvictionConfig::Lru => AnyPolicy::Lru(Lru::new()),
            EvictionConfig::Lfu => AnyPolicy::Lfu(Lfu::new()),
            EvictionConfig::Fifo => AnyPolicy::Fifo(Fifo::new()),
            EvictionConfig::Clock(c) => AnyPolicy::Clock(Clock::with_config(*c)),
            EvictionConfig::Sieve => AnyPolicy::Sieve(Sieve::new()),
            EvictionConfig::S3Fifo(c) => AnyPolicy::S3Fifo(S3Fifo::with_config(capacity, *c)),
            EvictionConfig::TinyLfu(c) => AnyPolicy::TinyLfu(TinyLfu::with_config(capacity, *c)),
        }
    }

    /// Checks the parameters; `path` is the dotted path of this value in
    /// the enclosing configuration (`l1.eviction`), used in the error.
    ///
    /// # Errors
    /// [`StateError::Config`] naming the first ratio outside `[0, 1]` or a
    /// CLOCK counter width outside 1..=8.
    pub fn validate(&self, path: &str) -> Result<()> {
        if let EvictionConfig::Clock(c) = self
            && !(1..=8).contains(&c.bits)
        {
            return Err(StateError::config(
                format!("{path}.bits"),
                format!("must be in 1..=8, got {}", c.bits),
            ));
        }
        let ratios: &[(&str, f64)] = match self {
            EvictionConfig::S3Fifo(c) => &[("small_ratio", c.small_ratio), ("ghost_ratio", c.ghost_ratio)],
            EvictionConfig::TinyLfu(c) => {
                &[("window_ratio", c.window_ratio), ("protected_ratio", c.protected_ratio)]
            }
            _ => &[],
        };
        for &(field, r) in ratios {
            if !(0.0..=1.0).contains(&r) {
                return Err(StateError::config(
                    format!("{path}.{field}"),
                    format!("must be in [0, 1], got {r}"),
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Display for EvictionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EvictionConfig {
    type Err = StateError;

    /// Parses a short name (`lru`, `lfu`, `fifo`, `clock`, `sieve`, `s3fifo`,
    /// `tinylfu`; case-insensitive) into the policy with default parameters.
    fn from_str(s: &str) -> Result<Self> {
        let name = s.trim().to_ascii_lowercase();
        EvictionConfig::all().into_iter().find(|c| c.name() == name).ok_or_else(|| {
            StateError::config(
                "eviction.policy",
                format!("unknown policy `{s}`; valid: {}", EvictionConfig::NAMES.join(", ")),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::eviction::EvictionPolicy;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Wrap {
        eviction: EvictionConfig,
    }

    #[test]
    fn names_parse_and_build_their_policy() {
        assert_eq!(EvictionConfig::all().len(), EvictionConfig::NAMES.len());
        for (cfg, name) in EvictionConfig::all().into_iter().zip(EvictionConfig::NAMES) {
            assert_eq!(cfg.name(), name);
            assert_eq!(name.parse::<EvictionConfig>().unwrap(), cfg);
            assert_eq!(cfg.build(10).name(), name);
            assert_eq!(cfg.to_string(), name);
        }
        assert_eq!(" S3FIFO ".parse::<EvictionConfig>().unwrap().name(), "s3fifo");
    }

    #[test]
    fn unknown_name_lists_the_valid_ones() {
        let e = "arc2".parse::<EvictionConfig>().unwrap_err().to_string();
        assert!(e.contains("`arc2`") && e.contains("lru, lfu, fifo, clock, sieve, s3fifo, tinylfu"), "{e}");
    }

    #[test]
    fn toml_with_and_without_parameters() {
        let w: Wrap = toml::from_str("eviction = { policy = \"s3fifo\", small_ratio = 0.2 }").unwrap();
        assert_eq!(w.eviction, EvictionConfig::S3Fifo(S3FifoConfig { small_ratio: 0.2, ghost_ratio: 0.9 }));
        let w: Wrap = toml::from_str("eviction = { policy = \"tinylfu\" }").unwrap();
        assert_eq!(w.eviction, EvictionConfig::TinyLfu(TinyLfuConfig::default()));
        let w: Wrap = toml::from_str("eviction = { policy = \"sieve\" }").unwrap();
        assert_eq!(w.eviction, EvictionConfig::Sieve);
        for cfg in EvictionConfig::all() {
            let text = toml::to_string(&Wrap { eviction: cfg.clone() }).unwrap();
            assert_eq!(toml::from_str::<Wrap>(&text).unwrap().eviction, cfg, "{text}");
        }
        let e = toml::from_str::<Wrap>("eviction = { policy = \"s3fifo\", smal_ratio = 0.2 }").unwrap_err();
        assert!(e.to_string().contains("smal_ratio"), "{e}");
        assert!(toml::from_str::<Wrap>("eviction = { policy = \"arc\" }").is_err());
        assert!(toml::from_str::<Wrap>("eviction = { policy = \"lru\", bits = 2 }").is_err());
        let w: Wrap = toml::from_str("eviction = { policy = \"clock\", bits = 2 }").unwrap();
        assert_eq!(w.eviction, EvictionConfig::Clock(ClockConfig { bits: 2 }));
    }

    #[test]
    fn validate_names_the_field() {
        let bad = EvictionConfig::TinyLfu(TinyLfuConfig { window_ratio: 1.5, ..TinyLfuConfig::default() });
        let e = bad.validate("l1.eviction").unwrap_err().to_string();
        assert!(e.contains("l1.eviction.window_ratio") && e.contains("1.5"), "{e}");
        let e = EvictionConfig::Clock(ClockConfig { bits: 0 }).validate("l1.eviction").unwrap_err();
        assert!(e.to_string().contains("l1.eviction.bits"), "{e}");
        for cfg in EvictionConfig::all() {
            cfg.validate("l1.eviction").unwrap();
        }
    }
}
