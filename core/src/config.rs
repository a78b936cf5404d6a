//! `CacheConfig`: the whole configuration of a tiered cache, serde with
//! defaults, loadable from TOML. The simulator's tuner writes this very type,
//! so a configuration tuned offline loads unchanged in production.
//!
//! Durations are written in milliseconds (`ttl_ms = 30000`). An absent
//! `[l1] ttl_ms` means no expiry; an absent `[l2] ttl_ms` means its default
//! (5 minutes), and `0` there means no expiry.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StateError};
use crate::l1::MAX_SHARDS;
use crate::policy::eviction::EvictionConfig;

mod located;
pub use located::{field_line, locate_field, toml_error_parts};

/// Default L1 capacity in entries.
pub const DEFAULT_L1_CAPACITY: u64 = 10_000;
/// Default refresh-ahead threshold (fraction of the TTL).
pub const DEFAULT_REFRESH_THRESHOLD: f64 = 0.8;
/// Default write-behind batch size.
pub const DEFAULT_BATCH_SIZE: usize = 256;
/// Default write-behind flush interval.
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_millis(100);
/// Default write-behind queue limit (pending keys).
pub const DEFAULT_QUEUE_CAPACITY: usize = 100_000;
/// Default time a put waits for room in a full write-behind queue.
pub const DEFAULT_BACKPRESSURE_TIMEOUT: Duration = Duration::from_secs(5);

/// How a tier's capacity is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Capacity {
    /// At most this many entries (every entry weighs 1).
    Entries(u64),
    /// At most this many bytes of keys plus values.
    Bytes(u64),
}

impl Capacity {
    /// The capacity in weight units.
    #[must_use]
    pub fn units(self) -> u64 {
        match self {
            Capacity::Entries(n) | Capacity::Bytes(n) => n,
        }
    }

    /// The weight of an entry with `key_len + value_len` bytes.
    #[inline]
    #[must_use]
    pub fn weigh(self, key_len: usize, value_len: usize) -> u64 {
        match self {
            Capacity::Entries(_) => 1,
            Capacity::Bytes(_) => (key_len + value_len) as u64,
        }
    }
}

impl Default for Capacity {
    fn default() -> Self {
        Capacity::Entries(DEFAULT_L1_CAPACITY)
    }
}

/// The whole configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// The in-process tier.
    pub l1: L1Config,
    /// The shared tier (Redis); absent: no L2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l2: Option<L2Config>,
    /// The durable tier.
    pub l3: L3Config,
    /// How writes reach L3.
    pub write: WriteConfig,
    /// Refresh-ahead.
    pub refresh: RefreshConfig,
}

/// L1 settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct L1Config {
    /// Capacity in entries or bytes.
    pub capacity: Capacity,
    /// Time to live of L1 entries; `None`: no expiry.
    #[serde(rename = "ttl_ms", with = "opt_ms", skip_serializing_if = "Option::is_none")]
    pub ttl: Option<Duration>,
    /// How long L1 remembers that a key is absent (negative caching): a
    /// read that finds the key in neither its pending writes nor L3 then
    /// leaves a marker in L1, and reads until it expires are L1 hits that
    /// answer `None` without asking L3. A write or a delete of the key
    /// replaces or drops the marker (and other instances' writes reach it
    /// by invalidation, as any entry). `None` (the default): absent keys
    /// are not remembered, each read of one asks L3.
    #[serde(rename = "negative_ttl_ms", with = "opt_ms", skip_serializing_if = "Option::is_none")]
    pub negative_ttl: Option<Duration>,
    /// The eviction policy.
    pub eviction: EvictionConfig,
    /// Number of shards (rounded up to a power of two, at most
    /// [`MAX_SHARDS`] and at most the capacity); 0: chosen from the number
    /// of CPUs. Each shard holds an equal part of the capacity, so with a
    /// capacity in bytes a value heavier than one part is not kept in L1
    /// (counted in `TierStats::too_large`).
    pub shards: usize,
    /// Seed of the key hash (shard choice, the hash table, hash-dependent
    /// policy decisions); `None`: a random one per cache, so that nobody
    /// who chooses keys can aim them at one shard or probe sequence. The
    /// simulator uses [`crate::l1::DEFAULT_HASH_SEED`] unless this is set:
    /// give both the same seed to make the engine take exactly the
    /// simulator's decisions (W-TinyLFU's sketch and S3-FIFO's ghost hash
    /// keys; LRU, LFU, FIFO, CLOCK and SIEVE do not depend on it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_seed: Option<u64>,
}

