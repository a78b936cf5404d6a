//! Miss-ratio curves: the miss ratio of a cache as a function of its
//! capacity, for every capacity at once.
//!
//! - [`MrcBuilder`]: the exact LRU curve in one pass (Mattson's stack
//!   algorithm with a Fenwick tree: O(log M) per request, M distinct keys;
//!   memory O(M), whatever the trace length). In [`Unit::Objects`] it is
//!   exact at every capacity. In [`Unit::Bytes`] distances are kept in
//!   log-linear buckets (256 per power of two): exact at every capacity up
//!   to 512 bytes and at every capacity of the form `m × 2^k` with
//!   `256 < m ≤ 512` (1 MiB, 100 MiB, 3 GiB are such), linearly
//!   interpolated within a bucket (at most 1/256 of the capacity wide)
//!   elsewhere ([`MissRatioCurve::is_exact`] tells).
//! - SHARDS spatial sampling ([`MrcBuilder::sampled`]): only keys whose
//!   hash falls under a threshold (a fixed rate `R`) are tracked, and their
//!   distances and counts are scaled by `1/R`, with the SHARDS adjustment
//!   (the difference between expected and sampled accesses counted as hits
//!   at distance 0). Memory and time shrink by `R`. **Stated error**: at
//!   capacities holding at least [`SHARDS_MIN_SAMPLED_OBJECTS`] sampled
//!   objects (`C × R ≥ 500` in objects), the miss ratio is within
//!   [`SHARDS_ERROR_BOUND`] (0.02, absolute) of the exact one. This is an
//!   empirical bound, checked by the tests at `R = 0.1` and `R = 0.01` on
//!   Zipf(1.0) traces of 1 M requests over 100 k keys (a hard case: a few
//!   hot keys carry much of the traffic, and whether they are sampled
//!   matters) for several sets of sampled keys, in objects and bytes; the
//!   largest error seen there was about 0.01. Smaller capacities get
//!   larger errors (0.02 to 0.05 at `C × R` between 8 and 200):
//!   [`MissRatioCurve::error_bound`] is then `None`. Traces with more keys
//!   and a flatter head do better.
//! - [`simulate_curves`]: curves of any eviction policy from simulations at
//!   a set of capacities through the core's [`strata_core::l1::L1Store`]
//!   (in parallel on native targets).
//!
//! Every request but a delete is an access (a read, or a write that puts
//! the object in the cache); deletes are ignored (counted in
//! [`MissRatioCurve::ignored`]): the stack algorithm has no exact answer
//! for them. TTLs are ignored. The LRU curve equals an `L1Store` with
//! [`strata_core::policy::eviction::Lru`] replaying the same accesses at
//! every capacity (in bytes: while each key keeps one size and no object is
//! larger than the capacity).

mod fenwick;
mod histogram;
mod sample;
mod simulate;
mod stack;

use serde::Serialize;

pub use sample::KeySample;
pub use simulate::{SimPoint, simulate_curves, simulate_curves_sampled};

use crate::trace::{Op, Request};
use crate::unit::Unit;
use histogram::{Cumulative, Histogram};
use stack::StackDistances;

/// The absolute miss-ratio error SHARDS is held to (see the module docs).
pub const SHARDS_ERROR_BOUND: f64 = 0.02;

/// Sampled objects a capacity must hold for [`SHARDS_ERROR_BOUND`] to apply.
pub const SHARDS_MIN_SAMPLED_OBJECTS: f64 = 500.0;

/// An invalid MRC parameter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid sample rate {0}: must be in (0, 1] and at least 2^-24")]
pub struct SampleRateError(pub f64);

#[derive(Debug)]
enum Engine {
    Objects(StackDistances<u32>),
    Bytes(StackDistances<u64>),
}

/// Builds a [`MissRatioCurve`] from requests fed one by one.
#[derive(Debug)]
pub struct MrcBuilder {
    unit: Unit,
    sample: KeySample,
    engine: Engine,
    hist: Histogram,
    accesses: u64,
    sampled: u64,
    cold: u64,
    ignored: u64,
}

impl MrcBuilder {
    /// The exact LRU curve in `unit`.
    #[must_use]
    pub fn new(unit: Unit) -> Self {
        let (engine, hist) = match unit {
            Unit::Objects => (Engine::Objects(StackDistances::new()), Histogram::exact()),
            Unit::Bytes => (Engine::Bytes(StackDistances::new()), Histogram::log_linear()),
        };
        Self { unit, sample: KeySample::all(), engine, hist, accesses: 0, sampled: 0, cold: 0, ignored: 0 }
    }

