//! The hit-ratio-only simulator against a naive reference simulator: plain
//! `Vec`s scanned linearly, obviously correct, written from the policies'
//! definitions (LRU: move to front; FIFO: insertion order; LFU: least
//! frequently used since insertion, ties to the least recently used, the
//! entry being inserted never its own victim). Every request's outcome
//! (L1 hit, L2 hit, miss) must be equal, on random traces with object
//! weights, TTLs, deletes (leaving tombstones in L2), negative caching in
//! L1 and in L2, an L2, several instances, and writes with and without
//! write-allocate. The full replay, with every latency zero (each request
//! done before the next arrives), must count the same hits and L3 reads.

use std::time::Duration;

use proptest::prelude::*;
use strata_core::CacheConfig;
use strata_core::config::{Capacity, L2Config};
use strata_core::policy::eviction::EvictionConfig;
use strata_sim::config::{Arrival, Latencies, Routing};
use strata_sim::fast::{FastSim, Outcome};
use strata_sim::{Op, Request, SimConfig};

const NEVER: u64 = u64::MAX;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Lru,
    Fifo,
    Lfu,
}

#[derive(Clone, Debug)]
struct Item {
    key: u64,
    weight: u64,
    expires: u64,
    freq: u64,
    touched: u64,
    /// A delete's tombstone (L2): there, but read as a miss (as "absent"
    /// with `l2.negative_ttl_ms`).
    tomb: bool,
    /// An absent key's marker (L2, `l2.negative_ttl_ms`): a hit that
    /// answers "absent".
    marker: bool,
}

/// What a lookup found.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Found {
    Nothing,
    Tombstone,
    Value,
    Marker,
}

/// A cache as a `Vec`, front = most recent (LRU) / newest (FIFO).
#[derive(Debug)]
struct Naive {
    kind: Kind,
    capacity: u64,
    ttl: Option<u64>,
    items: Vec<Item>,
    tick: u64,
}

impl Naive {
    fn new(kind: Kind, capacity: u64, ttl: Option<u64>) -> Self {
        Self { kind, capacity, ttl, items: Vec::new(), tick: 0 }
    }

    fn pos(&self, key: u64) -> Option<usize> {
        self.items.iter().position(|i| i.key == key)
    }

    fn touch(&mut self, p: usize) {
        self.tick += 1;
        match self.kind {
            Kind::Lru => {
                let it = self.items.remove(p);
                self.items.insert(0, it);
            }
            Kind::Fifo => {}
            Kind::Lfu => {
                self.items[p].freq += 1;
                self.items[p].touched = self.tick;
            }
        }
    }

    fn lookup(&mut self, key: u64, now: u64) -> Found {
        let Some(p) = self.pos(key) else { return Found::Nothing };
        if now >= self.items[p].expires {
            self.items.remove(p);
            return Found::Nothing;
        }
        let found = match (self.items[p].tomb, self.items[p].marker) {
            (true, _) => Found::Tombstone,
            (false, true) => Found::Marker,
            (false, false) => Found::Value,
        };
        self.touch(p);
        found
    }

    /// Whether `key` is a hit (a value or a marker).
    fn get(&mut self, key: u64, now: u64) -> bool {
        matches!(self.lookup(key, now), Found::Value | Found::Marker)
    }

    /// A delete's tombstone for `ttl`, weighing `weight`.
    fn tombstone(&mut self, key: u64, weight: u64, ttl: u64, now: u64) {
        self.insert(key, weight, Some(ttl), now);
        if let Some(p) = self.pos(key) {
            self.items[p].tomb = true;
        }
    }

    /// An absent key's marker for `ttl`, weighing `weight`.
    fn marker(&mut self, key: u64, weight: u64, ttl: u64, now: u64) {
        self.insert(key, weight, Some(ttl), now);
        if let Some(p) = self.pos(key) {
            self.items[p].marker = true;
        }
    }

    /// A write under no-write-allocate: replaces only a live entry (an
    /// expired one is dropped, as a read would).
    fn update(&mut self, key: u64, weight: u64, ttl: Option<u64>, now: u64) {
        let Some(p) = self.pos(key) else { return };
        if now >= self.items[p].expires {
            self.items.remove(p);
            return;
        }
        self.insert(key, weight, ttl, now);
    }

