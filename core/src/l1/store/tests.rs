use super::*;
use crate::l1::hash_key;
use crate::policy::eviction::Lru;

fn at(ns: u64) -> Instant {
    Instant::from_nanos(ns)
}

#[test]
fn lru_store_evicts_least_recent() {
    let mut s: L1Store<u64, u64, Lru> = L1Store::new(2, Lru::new(), None);
    s.insert(1, 10, 1, None, at(0));
    s.insert(2, 20, 1, None, at(0));
    assert_eq!(s.get(&1, at(0)).map(|e| e.value), Some(10));
    s.insert(3, 30, 1, None, at(0));
    assert!(s.get(&2, at(0)).is_none());
    assert!(s.get(&1, at(0)).is_some());
    assert!(s.get(&3, at(0)).is_some());
    assert_eq!(s.len(), 2);
    let c = s.counters();
    assert_eq!((c.hits, c.misses, c.evictions), (3, 1, 1));
}

#[test]
fn a_write_without_allocate_updates_only_a_live_key() {
    let mut s: L1Store<u64, u64, Lru> = L1Store::new(2, Lru::new(), None);
    s.insert(1, 10, 1, None, at(0));
    s.insert(2, 20, 1, Some(Duration::from_nanos(5)), at(0));
    // Absent: nothing stored, nothing evicted, the value not even made.
    let absent = s.update_hashed(hash_key(&3u64), &3, || unreachable!("not asked for"), 1, None, at(1));
    assert_eq!(absent, None);
    assert_eq!((s.len(), s.counters().evictions), (2, 0));
    // Present: replaced, and it counts as a use (LRU: 1 is now the most recent).
    let present = s.write_hashed(false, hash_key(&1u64), &1, || 1, 11, 1, None, at(2));
    assert_eq!(present, Some(InsertOutcome::Updated { evicted: 0 }));
    // Expired: dropped as a read would drop it, not revived.
    assert_eq!(s.write_hashed(false, hash_key(&2u64), &2, || 2, 21, 1, None, at(5)), None);
    assert_eq!(s.len(), 1);
    assert_eq!(s.counters().expirations, 1);
    assert_eq!(s.get(&1, at(6)).map(|e| e.value), Some(11));
    // Allocate: an insert that evicts.
    s.write_hashed(true, hash_key(&3u64), &3, || 3, 30, 1, None, at(7));
    s.write_hashed(true, hash_key(&4u64), &4, || 4, 40, 1, None, at(8));
    assert!(s.get(&1, at(9)).is_none(), "1 was the least recent");
    assert_eq!(s.len(), 2);
}

#[test]
fn ttl_expires_lazily() {
    let mut s: L1Store<u64, u64, Lru> = L1Store::new(10, Lru::new(), Some(Duration::from_secs(10)));
    s.insert(1, 10, 1, None, at(0));
    s.insert(2, 20, 1, Some(Duration::from_secs(1)), at(0));
    assert!(s.get(&2, at(999_999_999)).is_some());
    assert!(s.get(&2, at(1_000_000_000)).is_none());
    assert!(s.get(&1, at(9_999_999_999)).is_some());
    assert!(s.get(&1, at(10_000_000_000)).is_none());
    assert_eq!(s.counters().expirations, 2);
    assert!(s.is_empty());
}

#[test]
fn expired_entries_leave_the_policy_too() {
    // An expired entry dropped on read must leave the policy's lists, or
    // its reused slot would be linked twice.
    let mut s: L1Store<u64, u64, Lru> = L1Store::new(2, Lru::new(), None);
    s.insert(1, 10, 1, Some(Duration::from_secs(1)), at(0));
    s.insert(2, 20, 1, None, at(0));
    assert!(s.get(&1, at(2_000_000_000)).is_none());
    assert_eq!(s.policy().dump().len(), 1);
    s.insert(3, 30, 1, None, at(2_000_000_000));
    s.insert(4, 40, 1, None, at(2_000_000_000));
    assert_eq!(s.policy().dump().len(), 2);
    assert!(s.get(&2, at(2_000_000_000)).is_none(), "2 was the LRU victim");
    assert_eq!(s.len(), 2);
}

