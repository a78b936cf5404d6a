//! Allocations on the engine's hot paths, counted by a global allocator
//! (this test binary's own): an L1 hit allocates nothing, and a
//! write-behind put of a small value to a warm cache allocates nothing.
//!
//! Counted per thread, on a current-thread runtime, so the runtime's and
//! other tests' threads do not count.

#![allow(clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use strata_core::config::{CacheConfig, Capacity, WriteStrategy};
use strata_core::{CachedStateBackend, MemoryStateBackend, StateBackend};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; the
// counter is a const-initialised thread-local `Cell` (no allocation, no
// destructor), so counting cannot recurse into the allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made on this thread while `f` runs.
fn allocations_in<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (out, ALLOCATIONS.with(Cell::get) - before)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// A cache whose flusher stays asleep while the test counts (a batch never
/// fills, the interval is long).
fn cache(
    strategy: WriteStrategy,
    backend: Arc<MemoryStateBackend>,
) -> CachedStateBackend<Arc<MemoryStateBackend>> {
    let mut c = CacheConfig::default();
    c.write.strategy = strategy;
    c.write.batch_size = 100_000;
    c.write.flush_interval = Duration::from_secs(3600);
    CachedStateBackend::builder(backend).config(c).build().unwrap()
}

fn value(i: u32) -> Bytes {
    // As callers make them: a `Vec` turned into `Bytes`.
    Bytes::from(vec![i as u8; 64])
}

#[test]
fn an_l1_hit_allocates_nothing() {
    let rt = runtime();
    rt.block_on(async {
        for strategy in WriteStrategy::ALL {
            let backend = Arc::new(MemoryStateBackend::new());
            for i in 0..100u32 {
                backend.put(format!("loaded:{i}").as_bytes(), value(i)).await.unwrap();
            }
            let cache = cache(strategy, Arc::clone(&backend));
            for i in 0..100u32 {
                // A miss: loads from L3 and fills L1.
                cache.get(format!("loaded:{i}").as_bytes()).await.unwrap().unwrap();
                cache.put(format!("put:{i}").as_bytes(), value(i)).await.unwrap();
            }
            let keys: Vec<String> =
                (0..100).flat_map(|i| [format!("loaded:{i}"), format!("put:{i}")]).collect();
            // The first hit of a put's value may make its buffer shareable
            // (`bytes` allocates a shared header on a Vec-backed buffer's
            // first clone): at most one allocation a value, once.
            let ((), first) = allocations_in(|| {
                for k in &keys {
                    let v = poll_once(cache.get(k.as_bytes())).unwrap().unwrap();
                    assert_eq!(v.len(), 64);
                }
            });
            assert!(first <= 100, "{strategy:?}: {first} allocations over the first 200 hits");
            let ((), after) = allocations_in(|| {
                for _ in 0..10 {
                    for k in &keys {
                        poll_once(cache.get(k.as_bytes())).unwrap().unwrap();
                    }
                }
            });
            assert_eq!(after, 0, "{strategy:?}: 2,000 hits allocated");
            let stats = cache.stats();
            assert_eq!(stats.l1.hits, 2_200, "{strategy:?}: every counted read hit L1");
        }
    });
}

#[test]
fn a_write_behind_put_of_a_small_value_allocates_nothing() {
    let rt = runtime();
    rt.block_on(async {
        for allocate in [true, false] {
            let mut c = CacheConfig::default();
            c.write.strategy = WriteStrategy::WriteBehind;
            c.write.allocate = allocate;
            c.write.batch_size = 100_000;
            c.write.flush_interval = Duration::from_secs(3600);
            c.l1.capacity = Capacity::Entries(1_000);
            let cache = CachedStateBackend::builder(MemoryStateBackend::new()).config(c).build().unwrap();
            // Warm: L1 is full and evicts (its slots are reused, as in a
            // running service), and the write queue has made its room.
            for i in 0..2_000u32 {
                let key = format!("warm:{i}");
                cache.put(key.as_bytes(), value(i)).await.unwrap();
                cache.get(key.as_bytes()).await.unwrap().unwrap();
            }
            cache.flush().await.unwrap();
            // New keys, then keys L1 holds (the last 250 warm ones).
            let keys: Vec<String> = (0..500)
                .map(|i| format!("user:{i:08}"))
                .chain((1_750..2_000).map(|i| format!("warm:{i}")))
                .collect();
            let values: Vec<Bytes> = (0..750).map(value).collect();
            let evicted = cache.stats().l1.evictions;
            let ((), n) = allocations_in(|| {
                for (k, v) in keys.iter().zip(values) {
                    poll_once(cache.put(k.as_bytes(), v)).unwrap();
                }
            });
            assert_eq!(n, 0, "allocate={allocate}: 750 puts of 64-byte values allocated");
            let evictions = cache.stats().l1.evictions - evicted;
            assert_eq!(evictions, if allocate { 500 } else { 0 }, "allocate={allocate}");
            // Every write is read back and reaches L3.
            for (i, k) in keys.iter().enumerate() {
                let v = cache.get(k.as_bytes()).await.unwrap().unwrap();
                assert_eq!(v, value(i as u32), "allocate={allocate}: {k}");
            }
            cache.flush().await.unwrap();
            assert_eq!(cache.count().await.unwrap(), 2_500, "allocate={allocate}");
        }
    });
}

/// Polls `f` once: the paths under test finish without waiting, and a
/// runtime's `block_on` could run other tasks (and count their allocations).
fn poll_once<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the operation waited: not the hot path"),
    }
}