    fn remove(&mut self, key: u64) {
        if let Some(p) = self.pos(key) {
            self.items.remove(p);
        }
    }

    fn weight(&self) -> u64 {
        self.items.iter().map(|i| i.weight).sum()
    }

    /// The victim's position; `new` (just inserted) only if nothing else is left.
    fn victim(&self, new: Option<u64>) -> usize {
        let last = self.items.len() - 1;
        match self.kind {
            Kind::Lru | Kind::Fifo => last,
            Kind::Lfu => {
                let candidates = || self.items.iter().enumerate().filter(|(_, i)| Some(i.key) != new);
                candidates().min_by_key(|(_, i)| (i.freq, i.touched)).map_or(last, |(p, _)| p)
            }
        }
    }

    fn insert(&mut self, key: u64, weight: u64, ttl: Option<u64>, now: u64) {
        let expires = ttl.or(self.ttl).map_or(NEVER, |t| now.saturating_add(t));
        if weight > self.capacity {
            self.remove(key);
            return;
        }
        let new = match self.pos(key) {
            Some(p) => {
                self.items[p].weight = weight;
                self.items[p].expires = expires;
                self.items[p].tomb = false;
                self.items[p].marker = false;
                self.touch(p);
                None
            }
            None => {
                self.tick += 1;
                let item =
                    Item { key, weight, expires, freq: 1, touched: self.tick, tomb: false, marker: false };
                self.items.insert(0, item);
                Some(key)
            }
        };
        while self.weight() > self.capacity {
            let v = self.victim(new);
            self.items.remove(v);
        }
    }
}

/// The reference of the fast simulator's semantics.
struct Reference {
    l1: Vec<Naive>,
    l2: Option<Naive>,
    bytes: bool,
    l2_bytes: bool,
    allocate: bool,
    next: usize,
    /// Keys deleted and not set since: a read finds nothing and caches
    /// nothing, but with negative caching L1 remembers the absence.
    deleted: std::collections::HashSet<u64>,
    /// `l1.negative_ttl_ms`, in ns.
    negative_ttl: Option<u64>,
    /// `l2.negative_ttl_ms`, in ns.
    l2_negative_ttl: Option<u64>,
    /// L2 hits on markers so far.
    l2_negative_hits: u64,
}

impl Reference {
    fn weight(bytes: bool, size: u32) -> u64 {
        if bytes { u64::from(size.max(1)) } else { 1 }
    }