#[test]
fn lazy_reads_take_the_time_only_for_entries_that_can_expire() {
    let mut s: L1Store<u64, u64, Lru> = L1Store::new(10, Lru::new(), None);
    s.insert(1, 10, 1, None, at(0));
    s.insert(2, 20, 1, Some(Duration::from_secs(1)), at(0));
    let never = || -> Instant { panic!("entry 1 cannot expire: no clock read") };
    assert_eq!(s.get_hashed_lazy(hash_key(&1u64), &1u64, never).map(|e| e.value), Some(10));
    assert!(s.get_hashed_lazy(hash_key(&3u64), &3u64, never).is_none(), "a miss needs no time");
    let mut asked = 0;
    let mut clock = |t| {
        asked += 1;
        at(t)
    };
    assert!(s.get_hashed_lazy(hash_key(&2u64), &2u64, || clock(999_999_999)).is_some());
    assert!(s.get_hashed_lazy(hash_key(&2u64), &2u64, || clock(1_000_000_000)).is_none());
    assert_eq!(asked, 2);
    assert_eq!(s.counters().expirations, 1);
}

#[test]
fn weights_and_too_large() {
    let mut s: L1Store<u64, u64, Lru> = L1Store::new(10, Lru::new(), None);
    s.insert(1, 1, 4, None, at(0));
    s.insert(2, 2, 4, None, at(0));
    assert_eq!(s.weight(), 8);
    assert_eq!(s.insert(3, 3, 4, None, at(0)), InsertOutcome::Inserted { evicted: 1, admitted: true });
    assert_eq!(s.weight(), 8);
    assert_eq!(s.insert(2, 9, 11, None, at(0)), InsertOutcome::TooLarge);
    assert!(s.get(&2, at(0)).is_none());
    assert_eq!(s.insert(3, 5, 6, None, at(0)), InsertOutcome::Updated { evicted: 0 });
    assert_eq!(s.weight(), 6);
}

#[test]
fn borrowed_lookup_and_remove() {
    let mut s: L1Store<Box<[u8]>, u8, Lru> = L1Store::new(10, Lru::new(), None);
    s.insert(b"ab".to_vec().into_boxed_slice(), 1, 1, None, at(0));
    assert!(s.get(&b"ab"[..], at(0)).is_some());
    assert_eq!(s.remove(&b"ab"[..]).map(|e| e.value), Some(1));
    assert!(s.get(&b"ab"[..], at(0)).is_none());
    assert_eq!(s.len(), 0);
}

fn arc_start(v: &std::sync::Arc<u64>) -> Option<*const u8> {
    Some(std::sync::Arc::as_ptr(v).cast())
}

#[test]
fn a_let_go_value_is_freed_one_let_go_later_and_nothing_else_changes() {
    use std::sync::Arc;
    type S = L1Store<u64, Arc<u64>, Lru>;
    let mut plain: S = L1Store::new(3, Lru::new(), None);
    let mut kept: S = L1Store::new(3, Lru::new(), None);
    kept.prefetch_values(arc_start);
    let values: Vec<Arc<u64>> = (0..10).map(Arc::new).collect();
    let held = |v: &Arc<u64>| Arc::strong_count(v) - 1; // clones besides `values`
    for s in [&mut plain, &mut kept] {
        for k in 1..=3 {
            s.insert(k, values[k as usize].clone(), 1, None, at(0));
        }
    }
    // Evicting 1 lets go of values[1]: the plain store drops it, the other
    // keeps it (one let-go value per store).
    let outcome = plain.insert(4, values[4].clone(), 1, None, at(1));
    assert_eq!(kept.insert(4, values[4].clone(), 1, None, at(1)), outcome);
    assert_eq!(held(&values[1]), 1, "kept until the next let-go");
    // Replacing 2's value lets go of values[2] and frees values[1].
    let outcome = plain.insert(2, values[9].clone(), 1, None, at(2));
    assert_eq!(kept.insert(2, values[9].clone(), 1, None, at(2)), outcome);
    assert_eq!((held(&values[1]), held(&values[2])), (0, 1));
    // Evicting 3 (2 was just used) frees values[2].
    kept.insert(5, values[5].clone(), 1, None, at(3));
    plain.insert(5, values[5].clone(), 1, None, at(3));
    assert_eq!((held(&values[2]), held(&values[3])), (0, 1));
    let contents = |s: &S| {
        let mut v: Vec<_> = s.iter().map(|e| (e.key, *e.value)).collect();
        v.sort_unstable();
        v
    };
    assert_eq!(contents(&plain), contents(&kept));
    assert_eq!(plain.counters(), kept.counters());
    assert_eq!(kept.len(), 3);
    kept.clear();
    assert_eq!(held(&values[3]), 0, "clear frees the kept value too");
}

