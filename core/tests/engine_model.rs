//! Model-based tests: every write strategy × eviction policy against a plain
//! map model over random sequences of put/get/delete/invalidate/flush.
//!
//! The model keeps what L3 has (`persisted`) and, for queued strategies, what
//! is pending. Reads must return the pending value if any, else the persisted
//! one (read-your-writes); after `flush()` the backend must equal `persisted`.
//! The flush interval is an hour and batches are large, so write-behind only
//! flushes when the test says so; write-back writes in the background at any
//! time, so there `invalidate` is preceded by a flush (it then only drops
//! cached copies).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;
use strata_core::config::{CacheConfig, Capacity, WriteStrategy};
use strata_core::policy::eviction::EvictionConfig;
use strata_core::{CachedStateBackend, MemoryStateBackend};

#[derive(Debug, Clone)]
enum Op {
    Put(u8, u8),
    Get(u8),
    Delete(u8),
    Invalidate(u8),
    Flush,
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0u8..10;
    prop_oneof![
        4 => (k.clone(), any::<u8>()).prop_map(|(k, v)| Op::Put(k, v)),
        4 => k.clone().prop_map(Op::Get),
        1 => k.clone().prop_map(Op::Delete),
        1 => k.prop_map(Op::Invalidate),
        1 => Just(Op::Flush),
    ]
}

fn key(k: u8) -> Vec<u8> {
    // Non-UTF-8 and varying length keys.
    let mut v = vec![0xff, k];
    v.extend(std::iter::repeat_n(b'k', usize::from(k % 3)));
    v
}

fn value(v: u8) -> Bytes {
    Bytes::from(vec![v; usize::from(v % 5)])
}

#[derive(Default)]
struct Model {
    persisted: BTreeMap<Vec<u8>, Bytes>,
    pending: BTreeMap<Vec<u8>, Option<Bytes>>,
}

impl Model {
    fn read(&self, k: &[u8]) -> Option<Bytes> {
        match self.pending.get(k) {
            Some(v) => v.clone(),
            None => self.persisted.get(k).cloned(),
        }
    }
    fn flush(&mut self) {
        for (k, v) in std::mem::take(&mut self.pending) {
            match v {
                Some(v) => self.persisted.insert(k, v),
                None => self.persisted.remove(&k),
            };
        }
    }
}

async fn run(
    strategy: WriteStrategy,
    eviction: EvictionConfig,
    allocate: bool,
    ops: Vec<Op>,
) -> Result<(), TestCaseError> {
    let backend = Arc::new(MemoryStateBackend::new());
    let mut cfg = CacheConfig::default();
    cfg.l1.capacity = Capacity::Entries(3);
    cfg.l1.shards = 1;
    cfg.l1.eviction = eviction;
    cfg.write.strategy = strategy;
    cfg.write.batch_size = 1000;
    cfg.write.queue_capacity = 1000;
    cfg.write.flush_interval = Duration::from_secs(3600);
    cfg.write.allocate = allocate;
    let cache = CachedStateBackend::builder(Arc::clone(&backend)).config(cfg).build().unwrap();
    let queued = strategy != WriteStrategy::WriteThrough;
    let mut model = Model::default();
    for op in ops {
        match op {
            Op::Put(k, v) => {
                cache.put(&key(k), value(v)).await.unwrap();
                if queued {
                    model.pending.insert(key(k), Some(value(v)));
                } else {
                    model.persisted.insert(key(k), value(v));
                }
            }
            Op::Get(k) => {
                let got = cache.get(&key(k)).await.unwrap();
                prop_assert_eq!(got, model.read(&key(k)), "get {:?}", k);
            }
            Op::Delete(k) => {
                let existed = cache.delete(&key(k)).await.unwrap();
                prop_assert_eq!(existed, model.read(&key(k)).is_some(), "delete {:?}", k);
                if queued {
                    model.pending.insert(key(k), None);
                } else {
                    model.persisted.remove(&key(k));
                }
            }
            Op::Invalidate(k) => {
                if strategy == WriteStrategy::WriteBack {
                    cache.flush().await.unwrap();
                    model.flush();
                }
                cache.invalidate(&key(k)).await;
                model.pending.remove(&key(k));
            }
            Op::Flush => {
                cache.flush().await.unwrap();
                model.flush();
                let snap: BTreeMap<Vec<u8>, Bytes> =
                    backend.snapshot().into_iter().map(|(k, v)| (k.to_vec(), v)).collect();
                prop_assert_eq!(&snap, &model.persisted);
            }
        }
    }
    cache.flush().await.unwrap();
    model.flush();
    let snap: BTreeMap<Vec<u8>, Bytes> =
        backend.snapshot().into_iter().map(|(k, v)| (k.to_vec(), v)).collect();
    prop_assert_eq!(&snap, &model.persisted);
    let stats = cache.stats();
    prop_assert!(stats.l1.size <= 3);
    prop_assert_eq!(stats.pending_writes, 0);
    Ok(())
}

fn check(strategy: WriteStrategy) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    for eviction in EvictionConfig::all() {
        for allocate in [true, false] {
            // A runner per combination: a runner counts its cases across
            // `run` calls, so a shared one would test only the first.
            let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
                cases: 64,
                rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha,
                ..ProptestConfig::default()
            });
            runner
                .run(&proptest::collection::vec(op(), 1..120), |ops| {
                    rt.block_on(run(strategy, eviction.clone(), allocate, ops))
                })
                .unwrap_or_else(|e| panic!("{strategy:?} × {} × allocate={allocate}: {e}", eviction.name()));
        }
    }
}

#[test]
fn write_through_matches_model() {
    check(WriteStrategy::WriteThrough);
}

#[test]
fn write_back_matches_model() {
    check(WriteStrategy::WriteBack);
}

#[test]
fn write_behind_matches_model() {
    check(WriteStrategy::WriteBehind);
}
