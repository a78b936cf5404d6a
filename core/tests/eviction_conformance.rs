//! The conformance suite every eviction policy passes, through `L1Store`.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Recorder, replay};
use proptest::prelude::*;
use strata_core::Instant;
use strata_core::l1::{InsertOutcome, L1Store};
use strata_core::policy::eviction::{AnyPolicy, EvictionConfig, EvictionPolicy, Slot};

type Store = L1Store<u64, u64, Recorder<AnyPolicy>>;

fn store(cfg: &EvictionConfig, capacity: u64) -> Store {
    L1Store::new(capacity, Recorder::new(cfg.build(capacity)), None)
}

#[derive(Debug, Clone)]
enum Op {
    Get(u64),
    Put(u64, u64),
    Remove(u64),
    Clear,
    /// Advance the clock (entries put with a TTL expire).
    Tick(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (0..40u64).prop_map(Op::Get),
        6 => (0..40u64, 0..6u64).prop_map(|(k, w)| Op::Put(k, w)),
        2 => (0..40u64).prop_map(Op::Remove),
        1 => Just(Op::Clear),
        2 => (1..20u64).prop_map(Op::Tick),
    ]
}

/// Applies `ops` (a `Get` miss inserts with weight `1 + k % 3`; odd keys
/// put get a TTL) and checks the invariants after each; returns the
/// victims' hashes.
fn run(cfg: &EvictionConfig, capacity: u64, ops: &[Op]) -> Vec<u64> {
    let mut s = store(cfg, capacity);
    let name = cfg.name();
    let mut now = Instant::ZERO;
    for op in ops {
        match *op {
            Op::Get(k) => {
                if s.get(&k, now).is_none() {
                    s.insert(k, k, 1 + k % 3, None, now);
                }
            }
            Op::Tick(ns) => now = Instant::from_nanos(now.as_nanos() + ns),
            Op::Put(k, w) => {
                let ttl = (k % 2 == 1).then(|| std::time::Duration::from_nanos(5 * (k % 7 + 1)));
                let out = s.insert(k, k + 1, w, ttl, now);
                if w <= capacity {
                    assert_ne!(out, InsertOutcome::TooLarge, "{name}");
                }
            }
            Op::Remove(k) => {
                s.remove(&k);
            }
            Op::Clear => s.clear(),
        }
        assert!(s.weight() <= capacity, "{name}: weight {} > capacity {capacity}", s.weight());
        assert_eq!(s.len(), s.policy().live(), "{name}: store and policy disagree");
        assert_eq!(s.iter().map(|e| e.weight).sum::<u64>(), s.weight(), "{name}");
    }
    s.policy().victims.clone()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn capacity_and_contract_hold_for_every_policy(
        capacity in 1..12u64,
        ops in prop::collection::vec(op(), 0..400),
    ) {
        for cfg in EvictionConfig::all() {
            let first = run(&cfg, capacity, &ops);
            // Determinism: the same sequence gives the same victims.
            prop_assert_eq!(&first, &run(&cfg, capacity, &ops), "{}", cfg.name());
        }
    }
}

/// Inserts slots `0..n` (hash = slot · φ), reads some of them, evicts until
/// empty; every slot comes out exactly once, whatever the policy.
#[test]
fn evict_returns_each_live_slot_once() {
    for cfg in EvictionConfig::all() {
        for n in [1u32, 2, 7, 100] {
            let mut p = cfg.build(u64::from(n));
            let hash = |s: Slot| u64::from(s).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            for s in 0..n {
                p.on_insert(s, hash(s), 1);
                if s % 3 == 0 {
                    p.on_hit(s / 2);
                }
            }
            p.on_remove(n / 2);
            let mut out: Vec<Slot> = std::iter::from_fn(|| p.evict()).collect();
            assert_eq!(p.evict(), None, "{}", cfg.name());
            out.sort_unstable();
            let expected: Vec<Slot> = (0..n).filter(|&s| s != n / 2).collect();
            assert_eq!(out, expected, "{} n={n}", cfg.name());
        }
    }
}

/// `victim_hints` names live slots only (checked by the recorder on every
/// eviction of every test here), is exact for FIFO (reads do not reorder
/// it), and names most victims for the others that give hints (what makes
/// the store's prefetch pay), though reads between two evictions move them.
#[test]
fn victim_hints_name_the_next_victims() {
    let keys: Vec<u64> = (0..20_000u64).map(|i| (i * 7919 + i / 3) % 997 % (1 + i % 200)).collect();
    for cfg in EvictionConfig::all() {
        let name = cfg.name();
        let mut s = store(&cfg, 50);
        replay(&mut s, keys.iter().copied());
        let [evictions, first, either] = s.policy().hinted;
        assert!(evictions > 1_000, "{name}: {evictions} evictions");
        let (first, either) = (first as f64 / evictions as f64, either as f64 / evictions as f64);
        match name {
            "fifo" => assert_eq!(first, 1.0, "{name}: the tail is the victim"),
            "lfu" => assert_eq!(first, 0.0, "{name} gives no hints"),
            _ => assert!(either >= MIN_HINTED, "{name}: hints named {either:.2} of the victims"),
        }
        eprintln!("{name}: first hint {first:.3}, either {either:.3} of {evictions} evictions");
    }
}

