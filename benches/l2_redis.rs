//! L2 on the real Redis (`REDIS_URL`): reading 1000 keys with one `get_many`
//! (one MGET round trip) against 1000 sequential `get`s, and 1000 concurrent
//! `get`s (which the multiplexed connection pipelines by itself).
//!
//! `cargo bench --bench l2_redis`. The ceiling of the machine is
//! `redis-benchmark -t get -P 16 -q -n 200000`.

#[path = "../tests/support/redis_env.rs"]
mod redis_env;

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use strata::core::l2::{L2Tier, RedisTier};

const KEYS: usize = 1000;
const VALUE_LEN: usize = 100;

fn l2_redis(c: &mut Criterion) {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let tier: RedisTier = rt.block_on(redis_env::tier("bench"));
    let keys: Vec<Bytes> = (0..KEYS).map(|i| Bytes::from(format!("key-{i:05}"))).collect();
    let entries: Vec<(Bytes, Bytes)> =
        keys.iter().map(|k| (k.clone(), Bytes::from(vec![b'v'; VALUE_LEN]))).collect();
    rt.block_on(tier.put_many(&entries, None)).expect("populate");

    let mut g = c.benchmark_group("l2_redis_1000_keys");
    g.throughput(Throughput::Elements(KEYS as u64));
    g.bench_function("get_many", |b| {
        b.iter(|| {
            let got = rt.block_on(tier.get_many(black_box(&keys))).expect("get_many");
            assert!(got.iter().all(Option::is_some));
            got
        });
    });
    g.bench_function("get_sequential", |b| {
        b.iter(|| {
            rt.block_on(async {
                for k in &keys {
                    let v = tier.get(black_box(k)).await.expect("get");
                    assert!(v.is_some());
                }
            });
        });
    });
    g.bench_function("get_concurrent", |b| {
        b.iter(|| {
            let got =
                rt.block_on(futures::future::try_join_all(keys.iter().map(|k| tier.get(k)))).expect("get");
            assert!(got.iter().all(Option::is_some));
            got
        });
    });
    g.finish();
    rt.block_on(tier.clear()).expect("clear");
}

criterion_group!(benches, l2_redis);
criterion_main!(benches);
