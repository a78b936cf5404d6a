//! A service-style program on the production set-up: L1 + Redis (L2) +
//! PostgreSQL (L3), configured by a TOML file (`examples/production.toml`
//! by default; `REDIS_URL` / `DATABASE_URL` override the addresses).
//!
//! It serves a Zipf-distributed stream of profile reads and updates from
//! several tasks, then prints the cache statistics: as JSON, or with
//! `--metrics` as a Prometheus scrape (OpenMetrics text) would read them.
//!
//! `cargo run --release --example service [-- [--metrics] path/to/config.toml]`

use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use strata::core::config::{CacheConfig, L3Config};
use strata::core::stats::prometheus::prometheus_client::encoding::text::encode;
use strata::core::stats::prometheus::prometheus_client::registry::Registry;
use strata::core::{CachedStateBackend, StateBackend};

const USERS: u32 = 20_000;
const TASKS: u32 = 8;
const REQUESTS_PER_TASK: u32 = 20_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // ANCHOR: load
    let args: Vec<String> = std::env::args().skip(1).collect();
    let metrics = args.iter().any(|a| a == "--metrics");
    let path = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "examples/production.toml".into());
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let mut config = CacheConfig::from_toml_str(&text, &path)?;
    if let (Ok(url), Some(l2)) = (std::env::var("REDIS_URL"), config.l2.as_mut()) {
        l2.url = url;
    }
    if let (Ok(url), L3Config::Postgres { url: u, .. }) = (std::env::var("DATABASE_URL"), &mut config.l3) {
        *u = url;
    }
    let cache = CachedStateBackend::open(config).await?;
    // ANCHOR_END: load
    // ANCHOR: metrics
    let mut registry = Registry::default();
    registry.register_collector(Box::new(cache.metrics_collector()));
    // ... and on each scrape of the service's `/metrics`:
    // encode(&mut body, &registry)?;
    // ANCHOR_END: metrics

    // Seed the source of truth once.
    if cache.backend().count().await? < u64::from(USERS) {
        let rows: Vec<(Bytes, Bytes)> = (0..USERS)
            .map(|u| (Bytes::from(format!("user:{u}")), Bytes::from(format!("{{\"id\":{u}}}"))))
            .collect();
        for chunk in rows.chunks(1000) {
            cache.backend().put_many(chunk.to_vec()).await?;
        }
    }

    let zipf: Vec<f64> = {
        let mut acc = 0.0;
        (1..=USERS)
            .map(|i| {
                acc += 1.0 / f64::from(i);
                acc
            })
            .collect()
    };
    let total = *zipf.last().context("no users")?;
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let cache = cache.clone();
        let zipf = zipf.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Pcg64Mcg::seed_from_u64(u64::from(t));
            for i in 0..REQUESTS_PER_TASK {
                let u = zipf.partition_point(|&c| c < rng.random::<f64>() * total);
                let key = format!("user:{u}");
                if i % 20 == 0 {
                    cache.put(key.as_bytes(), Bytes::from(format!("{{\"id\":{u},\"seen\":{i}}}"))).await?;
                } else {
                    cache.get(key.as_bytes()).await?;
                }
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    cache.shutdown(Duration::from_secs(30)).await?;
    if metrics {
        let mut body = String::new();
        encode(&mut body, &registry)?;
        print!("{body}");
    } else {
        println!("{}", serde_json::to_string_pretty(&cache.stats())?);
    }
    Ok(())
}