/// L2 (Redis) settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct L2Config {
    /// `redis://` or `rediss://` URL, AUTH included if needed.
    pub url: String,
    /// Key prefix and pub/sub channel name of this cache.
    pub namespace: String,
    /// Time to live of L2 entries; `None`: no expiry. In TOML, absent means
    /// the default (300 s) and `ttl_ms = 0` means no expiry, so every value
    /// survives a round trip. At most [`MAX_L2_TTL`].
    #[serde(rename = "ttl_ms", with = "zero_ms_none")]
    pub ttl: Option<Duration>,
    /// How long L2 remembers that a key is absent (negative caching shared
    /// by every instance): a read that finds the key absent in L3 leaves a
    /// marker in L2 (`SET NX`, so never over a newer write), and reads of
    /// any instance until it expires answer `None` from L2 without asking
    /// L3 (and leave an L1 marker too when `l1.negative_ttl_ms` is set).
    /// Any write or delete of the key replaces the marker. `None` (the
    /// default): L2 holds no markers. At most [`MAX_L2_TTL`].
    #[serde(rename = "negative_ttl_ms", with = "opt_ms", skip_serializing_if = "Option::is_none")]
    pub negative_ttl: Option<Duration>,
    /// Timeout of every Redis call.
    #[serde(rename = "timeout_ms", with = "ms")]
    pub timeout: Duration,
    /// Consecutive failures that open the circuit breaker.
    pub breaker_failures: u32,
    /// How long L2 is bypassed once the breaker is open.
    #[serde(rename = "breaker_cooldown_ms", with = "ms")]
    pub breaker_cooldown: Duration,
    /// Capacity of L2 (used by the simulator; Redis itself is bounded by its
    /// `maxmemory`). `None`: unbounded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Capacity>,
}

impl Default for L2Config {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".into(),
            namespace: "strata".into(),
            ttl: Some(Duration::from_secs(300)),
            negative_ttl: None,
            timeout: Duration::from_millis(50),
            breaker_failures: 5,
            breaker_cooldown: Duration::from_secs(1),
            capacity: None,
        }
    }
}

