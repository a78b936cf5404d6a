//! L1 hits one peer at a time, for instruction counts under callgrind (they
//! do not depend on the load of a shared machine, unlike criterion's times).
//! Same workload as `benches/l1_hit.rs`: 100k keys, 64-byte values, every
//! read a hit. Only `measured_hits` (one instance per peer) is meant to be counted:
//!
//! ```text
//! cargo build --profile bench --example l1_hit_count
//! valgrind --tool=callgrind --toggle-collect='*measured_*' --callgrind-out-file=cg.out \
//!     target/release/examples/l1_hit_count strata:lru zipf 1000000
//! callgrind_annotate cg.out     # PROGRAM TOTALS / hits = instructions per hit
//! ```
//!
//! Peers: `strata:<policy>` (`CachedStateBackend::get`, polled once with
//! `now_or_never`), `l1:<policy>` (the engine's `ShardedL1` alone),
//! `mini_moka`, `quick_cache`, `mutex_hashmap`, and `loop` (the
//! key-sequence loop alone, to subtract). Distributions: `zipf`
//! (Zipf 1.0) or `uniform`. Without valgrind it prints CPU ns per hit.

#[path = "../benches/common/l1_peers.rs"]
mod peers;

use std::hint::black_box;

use anyhow::{Context, bail};
use bytes::Bytes;
use futures::FutureExt;
use peers::{Engine, KEYS, SEQ, engine, keys, mini_moka, mutex_map, mutex_map_get, quick_cache};
use strata::core::Instant;
use strata::core::l1::ShardedL1;
use strata::core::policy::eviction::{AnyPolicy, EvictionConfig};

type Seq<'a> = (&'a [Bytes], &'a [u32]);

/// The engine's L1 on its own (what `get` adds around it is the rest).
type BareL1 = ShardedL1<Bytes, Bytes, AnyPolicy>;

/// The counted loop: `hits` reads along the key sequence, each through
/// `hit` (which says whether the read found the key). One instance per peer.
#[inline(never)]
fn measured_hits(hit: impl Fn(&Bytes) -> bool, (keys, seq): Seq<'_>, hits: usize) -> usize {
    let mut found = 0;
    for n in 0..hits {
        let k = &keys[seq[n & (SEQ - 1)] as usize];
        found += usize::from(hit(k));
    }
    found
}

/// One untimed pass over the sequence (`warm`), then the measured run:
/// reads found and CPU ns spent.
fn run(hit: impl Fn(&Bytes) -> bool, s: Seq<'_>, hits: usize, warm: bool) -> (usize, u64) {
    if warm {
        for k in s.1 {
            black_box(hit(&s.0[*k as usize]));
        }
    }
    let t = cpu_ns();
    let found = measured_hits(&hit, s, hits);
    (found, cpu_ns() - t)
}

/// CPU time of this thread in ns (Linux), else 0.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let peer = args.next().unwrap_or_else(|| "strata:lru".into());
    let dist = args.next().unwrap_or_else(|| "zipf".into());
    let hits: usize = args.next().map_or(Ok(SEQ), |a| a.parse()).context("hits")?;
    let seq = match dist.as_str() {
        "zipf" => peers::zipf_sequence(1.0, SEQ, 7),
        "uniform" => peers::uniform_sequence(SEQ, 7),
        other => bail!("unknown distribution {other:?} (zipf, uniform)"),
    };
    let keys = keys();
    let s: Seq<'_> = (&keys, &seq);
    // Each arm: build, then one untimed pass and the measured run.
    let (found, ns) = match peer.split_once(':') {
        Some(("strata", policy)) => {
            let eviction: EvictionConfig = policy.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
            let cache: Engine = engine(&rt, eviction);
            let get =
                |k: &Bytes| black_box(cache.get(k).now_or_never().and_then(Result::ok).flatten()).is_some();
            run(get, s, hits, true)
        }
        Some(("l1", policy)) => {
            let eviction: EvictionConfig = policy.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            // As the engine sizes it on this machine (see CacheBuilder::build).
            let shards =
                (std::thread::available_parallelism().map_or(4, usize::from) * 4).next_power_of_two();
            let l1 = BareL1::new(shards, KEYS as u64 * 2, None, |cap| eviction.build(cap));
            for (i, k) in keys.iter().enumerate() {
                l1.insert(Bytes::copy_from_slice(k), peers::value(i as u32), 1, None, Instant::ZERO);
            }
            let get =
                |k: &Bytes| black_box(l1.get_with_clock(&k[..], || Instant::ZERO).map(|h| h.value)).is_some();
            run(get, s, hits, true)
        }
        _ => match peer.as_str() {
            "mini_moka" => {
                let c = mini_moka();
                run(|k: &Bytes| black_box(c.get(k)).is_some(), s, hits, true)
            }
            "quick_cache" => {
                let c = quick_cache();
                run(|k: &Bytes| black_box(c.get(k)).is_some(), s, hits, true)
            }
            "mutex_hashmap" => {
                let m = mutex_map();
                run(|k: &Bytes| black_box(mutex_map_get(&m, k)).is_some(), s, hits, false)
            }
            "loop" => run(|k: &Bytes| !black_box(k).is_empty(), s, hits, false),
            other => {
                bail!("unknown peer {other:?} (strata:<policy>, mini_moka, quick_cache, mutex_hashmap, loop)")
            }
        },
    };
    if found != hits {
        bail!("{peer}: {found} of {hits} reads hit; the workload must be all hits");
    }
    println!("{peer} {dist}: {hits} hits, {:.1} CPU ns/hit", ns as f64 / hits as f64);
    Ok(())
}