    /// A SHARDS estimate sampling keys at `rate` (rounded to a multiple of
    /// 2^-24; 1 is exact).
    ///
    /// # Errors
    /// [`SampleRateError`] unless `2^-24 ≤ rate ≤ 1`.
    pub fn sampled(unit: Unit, rate: f64) -> Result<Self, SampleRateError> {
        Ok(Self { sample: KeySample::new(rate)?, ..Self::new(unit) })
    }

    /// The sampling rate actually used.
    #[must_use]
    pub fn rate(&self) -> f64 {
        self.sample.rate()
    }

    /// Feeds one request.
    #[inline]
    pub fn access(&mut self, r: &Request) {
        if r.op == Op::Delete {
            self.ignored += 1;
            return;
        }
        self.accesses += 1;
        if !self.sample.contains(r.key) {
            return;
        }
        self.sampled += 1;
        let d = match &mut self.engine {
            Engine::Objects(s) => s.access(r.key, 1),
            Engine::Bytes(s) => s.access(r.key, r.size.max(1)),
        };
        match d {
            Some(d) => self.hist.add(d),
            None => self.cold += 1,
        }
    }

    /// Feeds every request of `requests`.
    ///
    /// # Errors
    /// The first error of `requests` (the requests before it are counted).
    pub fn feed<E>(&mut self, requests: impl IntoIterator<Item = Result<Request, E>>) -> Result<(), E> {
        for r in requests {
            self.access(&r?);
        }
        Ok(())
    }

    /// The curve of the requests fed so far.
    #[must_use]
    pub fn finish(&self) -> MissRatioCurve {
        let (distinct, footprint) = match &self.engine {
            Engine::Objects(s) => (s.distinct(), s.footprint()),
            Engine::Bytes(s) => (s.distinct(), s.footprint()),
        };
        MissRatioCurve {
            unit: self.unit,
            rate: self.rate(),
            accesses: self.accesses,
            sampled: self.sampled,
            cold: self.cold,
            ignored: self.ignored,
            distinct,
            footprint,
            cum: self.hist.cumulative(),
        }
    }
}

/// The LRU miss-ratio curve of a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct MissRatioCurve {
    unit: Unit,
    rate: f64,
    accesses: u64,
    sampled: u64,
    cold: u64,
    ignored: u64,
    distinct: u64,
    footprint: u64,
    cum: Cumulative,
}

/// One point of a curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CurvePoint {
    /// The capacity (objects or bytes).
    pub capacity: u64,
    /// Misses at that capacity (estimated when sampled).
    pub misses: u64,
    /// Misses / accesses.
    pub miss_ratio: f64,
    /// Whether the value is exact (no sampling, no interpolation).
    pub exact: bool,
    /// Bound on the absolute miss-ratio error; `None` when unknown
    /// ([`MissRatioCurve::error_bound`]).
    pub error_bound: Option<f64>,
}

/// A curve at a set of capacities, with its totals (the `--json` output).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurveReport {
    /// Capacity unit.
    pub unit: Unit,
    /// SHARDS sampling rate (1: exact).
    pub sample_rate: f64,
    /// Accesses (requests other than deletes).
    pub accesses: u64,
    /// Deletes ignored.
    pub ignored: u64,
    /// Distinct keys (estimated when sampled).
    pub distinct_keys: u64,
    /// Objects or bytes to hold every key: the capacity past which only cold misses remain.
    pub footprint: u64,
    /// Cold (first-access) misses (estimated when sampled).
    pub cold_misses: u64,
    /// The points.
    pub points: Vec<CurvePoint>,
}

impl MissRatioCurve {
    /// The capacity unit.
    #[must_use]
    pub fn unit(&self) -> Unit {
        self.unit
    }

    /// The sampling rate (1: exact).
    #[must_use]
    pub fn sample_rate(&self) -> f64 {
        self.rate
    }

    /// Accesses counted (every request but deletes).
    #[must_use]
    pub fn accesses(&self) -> u64 {
        self.accesses
    }

    /// Deletes ignored.
    #[must_use]
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    fn scale(&self, sampled_count: f64) -> f64 {
        sampled_count / self.rate
    }

