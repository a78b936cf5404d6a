//! The engine against the real servers (`REDIS_URL`, `DATABASE_URL`):
//!
//! - `pg_puts`: 10,000 puts into PostgreSQL with write-through vs
//!   write-behind (the time the caller waits, and including the final flush);
//! - `read`: a read served by L1, by L2 (Redis) and by L3 (PostgreSQL)
//!   through `CachedStateBackend::get`; after each, the engine's own
//!   histogram p50/p99 for that tier is printed.
//!
//! `cargo bench --bench engine_tiers`

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use strata::core::backend::PostgresStateBackend;
use strata::core::config::{CacheConfig, Capacity, L2Config, WriteStrategy};
use strata::core::l2::RedisTier;
use strata::core::{CachedStateBackend, StateBackend, SystemClock};

const PUTS: u32 = 10_000;

fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

async fn pg(table: &str) -> PostgresStateBackend {
    let pg = PostgresStateBackend::connect(&database_url(), table).await.unwrap();
    pg.migrate().await.unwrap();
    pg.clear().await.unwrap();
    pg
}

#[allow(clippy::disallowed_methods)] // wall-clock timing of the bench itself
fn bench_pg_puts(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut g = c.benchmark_group("pg_puts_10k");
    g.throughput(Throughput::Elements(u64::from(PUTS)));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    for strategy in [WriteStrategy::WriteThrough, WriteStrategy::WriteBehind] {
        for with_flush in [false, true] {
            let id = BenchmarkId::new(format!("{strategy:?}"), if with_flush { "put+flush" } else { "put" });
            g.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let mut cfg = CacheConfig::default();
                            cfg.write.strategy = strategy;
                            cfg.write.queue_capacity = 2 * PUTS as usize;
                            let cache = CachedStateBackend::builder(pg("strata_bench_puts").await)
                                .config(cfg)
                                .build()
                                .unwrap();
                            let value = Bytes::from(vec![7u8; 64]);
                            let start = Instant::now();
                            for i in 0..PUTS {
                                cache.put(format!("key:{i}").as_bytes(), value.clone()).await.unwrap();
                            }
                            if with_flush {
                                cache.flush().await.unwrap();
                            }
                            total += start.elapsed();
                            cache.shutdown(Duration::from_secs(60)).await.unwrap();
                        }
                        total
                    })
                })
            });
        }
    }
    g.finish();
}

fn bench_reads(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let keys: Vec<Bytes> = (0..10_000u32).map(|i| Bytes::from(format!("key:{i}"))).collect();
    let l2cfg = L2Config { url: redis_url(), namespace: "strata-bench-reads".into(), ..L2Config::default() };
    // Fill PostgreSQL and Redis through one engine.
    rt.block_on(async {
        let mut cfg = CacheConfig { l2: Some(l2cfg.clone()), ..CacheConfig::default() };
        cfg.l1.capacity = Capacity::Entries(20_000);
        let tier = RedisTier::connect(&l2cfg, Arc::new(SystemClock::new())).await.unwrap();
        let fill = CachedStateBackend::builder(pg("strata_bench_reads").await)
            .config(cfg)
            .l2(Arc::new(tier))
            .build()
            .unwrap();
        fill.clear_cache().await;
        let entries: Vec<(Bytes, Bytes)> =
            keys.iter().map(|k| (k.clone(), Bytes::from(vec![1u8; 64]))).collect();
        for chunk in entries.chunks(1000) {
            fill.put_batch(chunk.to_vec()).await.unwrap();
        }
    });
    let mut g = c.benchmark_group("read");
    for tier in ["l1", "l2", "l3"] {
        let cache = rt.block_on(async {
            let mut cfg = CacheConfig::default();
            // L1 holds everything for "l1"; one entry otherwise, so reads go below it.
            cfg.l1.capacity = Capacity::Entries(if tier == "l1" { 20_000 } else { 1 });
            cfg.l1.shards = 1;
            let mut b = CachedStateBackend::builder(pg_keep("strata_bench_reads").await);
            if tier == "l2" {
                cfg.l2 = Some(l2cfg.clone());
                let t = RedisTier::connect(&l2cfg, Arc::new(SystemClock::new())).await.unwrap();
                b = b.l2(Arc::new(t));
            }
            let cache = b.config(cfg).build().unwrap();
            if tier == "l1" {
                cache.warm_cache(&keys).await.unwrap();
            }
            cache
        });
        let mut i = 0usize;
        g.bench_function(tier, |b| {
            b.iter(|| {
                i = (i + 1) % keys.len();
                rt.block_on(cache.get(&keys[i])).unwrap()
            })
        });
        let s = cache.stats();
        let lat = match tier {
            "l1" => s.l1.latency,
            "l2" => s.l2.latency,
            _ => s.l3.latency,
        };
        println!(
            "engine histogram, {tier} reads: p50 {:.1} us, p99 {:.1} us (n = {})",
            lat.p50_ns as f64 / 1e3,
            lat.p99_ns as f64 / 1e3,
            lat.count
        );
    }
    g.finish();
}

async fn pg_keep(table: &str) -> PostgresStateBackend {
    PostgresStateBackend::connect(&database_url(), table).await.unwrap()
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = bench_pg_puts, bench_reads
}
criterion_main!(benches);
