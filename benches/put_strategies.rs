//! Put throughput per write strategy over the sled backend (the embedded
//! default): the time a caller waits for `put`, and the same including the
//! final `flush()` (end to end).
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
    g.sample_size(10);
    for strategy in [WriteStrategy::WriteThrough, WriteStrategy::WriteBack, WriteStrategy::WriteBehind] {
        for end_to_end in [false, true] {
            let id = BenchmarkId::new(format!("{strategy:?}"), if end_to_end { "put+flush" } else { "put" });
            g.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let dir = tempfile::tempdir().unwrap();
                            let sled = SledStateBackend::open(dir.path()).await.unwrap();
                            let mut cfg = CacheConfig::default();
                            cfg.write.strategy = strategy;
                            let cache = CachedStateBackend::builder(sled).config(cfg).build().unwrap();
                            let value = Bytes::from(vec![7u8; 64]);
                            let start = Instant::now();
                            for i in 0..PUTS {
                                cache.put(&i.to_be_bytes(), value.clone()).await.unwrap();
                            }
                            if end_to_end {
                                cache.flush().await.unwrap();
                            }
                            total += start.elapsed();
                            cache.shutdown(Duration::from_secs(30)).await.unwrap();
                        }
                        total
                    })
                })
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = bench_puts
}
criterion_main!(benches);
