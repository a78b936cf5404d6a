//! Synthetic trace generators: keys from a [`KeyDist`] (Zipf, uniform, scan,
//! loop, a shifting hot set), a read/write mix, value sizes from a
//! [`SizeDist`], arrival times from [`Arrivals`].
//!
//! Deterministic: every random choice comes from `rand_pcg::Pcg64Mcg`
//! generators seeded from [`GenConfig::seed`] (one stream each for keys,
//! ops and arrivals; sizes from a generator seeded by the key, so a key
//! always has one size). The same configuration gives the same requests,
//! and through [`crate::trace::TraceWriter`] the same bytes. Changing
//! `write_ratio` does not change the keys, and changing the keys'
//! distribution does not change the arrival times.
//!
//! ```
//! use strata_sim::generate::{GenConfig, KeyDist};
//! let config = GenConfig { dist: KeyDist::Zipf { alpha: 1.0 }, keys: 1000, requests: 5, ..GenConfig::default() };
//! let reqs: Vec<_> = config.build()?.collect();
//! assert_eq!(reqs.len(), 5);
//! assert!(reqs.iter().all(|r| r.key < 1000));
//! # Ok::<(), strata_sim::generate::GenError>(())
//! ```

mod dist;
mod zipf;

pub use dist::{Arrivals, KeyDist, SizeDist};
pub use zipf::Zipf;

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

use crate::trace::{Op, Request};
use dist::{KeySampler, SizeSampler, unit};

/// Most keys a Zipf table may have (its table takes 12 bytes a key).
pub const MAX_ZIPF_KEYS: u64 = 1 << 27;

/// The longest a generated trace may last, in nanoseconds, on average (≈ 9.1
/// years): `(requests - 1) / rate` seconds. A 64-fold margin under what
/// `u64` nanoseconds hold, so that Poisson's random gaps never push an
/// arrival time past it either.
pub const MAX_SPAN_NS: u64 = u64::MAX / 64;