impl L2Config {
    /// Checks every value.
    ///
    /// The namespace may not contain `:`: keys are stored as
    /// `namespace ":" key`, so a namespace `a:b` would share its key space
    /// with the keys `b:...` of namespace `a`.
    ///
    /// # Errors
    /// [`StateError::Config`] naming the first invalid field (`l2.url`, ...).
    pub fn validate(&self) -> Result<()> {
        if !(self.url.starts_with("redis://") || self.url.starts_with("rediss://")) {
            return Err(StateError::config("l2.url", "must start with redis:// or rediss://"));
        }
        if self.namespace.is_empty() {
            return Err(StateError::config("l2.namespace", "must not be empty"));
        }
        if self.namespace.contains(':') {
            return Err(StateError::config(
                "l2.namespace",
                format!(
                    "must not contain ':' (got {:?}): it separates the namespace from the key",
                    self.namespace
                ),
            ));
        }
        if self.timeout.is_zero() {
            return Err(StateError::config("l2.timeout_ms", "must be positive"));
        }
        if let Some(ttl) = self.ttl.filter(|t| *t > MAX_L2_TTL) {
            return Err(StateError::config(
                "l2.ttl_ms",
                format!(
                    "must be at most {} (100 years; 0 means no expiry), got {}",
                    MAX_L2_TTL.as_millis(),
                    ttl.as_millis()
                ),
            ));
        }
        match self.negative_ttl {
            Some(t) if t.is_zero() => {
                return Err(StateError::config(
                    "l2.negative_ttl_ms",
                    "must be positive (omit it to keep no absent keys in L2)",
                ));
            }
            Some(t) if t > MAX_L2_TTL => {
                return Err(StateError::config(
                    "l2.negative_ttl_ms",
                    format!("must be at most {} (100 years), got {}", MAX_L2_TTL.as_millis(), t.as_millis()),
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

/// Which durable backend L3 is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase", deny_unknown_fields)]
#[non_exhaustive]
pub enum L3Config {
    /// In memory (tests).
    Memory,
    /// Embedded sled database at `path` (the default).
    Sled {
        /// Directory of the database.
        path: String,
        /// Linux nice value (-20 to 19) of the thread that writes the
        /// write-behind flusher's batches (`SledOptions::background_nice`);
        /// `0` (or below the process's own): the process's priority.
        #[serde(default = "default_background_nice")]
        background_nice: i32,
    },
    /// PostgreSQL through sqlx.
    Postgres {
        /// `postgres://` URL.
        url: String,
        /// Table name (validated as an SQL identifier).
        table: String,
    },
}

/// Default nice value of sled's background writer (also
/// `backend::DEFAULT_BACKGROUND_NICE` with feature `sled`).
pub const DEFAULT_SLED_BACKGROUND_NICE: i32 = 10;

/// Checks that `nice`, given for `field`, is a Linux nice value (-20 to 19).
pub(crate) fn check_nice(field: &str, nice: i32) -> Result<()> {
    if (-20..=19).contains(&nice) {
        return Ok(());
    }
    Err(StateError::config(field, format!("{nice} is not a nice value (-20 to 19)")))
}

fn default_background_nice() -> i32 {
    DEFAULT_SLED_BACKGROUND_NICE
}

impl L3Config {
    /// sled at `path` with the default background priority.
    #[must_use]
    pub fn sled(path: impl Into<String>) -> Self {
        L3Config::Sled { path: path.into(), background_nice: DEFAULT_SLED_BACKGROUND_NICE }
    }
}

impl Default for L3Config {
    fn default() -> Self {
        L3Config::sled("strata-data")
    }
}

/// Write strategy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WriteStrategy {
    /// L3 first, then the caches; `put` returns once L3 has it.
    #[default]
    WriteThrough,
    /// Caches now, L3 by a background task per write.
    WriteBack,
    /// Caches now, L3 in coalesced batches.
    WriteBehind,
}

impl WriteStrategy {
    /// Every strategy.
    pub const ALL: [WriteStrategy; 3] =
        [WriteStrategy::WriteThrough, WriteStrategy::WriteBack, WriteStrategy::WriteBehind];

    /// The name used in TOML and on the command line (`write-through`, ...).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            WriteStrategy::WriteThrough => "write-through",
            WriteStrategy::WriteBack => "write-back",
            WriteStrategy::WriteBehind => "write-behind",
        }
    }
}

impl std::fmt::Display for WriteStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for WriteStrategy {
    type Err = StateError;

    fn from_str(s: &str) -> Result<Self> {
        WriteStrategy::ALL.into_iter().find(|w| w.name() == s).ok_or_else(|| {
            StateError::config(
                "write.strategy",
                format!("unknown `{s}`; valid: write-through, write-back, write-behind"),
            )
        })
    }
}

/// Write settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WriteConfig {
    /// The strategy.
    pub strategy: WriteStrategy,
    /// Write-behind: flush when this many keys are pending.
    pub batch_size: usize,
    /// Write-behind: flush pending writes at least this often.
    #[serde(rename = "flush_interval_ms", with = "ms")]
    pub flush_interval: Duration,
    /// Write-behind (and write-back): most pending keys before puts wait
    /// (besides the one batch that may be out being written).
    pub queue_capacity: usize,
    /// How long a put waits for room before failing with `QueueFull`.
    #[serde(rename = "backpressure_timeout_ms", with = "ms")]
    pub backpressure_timeout: Duration,
    /// Write-allocate (the default): a write caches its value in L1 even
    /// when L1 does not hold the key, evicting to make room. `false`
    /// (no-write-allocate): a write replaces the value of a key L1 holds
    /// and leaves other keys out, so keys that are written but seldom read
    /// do not push the read working set out of L1. Reads see every write
    /// either way (from L1, the write queue or L3); the simulator models
    /// both. L2 is written alike in both modes.
    pub allocate: bool,
}

impl Default for WriteConfig {
    fn default() -> Self {
        Self {
            strategy: WriteStrategy::default(),
            batch_size: DEFAULT_BATCH_SIZE,
            flush_interval: DEFAULT_FLUSH_INTERVAL,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            backpressure_timeout: DEFAULT_BACKPRESSURE_TIMEOUT,
            allocate: true,
        }
    }
}

/// Refresh-ahead settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RefreshConfig {
    /// Whether hits on old entries trigger a background reload.
    pub enabled: bool,
    /// Fraction of the TTL after which a hit triggers a reload, in (0, 1).
    pub threshold: f64,
}

impl Default for RefreshConfig {
    fn default() -> Self {
        Self { enabled: false, threshold: DEFAULT_REFRESH_THRESHOLD }
    }
}

impl CacheConfig {
    /// Parses TOML text (`source` names it in errors) and validates it.
    ///
    /// # Errors
    /// [`StateError::Config`] naming the file, the line (where the file
    /// sets the field) and the field.
    pub fn from_toml_str(text: &str, source: &str) -> Result<Self> {
        let cfg: CacheConfig = toml::from_str(text).map_err(|e| {
            let (at, what) = toml_error_parts(text, source, &e);
            StateError::config(at, what)
        })?;
        cfg.validate().map_err(|e| match e {
            StateError::Config { field, reason } => {
                StateError::config(locate_field(text, source, &field), reason)
            }
            other => other,
        })?;
        Ok(cfg)
    }

    /// Serialises to TOML.
    ///
    /// # Errors
    /// [`StateError::Config`] if a value cannot be represented.
    pub fn to_toml_string(&self) -> Result<String> {
        toml::to_string_pretty(self).map_err(|e| StateError::config("<config>", e.to_string()))
    }

