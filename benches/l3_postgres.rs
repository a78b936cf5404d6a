//! L3 on the real PostgreSQL (`DATABASE_URL`), the raw backend: 10,000
//! single `put`s (one statement and round trip each) against the same 10,000
//! entries written by `put_many` in batches of 256 (one statement per batch).
//! Every iteration writes fresh keys (inserts, not updates) into a table of
//! its own that is dropped at the end.
//!
//! `cargo bench --bench l3_postgres`; it prints criterion's times and a
//! summary line with both totals in ms and their ratio. Under `cargo test`
//! (no `--bench` argument) it checks each variant once on 500 puts: a
//! single put costs one commit, i.e. one WAL fsync, a few ms here.
//!
//! Measured on the 2-core machine under load ~12 (other builds running):
//! 10,000 single puts 52.8 s (5.3 ms/put; psql's own autocommit INSERT
//! took 6.2 ms median at the same time, so it is the commit fsync),
//! put_many x256 0.42 s (42 us/put): 125x.

#[path = "../tests/support/pg_env.rs"]
mod pg_env;

use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use strata::core::{Clock, StateBackend, SystemClock};

/// Puts per iteration when benchmarking.
const PUTS: u32 = 10_000;
/// Puts per iteration under `cargo test`.
const PUTS_TEST: u32 = 500;
const BATCH: usize = 256;
const VALUE_LEN: usize = 64;

fn entries(round: u32, puts: u32) -> Vec<(Bytes, Bytes)> {
    (0..puts)
        .map(|i| (Bytes::from(format!("r{round:06}-k{i:06}")), Bytes::from(vec![(i % 251) as u8; VALUE_LEN])))
        .collect()
}

fn l3_postgres(c: &mut Criterion) {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let table = pg_env::Table::new("bench");
    let be = rt.block_on(table.backend());
    let clock = SystemClock::new();
    let puts = if std::env::args().any(|a| a == "--bench") { PUTS } else { PUTS_TEST };
    let mut round = 0u32;
    // Mean ms per 10,000 puts of each variant, for the summary.
    let mut totals = [(0.0f64, 0u32); 2];

    let mut g = c.benchmark_group(format!("l3_postgres_{puts}_puts"));
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(u64::from(puts)));
    g.bench_function("single_put", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                round += 1;
                let batch = entries(round, puts);
                let start = clock.now();
                rt.block_on(async {
                    for (k, v) in batch {
                        be.put(&k, v).await.expect("put");
                    }
                });
                let took = clock.now().saturating_duration_since(start);
                totals[0].0 += took.as_secs_f64() * 1e3;
                totals[0].1 += 1;
                spent += took;
            }
            spent
        });
    });
    g.bench_function("put_many_256", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                round += 1;
                let mut batch = entries(round, puts);
                let start = clock.now();
                rt.block_on(async {
                    while !batch.is_empty() {
                        let rest = batch.split_off(batch.len().saturating_sub(BATCH));
                        be.put_many(rest).await.expect("put_many");
                    }
                });
                let took = clock.now().saturating_duration_since(start);
                totals[1].0 += took.as_secs_f64() * 1e3;
                totals[1].1 += 1;
                spent += took;
            }
            spent
        });
    });
    g.finish();

    let written = rt.block_on(be.count()).expect("count");
    assert_eq!(written, u64::from(round) * u64::from(puts), "every put landed");
    let single = totals[0].0 / f64::from(totals[0].1.max(1));
    let batched = totals[1].0 / f64::from(totals[1].1.max(1));
    println!(
        "l3_postgres summary: {puts} single puts {single:.1} ms ({:.1} us/put), put_many x{BATCH} {batched:.1} ms ({:.2} us/put), ratio {:.1}x",
        single * 1e3 / f64::from(puts),
        batched * 1e3 / f64::from(puts),
        single / batched
    );
    rt.block_on(be.close());
}

criterion_group!(benches, l3_postgres);
criterion_main!(benches);
