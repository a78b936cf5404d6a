//! The flags `demo` and `fleet` share: the engine's configuration from a
//! file and the overrides on top of it.

use std::path::PathBuf;

use anyhow::Context;
use strata_core::CacheConfig;
use strata_core::config::{Capacity, WriteStrategy};

use super::setup::{cache_file, policy};
use super::values;

/// A cache configuration file and overrides.
#[derive(Debug, clap::Args)]
pub(crate) struct EngineArgs {
    /// A CacheConfig TOML (as `strata tune` writes); its L3 is replaced (demo: sled; fleet: memory, and its [l2] names the Redis).
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// L1 capacity per instance in entries (overrides the config).
    #[arg(long, value_parser = values::at_least_one::<u64>)]
    l1_capacity: Option<u64>,
    /// L1 eviction policy (overrides the config): lru, lfu, fifo, sieve, s3fifo, tinylfu, clock.
    #[arg(long, value_parser = values::policy)]
    policy: Option<String>,
    /// Write strategy (overrides the config): write-through, write-back, write-behind.
    #[arg(long)]
    strategy: Option<String>,
}

impl EngineArgs {
    /// The configuration: the file (else `default`), then the overrides.
    pub(crate) fn config(&self, default: impl FnOnce() -> CacheConfig) -> anyhow::Result<CacheConfig> {
        let mut config = match &self.config {
            Some(p) => cache_file(p)?,
            None => default(),
        };
        if let Some(n) = self.l1_capacity {
            config.l1.capacity = Capacity::Entries(n);
        }
        if let Some(p) = &self.policy {
            config.l1.eviction = policy(p).context("--policy")?;
        }
        if let Some(s) = &self.strategy {
            config.write.strategy = s.parse::<WriteStrategy>().context("--strategy")?;
        }
        Ok(config)
    }
}
