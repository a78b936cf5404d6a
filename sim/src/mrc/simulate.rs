//! Miss-ratio curves of any eviction policy, by simulation: one
//! [`L1Store`] per (policy, capacity), all fed from one streaming pass over
//! the trace. The trace is read in chunks; on native targets each chunk is
//! replayed by the stores in parallel (`std::thread::scope`, one group of
//! stores per core), on wasm32 sequentially. Results do not depend on the
//! number of threads.

use strata_core::clock::Instant;
use strata_core::l1::{L1Store, hash_key};
use strata_core::policy::eviction::{AnyPolicy, EvictionConfig};

use crate::trace::{Op, Request};
use crate::unit::Unit;

/// Requests replayed per chunk.
const CHUNK: usize = 1 << 16;

/// The result of one simulated cache.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimPoint {
    /// The policy's name.
    pub policy: &'static str,
    /// The capacity (objects or bytes).
    pub capacity: u64,
    /// Accesses replayed (requests other than deletes).
    pub accesses: u64,
    /// Accesses that missed.
    pub misses: u64,
}

impl SimPoint {
    /// Misses / accesses (0 when there were none).
    #[must_use]
    pub fn miss_ratio(&self) -> f64 {
        if self.accesses == 0 { 0.0 } else { self.misses as f64 / self.accesses as f64 }
    }
}

struct Sim {
    store: L1Store<u64, (), AnyPolicy>,
    point: SimPoint,
}

#[derive(Clone, Copy)]
struct Access {
    key: u64,
    hash: u64,
    weight: u64,
}

impl Sim {
    fn run(&mut self, chunk: &[Access]) {
        for a in chunk {
            self.point.accesses += 1;
            if self.store.get_hashed(a.hash, &a.key, Instant::ZERO).is_none() {
                self.point.misses += 1;
                self.store.insert_hashed(a.hash, a.key, (), a.weight, None, Instant::ZERO);
            }
        }
    }
}

/// Replays `requests` through an [`L1Store`] for every policy in
/// `policies` and every capacity in `capacities` (a read that misses
/// inserts the object; deletes are ignored, as in the one-pass curve).
/// Returns the points in the order policy × capacity.
///
/// # Errors
/// The first error of `requests`.
pub fn simulate_curves<E>(
    requests: impl IntoIterator<Item = Result<Request, E>>,
    policies: &[EvictionConfig],
    capacities: &[u64],
    unit: Unit,
) -> Result<Vec<SimPoint>, E> {
    let mut sims: Vec<Sim> = policies
        .iter()
        .flat_map(|p| capacities.iter().map(move |&c| (p, c)))
        .map(|(p, c)| Sim {
            store: L1Store::new(c, p.build(c), None),
            point: SimPoint { policy: p.name(), capacity: c, accesses: 0, misses: 0 },
        })
        .collect();
    let mut chunk: Vec<Access> = Vec::with_capacity(CHUNK);
    let mut requests = requests.into_iter();
    loop {
        chunk.clear();
        for r in requests.by_ref() {
            let r = r?;
            if r.op != Op::Delete {
                chunk.push(Access { key: r.key, hash: hash_key(&r.key), weight: unit.weight(&r) });
                if chunk.len() == CHUNK {
                    break;
                }
            }
        }
        if chunk.is_empty() {
            break;
        }
        run_chunk(&mut sims, &chunk);
    }
    Ok(sims.into_iter().map(|s| s.point).collect())
}

#[cfg(not(target_arch = "wasm32"))]
fn run_chunk(sims: &mut [Sim], chunk: &[Access]) {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if threads <= 1 || sims.len() <= 1 {
        sims.iter_mut().for_each(|s| s.run(chunk));
        return;
    }
    let per = sims.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for group in sims.chunks_mut(per) {
            scope.spawn(move || group.iter_mut().for_each(|s| s.run(chunk)));
        }
    });
}

#[cfg(target_arch = "wasm32")]
fn run_chunk(sims: &mut [Sim], chunk: &[Access]) {
    sims.iter_mut().for_each(|s| s.run(chunk));
}

/// [`simulate_curves`] on a spatial sample of the keys (SHARDS "miniature
/// simulations"): only the requests of keys in `sample` are replayed, each
/// cache with `capacity × rate` (at least 1). The points keep the full
/// capacities and the full trace's accesses; their misses are the sampled
/// misses divided by the rate, so [`SimPoint::miss_ratio`] is the sampled
/// misses over the *expected* sampled accesses (the SHARDS adjustment: a
/// sample that happens to hold more or fewer accesses than `rate × accesses`
/// is not mistaken for a different miss ratio). Like SHARDS for LRU, the
/// estimate is good where a sampled cache still holds about 100 objects or
/// more (`capacity × rate ≥ 100` in objects).
///
/// # Errors
/// The first error of `requests`.
pub fn simulate_curves_sampled<E>(
    requests: impl IntoIterator<Item = Result<Request, E>>,
    policies: &[EvictionConfig],
    capacities: &[u64],
    unit: Unit,
    sample: super::KeySample,
) -> Result<Vec<SimPoint>, E> {
    let rate = sample.rate();
    let scaled: Vec<u64> = capacities.iter().map(|&c| ((c as f64 * rate).round() as u64).max(1)).collect();
    let mut accesses = 0u64;
    let kept = requests.into_iter().filter(|r| match r {
        Ok(r) if r.op == Op::Delete => false,
        Ok(r) => {
            accesses += 1;
            sample.contains(r.key)
        }
        Err(_) => true,
    });
    let mut points = simulate_curves(kept, policies, &scaled, unit)?;
    for (p, &c) in points.iter_mut().zip(capacities.iter().cycle()) {
        p.capacity = c;
        p.accesses = accesses;
        p.misses = ((p.misses as f64 / rate).round() as u64).min(accesses);
    }
    Ok(points)
}
