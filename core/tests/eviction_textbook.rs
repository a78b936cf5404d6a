//! Textbook sequences with known results, replayed through `L1Store`.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Recorder, keys_of, replay};
use strata_core::Instant;
use strata_core::l1::{L1Store, hash_key};
use strata_core::policy::eviction::{AnyPolicy, EvictionConfig, EvictionPolicy, S3Fifo, Sieve, TinyLfu};

/// Page faults of `refs` with `frames` frames under `cfg`.
fn faults(cfg: &str, refs: &[u64], frames: u64) -> u64 {
    let policy = cfg.parse::<EvictionConfig>().unwrap().build(frames);
    let mut s: L1Store<u64, (), AnyPolicy> = L1Store::new(frames, policy, None);
    replay(&mut s, refs.iter().copied())
}

/// Victims (as keys) of `refs` with `frames` frames under `cfg`.
fn victims(cfg: &str, refs: &[u64], frames: u64) -> Vec<u64> {
    let policy = cfg.parse::<EvictionConfig>().unwrap().build(frames);
    let mut s: L1Store<u64, (), Recorder<AnyPolicy>> = L1Store::new(frames, Recorder::new(policy), None);
    replay(&mut s, refs.iter().copied());
    keys_of(&s.policy().victims, 100)
}

/// The reference string of Silberschatz, Galvin and Gagne's *Operating
/// System Concepts* (§ 10.4), 3 frames: FIFO 15 faults, LRU 12.
const OSC: [u64; 20] = [7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1];

#[test]
fn silberschatz_fifo_and_lru() {
    assert_eq!(faults("fifo", &OSC, 3), 15);
    assert_eq!(faults("lru", &OSC, 3), 12);
    // The book's frame tables, victim by victim.
    assert_eq!(victims("fifo", &OSC, 3), vec![7, 0, 1, 2, 3, 0, 4, 2, 3, 0, 1, 2]);
    assert_eq!(victims("lru", &OSC, 3), vec![7, 1, 2, 3, 0, 4, 0, 3, 2]);
}

/// Belady's anomaly: FIFO faults more with 4 frames (10) than with 3 (9);
/// LRU, a stack algorithm, does not (10 then 8).
const BELADY: [u64; 12] = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5];

#[test]
fn belady_anomaly() {
    assert_eq!(faults("fifo", &BELADY, 3), 9);
    assert_eq!(faults("fifo", &BELADY, 4), 10);
    assert_eq!(faults("lru", &BELADY, 3), 10);
    assert_eq!(faults("lru", &BELADY, 4), 8);
}

#[test]
fn lfu_keeps_the_frequent_pages() {
    // 3 frames; after 1,1,1,2,2,3 the counts are 1:3, 2:2, 3:1. Each new page
    // evicts the single page at count 1 (ties never arise), so 1 and 2 survive
    // the scan 4,5,6 and hit at the end.
    let refs = [1, 1, 1, 2, 2, 3, 4, 5, 6, 1, 2];
    assert_eq!(victims("lfu", &refs, 3), vec![3, 4, 5]);
    assert_eq!(faults("lfu", &refs, 3), 6);
    // LRU loses both to the scan.
    assert_eq!(faults("lru", &refs, 3), 8);
    // A tie at the lowest count goes to the least recently used: 5 and 6 both
    // have count 1, 5 was used less recently.
    let refs = [7, 7, 5, 6, 8];
    assert_eq!(victims("lfu", &refs, 3), vec![5]);
}

#[test]
fn sieve_worked_example() {
    // Capacity 4; queue head→tail after 1,2,3,4: 4 3 2 1; hits on 1 and 3.
    //  5: hand from the tail: 1 visited (cleared), 2 evicted; hand on 3.
    //  6: 3 visited (cleared), 4 evicted; hand on 5.     queue 6 5 3 1
    //  1 hits.  7: 5 evicted; hand on 6.  8: 6 evicted; hand on 7.
    //  8 and 3 hit.                                       queue 8 7 3 1
    //  9: 7 evicted; hand on 8. 10: 8 visited (cleared), 9 evicted; the
    //     hand falls off the head.                        queue 10 8 3 1
    // 11: from the tail: 1 and 3 visited (cleared), 8 evicted; hand on 10.
    let refs = [1, 2, 3, 4, 1, 3, 5, 6, 1, 7, 8, 8, 3, 9, 10, 11];
    assert_eq!(victims("sieve", &refs, 4), vec![2, 4, 5, 6, 7, 9, 8]);
    assert_eq!(faults("sieve", &refs, 4), 11);
    let mut s: L1Store<u64, (), Sieve> = L1Store::new(4, Sieve::new(), None);
    replay(&mut s, refs);
    let d = s.policy().dump();
    assert_eq!(d.queue.iter().map(|e| e.1).collect::<Vec<_>>(), vec![false; 4]);
    assert_eq!(d.hand, Some(d.queue[1].0), "hand on 10, the second from the head");
    for k in [11, 10, 3, 1] {
        assert!(s.peek(&k, Instant::ZERO).is_some(), "{k} should be cached");
    }
}

