//! Put throughput per write strategy over the sled backend (the embedded
//! default): the time a caller waits for `put`, and the same including the
//! final `flush()` (end to end).
//!
//! Steady state, as in a running service: one cache over one sled database
//! per strategy serves every iteration; each iteration puts 2,000 fresh keys
//! (no coalescing: the worst case for write-behind), so L1 is full and
//! evicting after the first few; each put hands over a 64-byte value of its
//! own, made before the timed loop (a value shared by every put would make
//! them all touch one reference count, which no real caller does). Queued writes are flushed after each
//! iteration (timed only in `put+flush`), so every iteration starts with an
//! empty queue. `examples/put_count.rs` runs the same loop for profiles.
//!
//! `cargo bench --bench put_strategies`

use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use strata_core::config::{CacheConfig, WriteStrategy};
use strata_core::{CachedStateBackend, SledStateBackend};

const PUTS: u64 = 2_000;

#[allow(clippy::disallowed_methods)] // wall-clock timing of the bench itself
fn bench_puts(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut g = c.benchmark_group("put_over_sled");
    g.throughput(Throughput::Elements(PUTS));
    g.sample_size(20);
    for strategy in [WriteStrategy::WriteThrough, WriteStrategy::WriteBack, WriteStrategy::WriteBehind] {
        let dir = tempfile::tempdir().unwrap();
        let cache = rt.block_on(async {
            let sled = SledStateBackend::open(dir.path()).await.unwrap();
            let mut cfg = CacheConfig::default();
            cfg.write.strategy = strategy;
            CachedStateBackend::builder(sled).config(cfg).build().unwrap()
        });
        let mut next_key = 0u64;
        for end_to_end in [false, true] {
            let id = BenchmarkId::new(strategy.to_string(), if end_to_end { "put+flush" } else { "put" });
            g.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let values: Vec<Bytes> =
                                (0..PUTS).map(|i| Bytes::from(vec![i as u8; 64])).collect();
                            let start = Instant::now();
                            for value in values {
                                cache.put(&next_key.to_be_bytes(), value).await.unwrap();
                                next_key += 1;
                            }
                            if end_to_end {
                                cache.flush().await.unwrap();
                                total += start.elapsed();
                            } else {
                                total += start.elapsed();
                                cache.flush().await.unwrap();
                            }
                        }
                        total
                    })
                })
            });
        }
        rt.block_on(cache.shutdown(Duration::from_secs(30))).unwrap();
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = bench_puts
}
criterion_main!(benches);