    /// Checks every value.
    ///
    /// # Errors
    /// [`StateError::Config`] naming the first invalid field.
    pub fn validate(&self) -> Result<()> {
        if self.l1.capacity.units() == 0 {
            return Err(StateError::config("l1.capacity", "must be at least 1"));
        }
        let shards = self.l1.shards;
        if shards > MAX_SHARDS {
            return Err(StateError::config(
                "l1.shards",
                format!("must be at most {MAX_SHARDS}, got {shards}"),
            ));
        }
        let rounded = shards.max(1).next_power_of_two() as u64;
        if rounded > self.l1.capacity.units() {
            return Err(StateError::config(
                "l1.shards",
                format!(
                    "{shards} (rounded up to {rounded}) shards would leave shards without capacity: \
                     l1.capacity is {} units (use 0 to choose from the capacity)",
                    self.l1.capacity.units()
                ),
            ));
        }
        self.l1.eviction.validate("l1.eviction")?;
        if self.l1.ttl == Some(Duration::ZERO) {
            return Err(StateError::config("l1.ttl_ms", "must be positive (omit it for no expiry)"));
        }
        if self.l1.negative_ttl == Some(Duration::ZERO) {
            return Err(StateError::config(
                "l1.negative_ttl_ms",
                "must be positive (omit it to remember no absent keys)",
            ));
        }
        if let Some(l2) = &self.l2 {
            l2.validate()?;
        }
        if let L3Config::Sled { background_nice, .. } = &self.l3 {
            check_nice("l3.background_nice", *background_nice)?;
        }
        if let L3Config::Postgres { url, table } = &self.l3 {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(StateError::config("l3.url", "must start with postgres:// or postgresql://"));
            }
            validate_table_name(table)?;
        }
        let w = &self.write;
        if w.batch_size == 0 {
            return Err(StateError::config("write.batch_size", "must be at least 1"));
        }
        if w.queue_capacity < w.batch_size {
            return Err(StateError::config("write.queue_capacity", "must be at least write.batch_size"));
        }
        if w.flush_interval.is_zero() {
            return Err(StateError::config("write.flush_interval_ms", "must be positive"));
        }
        let t = self.refresh.threshold;
        if !(t > 0.0 && t < 1.0) {
            return Err(StateError::config("refresh.threshold", format!("must be in (0, 1), got {t}")));
        }
        Ok(())
    }
}

/// Longest L2 TTL (`l2.ttl_ms`): 100 years. Redis refuses expiry times
/// near its 64-bit limit; a per-write TTL longer than this is stored in L2
/// without expiry.
pub const MAX_L2_TTL: Duration = Duration::from_secs(100 * 365 * 86_400);

/// Longest PostgreSQL identifier (`NAMEDATALEN - 1`).
pub const MAX_IDENTIFIER_LEN: usize = 63;

/// Checks an L3 table name: `table` or `schema.table`, each part an SQL
/// identifier `[A-Za-z_][A-Za-z0-9_]{0,62}`. Nothing else can reach SQL text
/// (the backend quotes the parts, so names are case-sensitive and reserved
/// words are allowed).
///
/// # Errors
/// [`StateError::Config`] for field `l3.table` saying what is wrong.
pub fn validate_table_name(name: &str) -> Result<()> {
    let bad = |reason: String| Err(StateError::config("l3.table", reason));
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() > 2 {
        return bad(format!("{name:?}: at most one `.` (schema.table)"));
    }
    for part in parts {
        let mut chars = part.chars();
        match chars.next() {
            None => return bad(format!("{name:?}: empty identifier")),
            Some(c) if !(c.is_ascii_alphabetic() || c == '_') => {
                return bad(format!("{name:?}: an identifier must start with a letter or `_`, not {c:?}"));
            }
            Some(_) => {}
        }
        if let Some(c) = chars.find(|c| !(c.is_ascii_alphanumeric() || *c == '_')) {
            return bad(format!("{name:?}: {c:?} is not allowed (letters, digits and `_` only)"));
        }
        if part.len() > MAX_IDENTIFIER_LEN {
            return bad(format!("{name:?}: {part:?} is longer than {MAX_IDENTIFIER_LEN} bytes"));
        }
    }
    Ok(())
}

mod ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

/// `Option<Duration>` as milliseconds where 0 stands for `None`.
mod zero_ms_none {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    #[allow(clippy::ref_option)] // serde's `with` signature
    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let ms = u64::deserialize(d)?;
        Ok((ms > 0).then(|| Duration::from_millis(ms)))
    }
}

mod opt_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    #[allow(clippy::ref_option)] // serde's `with` signature
    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

#[cfg(test)]
mod tests;