#[test]
fn s3fifo_ghost_hit_goes_to_main() {
    // Capacity 10: small share 1, main 9. 0..=9 wait in small.
    let mut s: L1Store<u64, (), S3Fifo> = L1Store::new(10, S3Fifo::new(10), None);
    replay(&mut s, 0..10);
    // 10 and 11 evict 0 and 1 (never read) from small into the ghost.
    replay(&mut s, [10, 11]);
    assert!(s.peek(&0, Instant::ZERO).is_none() && s.peek(&1, Instant::ZERO).is_none());
    assert_eq!(s.policy().dump().ghost, vec![hash_key(&1u64), hash_key(&0u64)]);
    // 0 comes back: a ghost hit. 2 makes room (to the ghost); 0 goes
    // straight to main.
    assert_eq!(replay(&mut s, [0]), 1);
    let d = s.policy().dump();
    assert_eq!(d.ghost, vec![hash_key(&2u64), hash_key(&1u64)]);
    assert_eq!((d.small.len(), d.main.len()), (9, 1));
    // Main is within its share, so the next misses take small's one-hit
    // entries and 0 stays; a plain FIFO would have dropped it.
    replay(&mut s, 20..40);
    assert!(s.peek(&0, Instant::ZERO).is_some());
    assert!((3..12).all(|k| s.peek(&k, Instant::ZERO).is_none()));
}

#[test]
fn tinylfu_rejects_one_hit_wonders_against_frequent_victims() {
    // 100 hot keys (5 reads each), then 10 000 one-hit wonders with one hot
    // read after each. Every hot key's reuse distance (~200 distinct keys)
    // exceeds the capacity (100), so LRU misses every hot read; W-TinyLFU
    // refuses the wonders (count 1) against hot victims and keeps them (the
    // sketch over-counts now and then: about 96% of the hot reads hit).
    let warm: Vec<u64> = (0..500).map(|i| i % 100).collect();
    let mixed: Vec<u64> = (0..10_000u64).flat_map(|i| [1000 + i, i % 100]).collect();
    let hot_hits = |cfg: EvictionConfig| {
        let mut s: L1Store<u64, (), AnyPolicy> = L1Store::new(100, cfg.build(100), None);
        replay(&mut s, warm.iter().copied());
        let mut hits = 0;
        for &k in &mixed {
            let hit = s.get(&k, Instant::ZERO).is_some();
            if !hit {
                s.insert(k, (), 1, None, Instant::ZERO);
            }
            assert!(!(hit && k >= 1000), "a one-hit wonder cannot hit");
            hits += u64::from(hit);
        }
        let kept = (0..100).filter(|k| s.peek(k, Instant::ZERO).is_some()).count();
        (hits, kept)
    };
    let (tiny_hits, tiny_kept) = hot_hits(EvictionConfig::TinyLfu(Default::default()));
    assert!(tiny_hits >= 9_000, "W-TinyLFU: {tiny_hits} of 10000 hot reads hit");
    assert!(tiny_kept >= 95, "W-TinyLFU kept {tiny_kept} of 100 hot keys");
    assert_eq!(hot_hits(EvictionConfig::Lru).0, 0);
    // Directly: a single wonder against a frequent probation victim.
    let mut p = TinyLfu::new(4);
    let h = |k: u64| hash_key(&k);
    for s in 0..4u32 {
        p.on_insert(s, h(u64::from(s)), 1);
    }
    for _ in 0..5 {
        p.on_hit(0);
        p.on_hit(1);
        p.on_hit(2);
    }
    p.on_insert(4, h(4), 1);
    assert_eq!(p.evict(), Some(3), "the window's one-hit entry is refused");
}