#[test]
fn a_value_without_a_heap_start_is_freed_at_once() {
    use std::sync::Arc;
    fn none(_: &Arc<u64>) -> Option<*const u8> {
        None
    }
    let mut s: L1Store<u64, Arc<u64>, Lru> = L1Store::new(1, Lru::new(), None);
    s.prefetch_values(none);
    let (a, b) = (Arc::new(1), Arc::new(2));
    s.insert(1, a.clone(), 1, None, at(0));
    s.insert(1, b.clone(), 1, None, at(1)); // replaces a
    s.insert(2, Arc::new(3), 1, None, at(2)); // evicts b
    assert_eq!((Arc::strong_count(&a), Arc::strong_count(&b)), (1, 1));
}

mod let_go_model {
    use super::*;
    use crate::policy::eviction::EvictionConfig;
    use proptest::prelude::*;
    use std::sync::Arc;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u64, u64),
        Get(u64),
        Remove(u64),
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0..40u64, 1..4u64).prop_map(|(k, w)| Op::Insert(k, w)),
            3 => (0..40u64).prop_map(Op::Get),
            1 => (0..40u64).prop_map(Op::Remove),
            1 => Just(Op::Clear),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// With `prefetch_values`, every policy makes the same decisions as
        /// without, and at most one value outlives its entry.
        #[test]
        fn keeping_one_let_go_value_changes_no_decision(ops in proptest::collection::vec(op(), 1..300), p in 0..7usize) {
            let all = EvictionConfig::all();
            let cfg = &all[p % all.len()];
            let mut plain = L1Store::new(12, cfg.build(12), None);
            let mut kept = L1Store::new(12, cfg.build(12), None);
            kept.prefetch_values(arc_start);
            let mut made: Vec<Arc<u64>> = Vec::new();
            for (t, op) in ops.into_iter().enumerate() {
                let now = at(t as u64);
                match op {
                    Op::Insert(k, w) => {
                        let v = Arc::new(k * 1000 + t as u64);
                        made.push(v.clone());
                        let a = plain.insert(k, v.clone(), w, None, now);
                        prop_assert_eq!(kept.insert(k, v, w, None, now), a);
                    }
                    Op::Get(k) => {
                        let a = plain.get(&k, now).map(|e| *e.value);
                        prop_assert_eq!(kept.get(&k, now).map(|e| *e.value), a);
                    }
                    Op::Remove(k) => {
                        let a = plain.remove(&k).map(|e| *e.value);
                        prop_assert_eq!(kept.remove(&k).map(|e| *e.value), a);
                    }
                    Op::Clear => {
                        plain.clear();
                        kept.clear();
                    }
                }
                prop_assert_eq!(plain.counters(), kept.counters());
                prop_assert_eq!(plain.len(), kept.len());
                // Clones alive beyond `made`: one per entry of each store,
                // plus at most the one value `kept` holds on to.
                let alive: usize = made.iter().map(|v| Arc::strong_count(v) - 1).sum();
                let extra = alive - plain.len() - kept.len();
                prop_assert!(extra <= 1, "{extra} values outlive their entries");
            }
        }
    }
}