    /// Distinct keys (estimated when sampled).
    #[must_use]
    pub fn distinct_keys(&self) -> u64 {
        self.scale(self.distinct as f64).round() as u64
    }

    /// The capacity that holds every key (objects, or bytes at each key's
    /// latest size); estimated when sampled.
    #[must_use]
    pub fn footprint(&self) -> u64 {
        self.scale(self.footprint as f64).round() as u64
    }

    /// Cold (first-access) misses; estimated when sampled.
    #[must_use]
    pub fn cold_misses(&self) -> u64 {
        self.scale(self.cold as f64).round() as u64
    }

    /// Hits at `capacity` (estimated when sampled or interpolated).
    #[must_use]
    pub fn hits(&self, capacity: u64) -> f64 {
        let threshold =
            if self.rate >= 1.0 { capacity } else { (capacity as f64 * self.rate).floor() as u64 };
        // SHARDS adjustment: expected minus actual sampled accesses, as hits
        let adjust = self.accesses as f64 * self.rate - self.sampled as f64;
        let hits = if self.sampled == 0 { 0.0 } else { self.cum.at_most(threshold) + adjust };
        self.scale(hits).clamp(0.0, self.accesses as f64)
    }

    /// Misses at `capacity` (rounded when estimated).
    #[must_use]
    pub fn misses(&self, capacity: u64) -> u64 {
        (self.accesses as f64 - self.hits(capacity)).round() as u64
    }

    /// Misses / accesses at `capacity` (0 for an empty trace).
    #[must_use]
    pub fn miss_ratio(&self, capacity: u64) -> f64 {
        if self.accesses == 0 {
            return 0.0;
        }
        (self.accesses as f64 - self.hits(capacity)) / self.accesses as f64
    }

    /// Whether [`Self::misses`] at `capacity` is exact.
    #[must_use]
    pub fn is_exact(&self, capacity: u64) -> bool {
        self.rate >= 1.0 && self.cum.is_exact_at(capacity)
    }

    /// A bound on the absolute error of [`Self::miss_ratio`] at `capacity`:
    /// 0 where exact; for an unsampled byte curve, the share of accesses in
    /// the interpolated bucket; for a sampled curve [`SHARDS_ERROR_BOUND`]
    /// when the capacity holds at least [`SHARDS_MIN_SAMPLED_OBJECTS`]
    /// sampled objects (of the trace's mean size), `None` below.
    #[must_use]
    pub fn error_bound(&self, capacity: u64) -> Option<f64> {
        if self.accesses == 0 {
            return Some(0.0);
        }
        if self.rate >= 1.0 {
            return Some(self.cum.uncertain_at(capacity) as f64 / self.accesses as f64);
        }
        let mean_weight = if self.distinct == 0 { 1.0 } else { self.footprint as f64 / self.distinct as f64 };
        let sampled_objects = capacity as f64 * self.rate / mean_weight.max(1.0);
        (sampled_objects >= SHARDS_MIN_SAMPLED_OBJECTS).then_some(SHARDS_ERROR_BOUND)
    }

    /// Capacities worth showing: 0.1 % to 100 % of the footprint.
    #[must_use]
    pub fn default_capacities(&self) -> Vec<u64> {
        const FRACTIONS: [f64; 16] =
            [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
        let f = self.footprint() as f64;
        let mut caps: Vec<u64> = FRACTIONS.iter().map(|x| ((x * f).round() as u64).max(1)).collect();
        caps.dedup();
        caps
    }

    /// The point at `capacity`.
    #[must_use]
    pub fn point(&self, capacity: u64) -> CurvePoint {
        CurvePoint {
            capacity,
            misses: self.misses(capacity),
            miss_ratio: self.miss_ratio(capacity),
            exact: self.is_exact(capacity),
            error_bound: self.error_bound(capacity),
        }
    }

    /// The curve at `capacities`, with its totals.
    #[must_use]
    pub fn report(&self, capacities: &[u64]) -> CurveReport {
        CurveReport {
            unit: self.unit,
            sample_rate: self.rate,
            accesses: self.accesses,
            ignored: self.ignored,
            distinct_keys: self.distinct_keys(),
            footprint: self.footprint(),
            cold_misses: self.cold_misses(),
            points: capacities.iter().map(|&c| self.point(c)).collect(),
        }
    }
}

#[cfg(test)]
mod tests;
