//! Puts over sled one strategy at a time, for profiles and instruction
//! counts of the put path (`benches/put_strategies.rs` times the same
//! workload with criterion):
//!
//! ```text
//! cargo build --profile bench --example put_count
//! valgrind --tool=callgrind --toggle-collect='*measured_*' --callgrind-out-file=cg.out \
//!     target/release/examples/put_count write-behind fresh 2000 20
//! ```
//!
//! Arguments: a strategy (`write-through`, `write-back`, `write-behind`), a
//! workload (`fresh`, `uniform`, `zipf`: see `benches/common/put_workload.rs`),
//! the puts per round and the rounds. One
//! cache over one sled database serves every round (a service's steady
//! state: L1 full and evicting, memory recycled); queued writes are flushed
//! between rounds, untimed. Prints the caller's wall ns per put: the mean,
//! and that of the median round (robust to a noisy neighbour).
//! `PUT_BATCH=n` sets `write.batch_size` (a size larger than a round keeps
//! the flusher idle during it: the put path without a concurrent flush).
//! `BG_NICE=n` (or `none`) sets the sled backend's `background_nice`;
//! `PUT_ALLOCATE=false` sets `write.allocate`; `PUT_POLICY=sieve` (any
//! policy name) sets `l1.eviction`; `PUT_L3=memory` puts the
//! cache over the memory backend instead of sled (what a concurrent flush
//! costs a put when L3 itself costs next to nothing). `PUT_E2E=1` times
//! each round's flush too (criterion's `put+flush`); `PUT_IDLE_MS=n` idles
//! the caller's thread `n` ms after each round's flush (how a put's cost
//! depends on the caller having been busy just before).

#[path = "../benches/common/put_workload.rs"]
mod workload;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use strata::core::config::{CacheConfig, WriteStrategy};
use strata::core::{CachedStateBackend, MemoryStateBackend, SledStateBackend, StateBackend};
use workload::{Keys, Workload};

/// The counted loop: one round of puts, driven on this thread (a plain
/// function so that callgrind can toggle on it).
#[inline(never)]
fn measured_puts(
    rt: &tokio::runtime::Handle,
    cache: &CachedStateBackend<Arc<dyn StateBackend>>,
    puts: &mut Vec<(workload::Key, Bytes)>,
) -> anyhow::Result<()> {
    rt.block_on(async {
        // Drained: the harness's buffer is freed after the timed loop.
        for (key, value) in puts.drain(..) {
            cache.put(key.as_bytes(), value).await?;
        }
        Ok(())
    })
}

#[allow(clippy::disallowed_methods)] // wall-clock timing of the example itself
fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let strategy: WriteStrategy = args.next().as_deref().unwrap_or("write-behind").parse()?;
    let workload = args.next().unwrap_or_else(|| "fresh".into());
    let workload = Workload::parse(&workload)
        .with_context(|| format!("workload {workload:?}: fresh, uniform or zipf"))?;
    let puts: usize = args.next().as_deref().unwrap_or("2000").parse().context("puts: a number")?;
    let rounds: u32 = args.next().as_deref().unwrap_or("20").parse().context("rounds: a number")?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let dir = tempfile::tempdir()?;
    let cache = rt.block_on(async {
        let mut opts = strata::core::backend::SledOptions::default();
        if let Ok(n) = std::env::var("BG_NICE") {
            opts.background_nice = if n == "none" {
                None
            } else {
                Some(n.parse().with_context(|| format!("BG_NICE={n:?}: a number or none"))?)
            };
        }
        let l3: Arc<dyn StateBackend> = match std::env::var("PUT_L3").as_deref() {
            Err(_) | Ok("sled") => Arc::new(SledStateBackend::open_with(dir.path(), opts).await?),
            Ok("memory") => Arc::new(MemoryStateBackend::new()),
            Ok(other) => anyhow::bail!("PUT_L3={other:?}: sled or memory"),
        };
        let mut cfg = CacheConfig::default();
        if let Ok(p) = std::env::var("PUT_POLICY") {
            cfg.l1.eviction = p.parse()?;
        }
        cfg.write.strategy = strategy;
        if let Ok(a) = std::env::var("PUT_ALLOCATE") {
            cfg.write.allocate = a.parse().with_context(|| format!("PUT_ALLOCATE={a:?}: true or false"))?;
        }
        if let Ok(b) = std::env::var("PUT_BATCH") {
            cfg.write.batch_size = b.parse()?;
        }
        anyhow::Ok(CachedStateBackend::builder(l3).config(cfg).build()?)
    })?;
    let end_to_end = std::env::var_os("PUT_E2E").is_some();
    let idle = match std::env::var("PUT_IDLE_MS") {
        Ok(ms) => {
            Some(Duration::from_millis(ms.parse().with_context(|| format!("PUT_IDLE_MS={ms:?}: a number"))?))
        }
        Err(_) => None,
    };
    let mut total = Duration::ZERO;
    let mut per_round = Vec::new();
    let mut keys = Keys::new(workload);
    for _ in 0..rounds {
        // A value of its own per put, as callers have (a shared one would
        // make every put touch one reference count).
        let mut batch = keys.batch(puts);
        let start = std::time::Instant::now();
        measured_puts(rt.handle(), &cache, &mut batch)?;
        if end_to_end {
            rt.block_on(cache.flush())?;
        }
        let took = start.elapsed();
        total += took;
        per_round.push(took);
        rt.block_on(cache.flush())?;
        if let Some(idle) = idle {
            std::thread::sleep(idle);
        }
    }
    rt.block_on(cache.shutdown(Duration::from_secs(30)))?;
    let per = total.as_nanos() as f64 / f64::from(rounds) / puts as f64;
    per_round.sort();
    let median = per_round[per_round.len() / 2].as_nanos() as f64 / puts as f64;
    println!("{strategy} {} {per:.0} ns/put (median round {median:.0})", workload.name());
    Ok(())
}