    fn step(&mut self, r: &Request, t0: u64) -> Outcome {
        let now = r.time_ns - t0;
        let i = self.next;
        self.next = (self.next + 1) % self.l1.len();
        let w1 = Self::weight(self.bytes, r.size);
        let w2 = Self::weight(self.l2_bytes, r.size);
        let ttl = r.ttl.filter(|&s| s > 0).map(|s| u64::from(s) * 1_000_000_000);
        match r.op {
            Op::Get => {
                if self.l1[i].get(r.key, now) {
                    return Outcome::L1Hit;
                }
                let deleted = self.deleted.contains(&r.key);
                let (out, absent) = match &mut self.l2 {
                    Some(l2) => match l2.lookup(r.key, now) {
                        Found::Value => (Outcome::L2Hit, false),
                        // With markers on, a tombstone says "absent" too.
                        Found::Marker | Found::Tombstone if self.l2_negative_ttl.is_some() => {
                            self.l2_negative_hits += 1;
                            (Outcome::L2Hit, true)
                        }
                        found => {
                            // L3: a value fills L2; an absent key leaves a
                            // marker (a tag byte) where L2 holds nothing.
                            // A live tombstone means the key was deleted
                            // since, so the value never meets one.
                            if !deleted {
                                l2.insert(r.key, w2, None, now);
                            } else if let (Found::Nothing, Some(ttl)) = (found, self.l2_negative_ttl) {
                                l2.marker(r.key, 1, ttl, now);
                            }
                            (Outcome::Miss, deleted)
                        }
                    },
                    None => (Outcome::Miss, deleted),
                };
                if !absent {
                    self.l1[i].insert(r.key, w1, None, now);
                } else if let Some(ttl) = self.negative_ttl {
                    // The marker: an entry like any other (a later read of
                    // it is an L1 hit), weighing its 8-byte key and 16 bytes.
                    let w = if self.bytes { 8 + 16 } else { 1 };
                    self.l1[i].insert(r.key, w, Some(ttl), now);
                }
                out
            }
            Op::Set | Op::Delete => {
                if r.op == Op::Delete {
                    self.deleted.insert(r.key);
                } else {
                    self.deleted.remove(&r.key);
                }
                for (j, l1) in self.l1.iter_mut().enumerate() {
                    if j == i && r.op == Op::Set {
                        if self.allocate {
                            l1.insert(r.key, w1, ttl, now);
                        } else {
                            l1.update(r.key, w1, ttl, now);
                        }
                    } else if j == i || self.l2.is_some() {
                        // Other instances hear of it only through L2 (pub/sub).
                        l1.remove(r.key);
                    }
                }
                if let Some(l2) = &mut self.l2 {
                    if r.op == Op::Set {
                        l2.insert(r.key, w2, ttl, now);
                    } else {
                        // A tombstone: 10 s, or the tier's TTL if shorter.
                        let ttl = l2.ttl.map_or(10_000_000_000, |t| t.min(10_000_000_000));
                        l2.tombstone(r.key, 1, ttl, now);
                    }
                }
                Outcome::Write
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Case {
    kind: Kind,
    bytes: bool,
    l1_capacity: u64,
    l1_ttl_ms: Option<u64>,
    negative_ttl_ms: Option<u64>,
    /// Capacity, TTL and negative TTL (ms).
    l2: Option<(u64, Option<u64>, Option<u64>)>,
    instances: u32,
    allocate: bool,
    requests: Vec<Request>,
}

fn request() -> impl Strategy<Value = (u64, u64, Op, u32, Option<u32>)> {
    (
        0..1500u64,
        0..24u64,
        prop_oneof![8 => Just(Op::Get), 2 => Just(Op::Set), 1 => Just(Op::Delete)],
        1..60u32,
        prop_oneof![3 => Just(None), 1 => (1..4u32).prop_map(Some)],
    )
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![Just(Kind::Lru), Just(Kind::Fifo), Just(Kind::Lfu)],
        any::<bool>(),
        1..12u64,
        prop_oneof![2 => Just(None), 1 => (500..5000u64).prop_map(Some)],
        prop_oneof![1 => Just(None), 1 => (100..8000u64).prop_map(Some)],
        prop_oneof![
            Just(None),
            (
                1..20u64,
                prop_oneof![Just(None), (1000..6000u64).prop_map(Some)],
                prop_oneof![Just(None), (100..8000u64).prop_map(Some)],
            )
                .prop_map(Some)
        ],
        1..4u32,
        any::<bool>(),
        prop::collection::vec(request(), 1..300),
    )
        .prop_map(|(kind, bytes, cap, l1_ttl_ms, negative_ttl_ms, l2, instances, allocate, reqs)| {
            let scale = if bytes { 30 } else { 1 };
            let mut t = 1_000;
            let requests = reqs
                .into_iter()
                .map(|(dt_ms, key, op, size, ttl)| {
                    t += dt_ms * 1_000_000;
                    Request { time_ns: t, key, op, size, ttl }
                })
                .collect();
            Case {
                kind,
                bytes,
                l1_capacity: cap * scale,
                l1_ttl_ms,
                negative_ttl_ms,
                l2: l2.map(|(c, ttl, negative)| (c * scale, ttl, negative)),
                instances,
                allocate,
                requests,
            }
        })
}

fn capacity(bytes: bool, n: u64) -> Capacity {
    if bytes { Capacity::Bytes(n) } else { Capacity::Entries(n) }
}

fn check(c: &Case) -> Result<(), TestCaseError> {
    let mut cache = CacheConfig::default();
    cache.l1.capacity = capacity(c.bytes, c.l1_capacity);
    cache.l1.ttl = c.l1_ttl_ms.map(Duration::from_millis);
    cache.l1.negative_ttl = c.negative_ttl_ms.map(Duration::from_millis);
    cache.write.allocate = c.allocate;
    cache.l1.eviction = match c.kind {
        Kind::Lru => EvictionConfig::Lru,
        Kind::Fifo => EvictionConfig::Fifo,
        Kind::Lfu => EvictionConfig::Lfu,
    };
    cache.l2 = c.l2.map(|(cap, ttl, negative)| L2Config {
        capacity: Some(capacity(c.bytes, cap)),
        ttl: ttl.map(Duration::from_millis),
        negative_ttl: negative.map(Duration::from_millis),
        ..L2Config::default()
    });
    let sim = SimConfig {
        instances: c.instances,
        routing: Routing::RoundRobin,
        arrival: Arrival::Trace { time_scale: 1.0 },
        ..SimConfig::default()
    };
    let mut fast = FastSim::new(&cache, &sim).unwrap();
    let ms = |m: u64| m * 1_000_000;
    let mut reference = Reference {
        l1: (0..c.instances).map(|_| Naive::new(c.kind, c.l1_capacity, c.l1_ttl_ms.map(ms))).collect(),
        l2: c.l2.map(|(cap, ttl, _)| Naive::new(Kind::Lru, cap, ttl.map(ms))),
        bytes: c.bytes,
        l2_bytes: c.bytes,
        allocate: c.allocate,
        deleted: std::collections::HashSet::new(),
        negative_ttl: c.negative_ttl_ms.map(ms),
        l2_negative_ttl: c.l2.and_then(|(_, _, negative)| negative).map(ms),
        l2_negative_hits: 0,
        next: 0,
    };
    let t0 = c.requests[0].time_ns;
    let mut want = [0u64; 3];
    for (n, r) in c.requests.iter().enumerate() {
        let outcome = reference.step(r, t0);
        let got = fast.step(r);
        prop_assert_eq!(got, outcome, "request {} {:?}", n, r);
        match outcome {
            Outcome::L1Hit => want[0] += 1,
            Outcome::L2Hit => want[1] += 1,
            Outcome::Miss => want[2] += 1,
            Outcome::Write => {}
        }
    }
    prop_assert_eq!(fast.counters().l2_negative_hits, reference.l2_negative_hits);
    // The full replay with no latency: each load and write (write-through)
    // completes, and its invalidations arrive, before the next request.
    let zero = SimConfig { latency: Latencies::none(), ..sim };
    let full = strata_sim::replay::run(&cache, &zero, c.requests.iter().copied(), |_| {}).unwrap();
    let l2_hits = full.l2.as_ref().map_or(0, |t| t.hits);
    prop_assert_eq!([full.l1.hits, l2_hits, full.l3.reads], want, "full replay: L1, L2 hits, L3 reads");
    prop_assert_eq!(full.l2_negative_hits, reference.l2_negative_hits);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn fast_replay_equals_the_naive_reference(c in case()) {
        check(&c)?;
    }
}

#[test]
fn naive_reference_is_itself_right() {
    // Textbook sequences, so the reference is not just agreeing with a bug.
    let mut lru = Naive::new(Kind::Lru, 3, None);
    let mut hits = Vec::new();
    for k in [1, 2, 3, 1, 4, 2, 1] {
        let hit = lru.get(k, 0);
        if !hit {
            lru.insert(k, 1, None, 0);
        }
        hits.push(hit);
    }
    // 4 evicts 2 (LRU after 1 was touched); 2 then evicts 3; 1 still there.
    assert_eq!(hits, [false, false, false, true, false, false, true]);
    let mut fifo = Naive::new(Kind::Fifo, 3, None);
    let mut hits = Vec::new();
    for k in [1, 2, 3, 1, 4, 1] {
        let hit = fifo.get(k, 0);
        if !hit {
            fifo.insert(k, 1, None, 0);
        }
        hits.push(hit);
    }
    // 4 evicts 1 (oldest insert) despite the hit.
    assert_eq!(hits, [false, false, false, true, false, false]);
    let mut lfu = Naive::new(Kind::Lfu, 3, None);
    for k in [1, 2, 3, 1, 1, 2, 4, 5] {
        if !lfu.get(k, 0) {
            lfu.insert(k, 1, None, 0);
        }
    }
    // counts 1:3, 2:2, 3:1 → 4 evicts 3; then 5 evicts 4 (count 1, the only one).
    let mut keys: Vec<u64> = lfu.items.iter().map(|i| i.key).collect();
    keys.sort_unstable();
    assert_eq!(keys, [1, 2, 5]);
    let mut ttl = Naive::new(Kind::Lru, 3, Some(10));
    ttl.insert(1, 1, None, 0);
    assert!(ttl.get(1, 9));
    assert!(!ttl.get(1, 10));
    assert!(ttl.items.is_empty());
}