/// The share of victims the hints of LRU, CLOCK, SIEVE, S3-FIFO and W-TinyLFU must
/// name on the workload above (measured: see the test's output).
const MIN_HINTED: f64 = 0.7;

#[test]
fn remove_and_clear_forget_entries() {
    for cfg in EvictionConfig::all() {
        let name = cfg.name();
        let mut s = store(&cfg, 5);
        for k in 0..5 {
            s.insert(k, k, 1, None, Instant::ZERO);
        }
        assert!(s.remove(&2).is_some());
        assert!(s.get(&2, Instant::ZERO).is_none());
        s.insert(10, 10, 1, None, Instant::ZERO);
        assert_eq!(s.len(), 5, "{name}: a freed place is reused without eviction");
        assert_eq!(s.counters().evictions, 0, "{name}");
        s.clear();
        assert!(s.is_empty());
        assert_eq!(s.policy().live(), 0);
        // After clear the store behaves exactly like a new one.
        let keys: Vec<u64> = (0..300).map(|i| (i * 7 + i / 5) % 23).collect();
        let mut fresh = store(&cfg, 5);
        let m1 = replay(&mut s, keys.iter().copied());
        let m2 = replay(&mut fresh, keys.iter().copied());
        assert_eq!(m1, m2, "{name}");
        assert_eq!(
            s.policy().victims[s.policy().victims.len() - fresh.policy().victims.len()..],
            fresh.policy().victims[..],
            "{name}"
        );
    }
}

#[test]
fn weighted_capacity() {
    for cfg in EvictionConfig::all() {
        let name = cfg.name();
        let mut s = store(&cfg, 100);
        for k in 0..200u64 {
            let w = 1 + (k * 37) % 40;
            if s.get(&(k % 50), Instant::ZERO).is_none() {
                s.insert(k % 50, k, w, None, Instant::ZERO);
            }
            assert!(s.weight() <= 100, "{name}");
        }
        // An entry as heavy as the whole capacity fits alone (or, for an
        // admission policy, is rejected and leaves the rest in place).
        let before = s.len();
        match s.insert(999, 0, 100, None, Instant::ZERO) {
            InsertOutcome::Inserted { admitted: true, evicted } => {
                assert_eq!((s.len(), evicted as usize), (1, before), "{name}");
                assert!(s.peek(&999, Instant::ZERO).is_some(), "{name}");
            }
            InsertOutcome::Inserted { admitted: false, .. } => {
                assert_eq!(name, "tinylfu", "only W-TinyLFU rejects");
                assert!(s.peek(&999, Instant::ZERO).is_none() && s.weight() <= 100);
            }
            out => panic!("{name}: {out:?}"),
        }
        // Growing an entry in place evicts others to make room.
        let mut s = store(&cfg, 10);
        for k in 0..10 {
            s.insert(k, k, 1, None, Instant::ZERO);
        }
        s.get(&3, Instant::ZERO);
        let out = s.insert(3, 3, 6, None, Instant::ZERO);
        assert!(matches!(out, InsertOutcome::Updated { .. }), "{name}");
        assert!(s.weight() <= 10, "{name}");
        assert_eq!(s.counters().evictions, s.policy().victims.len() as u64, "{name}");
    }
}

#[test]
fn capacity_one_keeps_the_newest() {
    for cfg in EvictionConfig::all() {
        let name = cfg.name();
        let mut s = store(&cfg, 1);
        for k in 0..50u64 {
            let k = k % 7;
            if s.get(&k, Instant::ZERO).is_none() {
                s.insert(k, k, 1, None, Instant::ZERO);
            }
            assert_eq!(s.len(), 1, "{name}");
            assert!(s.peek(&k, Instant::ZERO).is_some(), "{name}: {k} not kept");
        }
    }
}

#[test]
fn hit_path_is_exercised_for_every_policy() {
    // A skewed loop: every policy must hit something, and stay deterministic.
    for cfg in EvictionConfig::all() {
        let keys: Vec<u64> = (0..5000u64).map(|i| (i * i) % 97 % (1 + i % 31)).collect();
        let mut a = store(&cfg, 16);
        let mut b = store(&cfg, 16);
        let (ma, mb) = (replay(&mut a, keys.iter().copied()), replay(&mut b, keys.iter().copied()));
        assert_eq!(ma, mb, "{}", cfg.name());
        assert!(a.counters().hits > 1000, "{}: {:?}", cfg.name(), a.counters());
        assert_eq!(a.policy().victims, b.policy().victims);
    }
}

#[test]
fn expired_entries_leave_the_policy_too() {
    use std::time::Duration;
    for cfg in EvictionConfig::all() {
        let name = cfg.name();
        let mut s = store(&cfg, 4);
        let t = |ns: u64| Instant::from_nanos(ns);
        for k in 0..4 {
            s.insert(k, k, 1, Some(Duration::from_nanos(10 + k)), t(0));
        }
        // 0 and 1 expire; reading them drops them from the store, and the
        // policy must forget their slots, which new keys then reuse.
        assert!(s.get(&0, t(11)).is_none() && s.get(&1, t(11)).is_none());
        assert_eq!(s.policy().live(), 2, "{name}");
        for k in 10..20 {
            s.insert(k, k, 1, None, t(11));
            assert_eq!(s.len(), s.policy().live(), "{name}");
        }
        assert_eq!(s.counters().expirations, 2, "{name}");
    }
}