/// An invalid generator parameter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid generator parameter {field}: {reason}")]
pub struct GenError {
    /// The parameter.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// What to generate. [`Default`]: 1,000 keys, 10,000 requests, Zipf(1.0),
/// reads only, 100-byte values, 10,000 requests a second evenly spaced, no
/// TTL, seed 42.
#[derive(Debug, Clone, PartialEq)]
pub struct GenConfig {
    /// Which keys requests go to.
    pub dist: KeyDist,
    /// Number of distinct keys (≥ 1).
    pub keys: u64,
    /// Number of requests.
    pub requests: u64,
    /// Fraction of requests that are writes (`set`), in [0, 1].
    pub write_ratio: f64,
    /// Fraction of requests that are deletes, in [0, 1] (with
    /// `write_ratio`, at most 1): a deleted key is absent until set again.
    pub delete_ratio: f64,
    /// Value sizes.
    pub sizes: SizeDist,
    /// Arrival times.
    pub arrivals: Arrivals,
    /// TTL in seconds carried by writes.
    pub ttl: Option<u32>,
    /// The seed.
    pub seed: u64,
}

impl Default for GenConfig {
    fn default() -> Self {
        Self {
            dist: KeyDist::Zipf { alpha: 1.0 },
            keys: 1000,
            requests: 10_000,
            write_ratio: 0.0,
            delete_ratio: 0.0,
            sizes: SizeDist::Constant(100),
            arrivals: Arrivals::Constant { rate: 10_000.0 },
            ttl: None,
            seed: 42,
        }
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> GenError {
    GenError { field, reason: reason.into() }
}

impl GenConfig {
    /// Validates the configuration and builds the generator (for Zipf, its
    /// table: O(keys) time and memory).
    ///
    /// # Errors
    /// A [`GenError`] naming the first invalid parameter.
    pub fn build(&self) -> Result<Generator, GenError> {
        if self.keys == 0 {
            return Err(invalid("keys", "must be at least 1"));
        }
        match self.dist {
            KeyDist::Zipf { alpha } => {
                if !(alpha.is_finite() && alpha >= 0.0) {
                    return Err(invalid("alpha", format!("must be a finite number ≥ 0 (got {alpha})")));
                }
                if self.keys > MAX_ZIPF_KEYS {
                    return Err(invalid(
                        "keys",
                        format!("Zipf supports at most {MAX_ZIPF_KEYS} keys (got {})", self.keys),
                    ));
                }
            }
            KeyDist::HotSet { hot_fraction, hot_prob, shift_every } => {
                if !(hot_fraction > 0.0 && hot_fraction <= 1.0) {
                    return Err(invalid("hot_fraction", format!("must be in (0, 1] (got {hot_fraction})")));
                }
                if !(0.0..=1.0).contains(&hot_prob) {
                    return Err(invalid("hot_prob", format!("must be in [0, 1] (got {hot_prob})")));
                }
                if shift_every == 0 {
                    return Err(invalid("shift_every", "must be at least 1"));
                }
            }
            KeyDist::Uniform | KeyDist::Scan | KeyDist::Loop => {}
        }
        if !(0.0..=1.0).contains(&self.write_ratio) {
            return Err(invalid("write_ratio", format!("must be in [0, 1] (got {})", self.write_ratio)));
        }
        if !(0.0..=1.0).contains(&self.delete_ratio) {
            return Err(invalid("delete_ratio", format!("must be in [0, 1] (got {})", self.delete_ratio)));
        }
        if self.write_ratio + self.delete_ratio > 1.0 {
            return Err(invalid(
                "delete_ratio",
                format!(
                    "write_ratio + delete_ratio must be at most 1 (got {} + {})",
                    self.write_ratio, self.delete_ratio
                ),
            ));
        }
        let rate = self.arrivals.rate();
        if !(rate.is_finite() && rate > 0.0) {
            return Err(invalid("rate", format!("must be a finite number > 0 (got {rate})")));
        }
        let gap_ns = 1e9 / rate;
        let span_ns = self.requests.saturating_sub(1) as f64 * gap_ns;
        if !(gap_ns.is_finite() && span_ns <= MAX_SPAN_NS as f64) {
            return Err(invalid(
                "rate",
                format!(
                    "{} requests at {rate} a second would span more than the {} s a generated trace may last",
                    self.requests,
                    MAX_SPAN_NS / 1_000_000_000
                ),
            ));
        }
        let sizes = SizeSampler::new(&self.sizes).map_err(|r| invalid("sizes", r))?;
        Ok(Generator {
            keys: KeySampler::new(&self.dist, self.keys),
            sizes,
            arrivals: self.arrivals,
            gap_ns,
            write_ratio: self.write_ratio,
            delete_ratio: self.delete_ratio,
            ttl: self.ttl,
            seed: self.seed,
            key_rng: stream(self.seed, 1),
            op_rng: stream(self.seed, 2),
            time_rng: stream(self.seed, 3),
            clock_ns: 0.0,
            i: 0,
            n: self.requests,
        })
    }
}

/// The generator of stream `id` of `seed`.
fn stream(seed: u64, id: u64) -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// The requests of a [`GenConfig`], in order.
#[derive(Debug, Clone)]
pub struct Generator {
    keys: KeySampler,
    sizes: SizeSampler,
    arrivals: Arrivals,
    gap_ns: f64,
    write_ratio: f64,
    delete_ratio: f64,
    ttl: Option<u32>,
    seed: u64,
    key_rng: Pcg64Mcg,
    op_rng: Pcg64Mcg,
    time_rng: Pcg64Mcg,
    clock_ns: f64,
    i: u64,
    n: u64,
}

impl Generator {
    /// The size of `key`'s values.
    #[inline]
    #[must_use]
    pub fn size_of(&self, key: u64) -> u32 {
        if let SizeSampler::Constant(s) = self.sizes {
            return s;
        }
        let mut rng = stream(self.seed ^ key.wrapping_mul(0xD6E8_FEB8_6659_FD93), 4);
        self.sizes.size(&mut rng)
    }

    fn time_ns(&mut self) -> u64 {
        match self.arrivals {
            Arrivals::Constant { .. } => (self.i as f64 * self.gap_ns) as u64,
            Arrivals::Poisson { .. } => {
                let t = self.clock_ns as u64;
                // exponential gap: -ln(U) with U in (0, 1]
                self.clock_ns += -(1.0 - unit(&mut self.time_rng)).ln() * self.gap_ns;
                t
            }
        }
    }
}

impl Iterator for Generator {
    type Item = Request;

    #[inline]
    fn next(&mut self) -> Option<Request> {
        if self.i >= self.n {
            return None;
        }
        let time_ns = self.time_ns();
        let key = self.keys.key(self.i, &mut self.key_rng);
        // One draw decides (none when every request is a get, so traces
        // without writes or deletes stay as they were).
        let op = if self.write_ratio > 0.0 || self.delete_ratio > 0.0 {
            let u = unit(&mut self.op_rng);
            if u < self.write_ratio {
                Op::Set
            } else if u < self.write_ratio + self.delete_ratio {
                Op::Delete
            } else {
                Op::Get
            }
        } else {
            Op::Get
        };
        let ttl = if op == Op::Set { self.ttl } else { None };
        self.i += 1;
        Some(Request { time_ns, key, op, size: self.size_of(key), ttl })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.n - self.i).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

#[cfg(test)]
mod tests;
