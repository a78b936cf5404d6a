//! LRU, FIFO, LFU, CLOCK and SIEVE against naive reference implementations (plain
//! `Vec`s, O(n) per operation, written to be obviously right) on random
//! sequences: same hits, same victims in the same order, weights included.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Recorder, keys_of};
use proptest::prelude::*;
use strata_core::Instant;
use strata_core::l1::{InsertOutcome, L1Store};
use strata_core::policy::eviction::{AnyPolicy, EvictionConfig};

const KEYS: u64 = 24;

#[derive(Debug, Clone, Copy)]
enum Op {
    /// Read; a miss inserts with weight `w`.
    Get(u64, u64),
    /// Insert or overwrite with weight `w`.
    Put(u64, u64),
    Remove(u64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Lru,
    Fifo,
    Lfu,
    Clock,
    Sieve,
}

#[derive(Debug, Clone)]
struct Item {
    key: u64,
    weight: u64,
    freq: u64,
    last: u64,
    visited: bool,
}

/// The naive model. `items` is ordered oldest (index 0) to newest; LRU
/// moves an accessed item to the end, FIFO and SIEVE never move items, CLOCK
/// moves a referenced front item to the end, LFU picks its victim by
/// scanning for the smallest (count, last access).
struct Reference {
    kind: Kind,
    capacity: u64,
    items: Vec<Item>,
    /// SIEVE's hand as an index into `items` (`None`: start at index 0).
    hand: Option<usize>,
    tick: u64,
    hits: u64,
    victims: Vec<u64>,
}

impl Reference {
    fn new(kind: Kind, capacity: u64) -> Self {
        Self { kind, capacity, items: Vec::new(), hand: None, tick: 0, hits: 0, victims: Vec::new() }
    }

    fn weight(&self) -> u64 {
        self.items.iter().map(|i| i.weight).sum()
    }

    fn find(&self, key: u64) -> Option<usize> {
        self.items.iter().position(|i| i.key == key)
    }

    fn touch(&mut self, at: usize) {
        self.tick += 1;
        match self.kind {
            Kind::Lru => {
                let it = self.items.remove(at);
                self.items.push(it);
            }
            Kind::Fifo => {}
            Kind::Lfu => {
                self.items[at].freq += 1;
                self.items[at].last = self.tick;
            }
            Kind::Sieve | Kind::Clock => self.items[at].visited = true,
        }
    }

    fn remove_at(&mut self, at: usize) -> Item {
        if let Some(h) = self.hand
            && h > at
        {
            self.hand = Some(h - 1);
        }
        let it = self.items.remove(at);
        if self.hand.is_some_and(|h| h >= self.items.len()) {
            self.hand = None;
        }
        it
    }

    fn evict_one(&mut self) {
        let at = match self.kind {
            Kind::Lru | Kind::Fifo => 0,
            Kind::Clock => {
                while self.items[0].visited {
                    let mut it = self.items.remove(0);
                    it.visited = false;
                    self.items.push(it);
                }
                0
            }
            Kind::Lfu => {
                (0..self.items.len()).min_by_key(|&i| (self.items[i].freq, self.items[i].last)).unwrap()
            }
            Kind::Sieve => {
                let mut i = self.hand.unwrap_or(0);
                while self.items[i].visited {
                    self.items[i].visited = false;
                    i = if i + 1 < self.items.len() { i + 1 } else { 0 };
                }
                // The hand stays on the next newer item: after the removal
                // that one takes index `i` (remove_at drops it past the end).
                self.hand = Some(i);
                i
            }
        };
        let it = self.remove_at(at);
        self.victims.push(it.key);
    }

    fn insert(&mut self, key: u64, weight: u64) {
        if weight > self.capacity {
            return;
        }
        while self.weight() + weight > self.capacity {
            self.evict_one();
        }
        self.tick += 1;
        self.items.push(Item { key, weight, freq: 1, last: self.tick, visited: false });
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Get(k, w) => match self.find(k) {
                Some(at) => {
                    self.hits += 1;
                    self.touch(at);
                }
                None => self.insert(k, w),
            },
            Op::Put(k, w) => match self.find(k) {
                Some(at) if w > self.capacity => {
                    self.remove_at(at);
                }
                Some(at) => {
                    self.items[at].weight = w;
                    self.touch(at);
                    while self.weight() > self.capacity {
                        self.evict_one();
                    }
                }
                None => self.insert(k, w),
            },
            Op::Remove(k) => {
                if let Some(at) = self.find(k) {
                    self.remove_at(at);
                }
            }
        }
    }
}

