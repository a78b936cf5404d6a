use super::*;
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

/// Values the heap-start hook below was asked about, in order.
static ASKED: std::sync::Mutex<Vec<u64>> = std::sync::Mutex::new(Vec::new());

fn record_value(v: &u64) -> Option<*const u8> {
    ASKED.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(*v);
    None
}

#[test]
fn prefetches_the_value_of_the_victim_hinted_twice_and_changes_nothing() {
    let mut plain: L1Store<u64, u64, Lru> = L1Store::new(3, Lru::new(), None);
    let mut hinted: L1Store<u64, u64, Lru> = L1Store::new(3, Lru::new(), None);
    hinted.prefetch_values(record_value);
    for s in [&mut plain, &mut hinted] {
        for k in 1..=3 {
            s.insert(k, k * 10, 1, None, at(0));
        }
    }
    assert!(ASKED.lock().unwrap().is_empty(), "no eviction yet, nothing asked");
    for k in 4..=7u64 {
        let a = plain.insert(k, k * 10, 1, None, at(k));
        let b = hinted.insert(k, k * 10, 1, None, at(k));
        assert_eq!(a, b);
    }
    // Inserting k evicts k-3 and LRU then hints [k-2, k-1]. The first
    // eviction has no earlier hints; after that k-2 was the second hint of
    // the eviction before, so its entry is cached and its value is asked.
    assert_eq!(*ASKED.lock().unwrap(), vec![30, 40, 50]);
    let keys = |s: &L1Store<u64, u64, Lru>| {
        let mut v: Vec<_> = s.iter().map(|e| (e.key, e.value)).collect();
        v.sort_unstable();
        v
    };
    assert_eq!(keys(&plain), keys(&hinted));
    assert_eq!(plain.counters(), hinted.counters());
}
