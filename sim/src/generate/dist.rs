//! The distributions a generator draws from: keys, value sizes and arrival
//! times. Uniform integers and floats are derived from the raw PCG output
//! here (not through `rand`'s distributions), so the bytes a seed gives
//! depend only on the PCG algorithm, which `rand_pcg` fixes.

use rand::Rng;
use rand::distr::Distribution;
use rand_pcg::Pcg64Mcg;

use super::zipf::Zipf;

/// A uniform `f64` in `[0, 1)` (53 random bits).
#[inline]
pub(crate) fn unit(rng: &mut Pcg64Mcg) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform integer in `0..n` (`n` ≥ 1) by multiply-shift (bias below `n / 2^64`).
#[inline]
pub(crate) fn below(rng: &mut Pcg64Mcg, n: u64) -> u64 {
    ((u128::from(rng.next_u64()) * u128::from(n)) >> 64) as u64
}

/// Which keys requests go to. Keys are `0..keys` (rank order for Zipf: key
/// 0 is the most popular).
#[derive(Debug, Clone, PartialEq)]
pub enum KeyDist {
    /// Zipf with exponent `alpha` ≥ 0 over the keys.
    Zipf {
        /// The exponent (0: uniform; web caches see 0.6 to 1.2).
        alpha: f64,
    },
    /// Every key equally likely.
    Uniform,
    /// A one-time scan: request `i` reads key `i` (no key is read twice;
    /// `keys` is ignored).
    Scan,
    /// A loop over the keys: request `i` reads key `i mod keys`.
    Loop,
    /// A hot set that moves: `hot_prob` of the requests go uniformly to a
    /// window of `hot_fraction × keys` keys, the others uniformly to all
    /// keys; every `shift_every` requests the window moves to the next
    /// `hot_fraction × keys` keys (wrapping).
    HotSet {
        /// Size of the hot set as a fraction of the keys, in (0, 1].
        hot_fraction: f64,
        /// Probability that a request goes to the hot set, in [0, 1].
        hot_prob: f64,
        /// Requests between two moves of the hot set (≥ 1).
        shift_every: u64,
    },
}

/// The sampler of a [`KeyDist`] (the Zipf table is built once).
#[derive(Debug, Clone)]
pub(crate) enum KeySampler {
    Zipf(Zipf),
    Uniform(u64),
    Scan,
    Loop(u64),
    HotSet { keys: u64, hot: u64, hot_prob: f64, shift_every: u64 },
}

impl KeySampler {
    /// The sampler; parameters are validated by the caller.
    pub(crate) fn new(dist: &KeyDist, keys: u64) -> Self {
        match *dist {
            KeyDist::Zipf { alpha } => {
                KeySampler::Zipf(Zipf::new(u32::try_from(keys).unwrap_or(u32::MAX), alpha))
            }
            KeyDist::Uniform => KeySampler::Uniform(keys),
            KeyDist::Scan => KeySampler::Scan,
            KeyDist::Loop => KeySampler::Loop(keys),
            KeyDist::HotSet { hot_fraction, hot_prob, shift_every } => KeySampler::HotSet {
                keys,
                hot: ((hot_fraction * keys as f64).round() as u64).clamp(1, keys),
                hot_prob,
                shift_every,
            },
        }
    }

    /// The key of request `i`.
    #[inline]
    pub(crate) fn key(&self, i: u64, rng: &mut Pcg64Mcg) -> u64 {
        match self {
            KeySampler::Zipf(z) => u64::from(z.rank(unit(rng))),
            KeySampler::Uniform(n) => below(rng, *n),
            KeySampler::Scan => i,
            KeySampler::Loop(n) => i % n,
            KeySampler::HotSet { keys, hot, hot_prob, shift_every } => {
                if unit(rng) < *hot_prob {
                    // In u128: `base + offset` passes u64::MAX when `keys` is near it.
                    let keys = u128::from(*keys);
                    let base = (i / shift_every) as u128 * u128::from(*hot) % keys;
                    ((base + u128::from(below(rng, *hot))) % keys) as u64
                } else {
                    below(rng, *keys)
                }
            }
        }
    }
}

/// Value sizes in bytes. A key always has the same size (drawn from a
/// generator seeded by the key), clamped to `[1, u32::MAX]`.
#[derive(Debug, Clone, PartialEq)]
pub enum SizeDist {
    /// Every value has this size.
    Constant(u32),
    /// Uniform in `min..=max`.
    Uniform {
        /// Smallest size.
        min: u32,
        /// Largest size.
        max: u32,
    },
    /// Log-normal with the given median and `sigma` (of the underlying normal).
    LogNormal {
        /// The median size (`e^mu`).
        median: f64,
        /// The standard deviation of `ln(size)`, > 0.
        sigma: f64,
    },
}

/// The sampler of a [`SizeDist`].
#[derive(Debug, Clone)]
pub(crate) enum SizeSampler {
    Constant(u32),
    Uniform { min: u32, span: u64 },
    LogNormal(statrs::distribution::LogNormal),
}

impl SizeSampler {
    /// The sampler, or why the parameters are invalid.
    pub(crate) fn new(dist: &SizeDist) -> Result<Self, String> {
        match *dist {
            SizeDist::Constant(0) => Err("the constant size must be at least 1".into()),
            SizeDist::Constant(s) => Ok(SizeSampler::Constant(s)),
            SizeDist::Uniform { min, max } if min == 0 || min > max => {
                Err(format!("uniform sizes need 1 ≤ min ≤ max (got {min}..={max})"))
            }
            SizeDist::Uniform { min, max } => {
                Ok(SizeSampler::Uniform { min, span: u64::from(max - min) + 1 })
            }
            SizeDist::LogNormal { median, .. } if !(median.is_finite() && median >= 1.0) => {
                Err(format!("the log-normal median must be a finite number ≥ 1 (got {median})"))
            }
            SizeDist::LogNormal { median, sigma } => {
                statrs::distribution::LogNormal::new(median.ln(), sigma).map(SizeSampler::LogNormal).map_err(
                    |e| format!("log-normal sizes: {e} (sigma must be a finite number > 0, got {sigma})"),
                )
            }
        }
    }

    /// One size from `rng`.
    #[inline]
    pub(crate) fn size(&self, rng: &mut Pcg64Mcg) -> u32 {
        match self {
            SizeSampler::Constant(s) => *s,
            SizeSampler::Uniform { min, span } => min + below(rng, *span) as u32,
            SizeSampler::LogNormal(d) => d.sample(rng).round().clamp(1.0, f64::from(u32::MAX)) as u32,
        }
    }
}

/// When requests arrive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arrivals {
    /// Evenly spaced at `rate` requests a second.
    Constant {
        /// Requests a second, > 0.
        rate: f64,
    },
    /// A Poisson process of `rate` requests a second (exponential gaps).
    Poisson {
        /// Requests a second, > 0.
        rate: f64,
    },
}

impl Arrivals {
    /// The rate in requests a second.
    #[must_use]
    pub fn rate(self) -> f64 {
        match self {
            Arrivals::Constant { rate } | Arrivals::Poisson { rate } => rate,
        }
    }
}
