//! Put throughput per write strategy over the sled backend (the embedded
//! default): the time a caller waits for `put`, and the same including the
//! final `flush()` (end to end).
//!
//! Steady state, as in a running service: one cache (default config: L1 of
//! 10,000 entries, LRU) over one sled database per strategy and workload
//! serves every iteration; each iteration makes 2,000 puts along the
//! workload's key sequence (`common/put_workload.rs`: `fresh` keys, the
//! worst case; `uniform` and `zipf` over 100k keys), each handing over a
//! 64-byte value of its own, made before the timed loop. Queued writes are
//! flushed after each iteration (timed only in `put+flush`), so every
//! iteration starts with an empty queue. Write-behind runs a second time
//! with `write.allocate = false` (`write-behind-no-allocate`): puts of keys
//! L1 does not hold leave L1 alone. `examples/put_count.rs` runs the same
//! loop for profiles.
//!
//! `cargo bench --bench put_strategies`

#[path = "common/put_workload.rs"]
mod workload;

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use strata_core::config::{CacheConfig, WriteStrategy};
use strata_core::{CachedStateBackend, SledStateBackend};
use workload::{Keys, Workload};

const PUTS: usize = 2_000;

#[allow(clippy::disallowed_methods)] // wall-clock timing of the bench itself
fn bench_puts(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    for workload in Workload::ALL {
        let mut g = c.benchmark_group(format!("put_over_sled/{}", workload.name()));
        g.throughput(Throughput::Elements(PUTS as u64));
        g.sample_size(20);
        // Every strategy with the default write-allocate, and write-behind
        // with `write.allocate = false`.
        let setups =
            WriteStrategy::ALL.map(|s| (s, true)).into_iter().chain([(WriteStrategy::WriteBehind, false)]);
        for (strategy, allocate) in setups {
            let dir = tempfile::tempdir().unwrap();
            let cache = rt.block_on(async {
                let sled = SledStateBackend::open(dir.path()).await.unwrap();
                let mut cfg = CacheConfig::default();
                cfg.write.strategy = strategy;
                cfg.write.allocate = allocate;
                CachedStateBackend::builder(sled).config(cfg).build().unwrap()
            });
            let mut keys = Keys::new(workload);
            let name = if allocate { strategy.to_string() } else { format!("{strategy}-no-allocate") };
            for end_to_end in [false, true] {
                settle();
                let id = BenchmarkId::new(&name, if end_to_end { "put+flush" } else { "put" });
                g.bench_function(id, |b| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let mut puts = keys.batch(PUTS);
                            let start = Instant::now();
                            rt.block_on(async {
                                // Drained: the buffer is freed after the timed loop.
                                for (key, value) in puts.drain(..) {
                                    cache.put(key.as_bytes(), value).await.unwrap();
                                }
                                if end_to_end {
                                    cache.flush().await.unwrap();
                                }
                            });
                            total += start.elapsed();
                            if !end_to_end {
                                rt.block_on(cache.flush()).unwrap();
                            }
                        }
                        total
                    })
                });
            }
            rt.block_on(cache.shutdown(Duration::from_secs(30))).unwrap();
        }
        g.finish();
    }
}

/// Writes out what earlier benchmarks left dirty in the page cache (sled
/// writes hundreds of MB of log a run), so that the kernel's writeback of
/// one measurement does not run during the next.
fn settle() {
    #[cfg(unix)]
    rustix::fs::sync();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = bench_puts
}
criterion_main!(benches);