fn config(kind: Kind) -> EvictionConfig {
    match kind {
        Kind::Lru => EvictionConfig::Lru,
        Kind::Fifo => EvictionConfig::Fifo,
        Kind::Lfu => EvictionConfig::Lfu,
        Kind::Clock => "clock".parse().unwrap(),
        Kind::Sieve => EvictionConfig::Sieve,
    }
}

/// Runs `ops` through `L1Store` with the real policy: (hits, victim keys).
fn real(kind: Kind, capacity: u64, ops: &[Op]) -> (u64, Vec<u64>) {
    let mut s: L1Store<u64, (), Recorder<AnyPolicy>> =
        L1Store::new(capacity, Recorder::new(config(kind).build(capacity)), None);
    for &op in ops {
        match op {
            Op::Get(k, w) => {
                if s.get(&k, Instant::ZERO).is_none() {
                    s.insert(k, (), w, None, Instant::ZERO);
                }
            }
            Op::Put(k, w) => {
                let out = s.insert(k, (), w, None, Instant::ZERO);
                assert!(w <= capacity || out == InsertOutcome::TooLarge);
            }
            Op::Remove(k) => {
                s.remove(&k);
            }
        }
    }
    (s.counters().hits, keys_of(&s.policy().victims, KEYS))
}

fn check(kind: Kind, capacity: u64, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut r = Reference::new(kind, capacity);
    for &op in ops {
        r.apply(op);
    }
    let (hits, victims) = real(kind, capacity, ops);
    prop_assert_eq!(hits, r.hits, "{:?} hits", kind);
    prop_assert_eq!(victims, r.victims, "{:?} victims", kind);
    Ok(())
}

/// Skewed keys (small keys far more often) so that hits and frequency
/// differences actually happen.
fn key() -> impl Strategy<Value = u64> {
    prop_oneof![3 => 0..4u64, 2 => 0..10u64, 1 => 0..KEYS]
}

fn ops(max_weight: u64) -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        12 => (key(), 1..=max_weight).prop_map(|(k, w)| Op::Get(k, w)),
        3 => (key(), 1..=max_weight + 1).prop_map(|(k, w)| Op::Put(k, w)),
        1 => key().prop_map(Op::Remove),
    ];
    prop::collection::vec(op, 0..300)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn lru_matches_reference(cap in 1..10u64, ops in ops(1)) { check(Kind::Lru, cap, &ops)?; }
    #[test]
    fn fifo_matches_reference(cap in 1..10u64, ops in ops(1)) { check(Kind::Fifo, cap, &ops)?; }
    #[test]
    fn lfu_matches_reference(cap in 1..10u64, ops in ops(1)) { check(Kind::Lfu, cap, &ops)?; }
    #[test]
    fn clock_matches_reference(cap in 1..10u64, ops in ops(1)) { check(Kind::Clock, cap, &ops)?; }
    #[test]
    fn sieve_matches_reference(cap in 1..10u64, ops in ops(1)) { check(Kind::Sieve, cap, &ops)?; }

    #[test]
    fn weighted_lru_matches_reference(cap in 3..16u64, ops in ops(4)) { check(Kind::Lru, cap, &ops)?; }
    #[test]
    fn weighted_fifo_matches_reference(cap in 3..16u64, ops in ops(4)) { check(Kind::Fifo, cap, &ops)?; }
    #[test]
    fn weighted_lfu_matches_reference(cap in 3..16u64, ops in ops(4)) { check(Kind::Lfu, cap, &ops)?; }
    #[test]
    fn weighted_clock_matches_reference(cap in 3..16u64, ops in ops(4)) { check(Kind::Clock, cap, &ops)?; }
    #[test]
    fn weighted_sieve_matches_reference(cap in 3..16u64, ops in ops(4)) { check(Kind::Sieve, cap, &ops)?; }
}
