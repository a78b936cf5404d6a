//! LRU stack distances in O(log M) per access (M: distinct keys).
//!
//! Each key's last access holds one position on a time line; a Fenwick tree
//! sums the weights of the positions still live (the latest access of each
//! key). The stack distance of an access is the weight of the live
//! positions after the key's previous one, plus its own weight: the number
//! of distinct keys (or their bytes) an LRU cache must hold for the access
//! to hit. When the time line is full it is compacted (live positions
//! renumbered in order), so its length stays within twice the distinct keys.
//!
//! Keys live in an open-addressing table (linear probing, load at most
//! 3/4, 16-byte entries holding the key, its position and its weight), so
//! that an access costs one cache miss for the key instead of a map lookup
//! and an index lookup: on large traces the time goes into cache misses.

use strata_core::l1::hash_key;

use super::fenwick::{Fenwick, Weight};

const NONE: u32 = u32::MAX;
const MIN_LEN: usize = 1 << 12;
const MIN_TABLE: usize = 1 << 10;

#[derive(Debug, Clone, Copy)]
struct Entry {
    key: u64,
    /// Position of the key's latest access; `NONE`: vacant entry.
    pos: u32,
    /// Weight at the latest access.
    weight: u32,
}

const VACANT: Entry = Entry { key: 0, pos: NONE, weight: 0 };

/// The stack-distance engine; `W` sums weights (`u32` objects, `u64` bytes).
#[derive(Debug)]
pub(crate) struct StackDistances<W> {
    table: Vec<Entry>,
    /// `64 - log2(table.len())`: the hash's top bits pick the entry.
    shift: u32,
    keys: usize,
    /// position → table index of its key (`NONE` when the position is dead).
    owner: Vec<u32>,
    tree: Fenwick<W>,
    next: usize,
    total: W,
}

impl<W: Weight> StackDistances<W> {
    pub(crate) fn new() -> Self {
        Self {
            table: vec![VACANT; MIN_TABLE],
            shift: 64 - MIN_TABLE.trailing_zeros(),
            keys: 0,
            owner: vec![NONE; MIN_LEN],
            tree: Fenwick::from_weights(std::iter::empty(), MIN_LEN),
            next: 0,
            total: W::default(),
        }
    }

    /// Number of distinct keys seen.
    pub(crate) fn distinct(&self) -> u64 {
        self.keys as u64
    }

    /// Sum of the latest weights of the distinct keys.
    pub(crate) fn footprint(&self) -> u64 {
        self.total.to_u64()
    }

    /// The table index holding `key`, or the vacant one where it goes.
    #[inline]
    fn find(&self, key: u64) -> usize {
        let mask = self.table.len() - 1;
        let mut i = (hash_key(&key) >> self.shift) as usize;
        loop {
            let e = &self.table[i];
            if e.pos == NONE || e.key == key {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// Records an access of `key` with weight `w`; returns its stack
    /// distance, or `None` for the first access of the key.
    #[inline]
    pub(crate) fn access(&mut self, key: u64, w: u32) -> Option<u64> {
        if self.next == self.owner.len() {
            self.compact();
        }
        if 4 * (self.keys + 1) > 3 * self.table.len() {
            self.grow();
        }
        let i = self.find(key);
        let e = self.table[i];
        let distance = if e.pos == NONE {
            self.keys += 1;
            None
        } else {
            let p = e.pos as usize;
            let old = W::from_u32(e.weight);
            let above = self.total.sub(self.tree.prefix(p));
            self.tree.sub(p, old);
            self.owner[p] = NONE;
            self.total = self.total.sub(old);
            Some(above.to_u64() + u64::from(w))
        };
        let p = self.next;
        self.next += 1;
        self.table[i] = Entry { key, pos: p as u32, weight: w };
        self.owner[p] = i as u32;
        let w = W::from_u32(w);
        self.tree.add(p, w);
        self.total = self.total.add(w);
        distance
    }

    /// Renumbers the live positions `0..live` in order and resizes the time
    /// line to twice the live count (at least [`MIN_LEN`]).
    fn compact(&mut self) {
        let len = (2 * self.keys).max(MIN_LEN);
        let mut owner = vec![NONE; len];
        let mut weights = Vec::with_capacity(self.keys);
        let mut j = 0;
        for &i in &self.owner[..self.next] {
            if i != NONE {
                owner[j] = i;
                let e = &mut self.table[i as usize];
                e.pos = j as u32;
                weights.push(W::from_u32(e.weight));
                j += 1;
            }
        }
        self.tree = Fenwick::from_weights(weights, len);
        self.owner = owner;
        self.next = j;
    }

    /// Doubles the table and re-points the positions at the moved entries.
    fn grow(&mut self) {
        let doubled = vec![VACANT; self.table.len() * 2];
        let old = std::mem::replace(&mut self.table, doubled);
        self.shift -= 1;
        for e in old.into_iter().filter(|e| e.pos != NONE) {
            let i = self.find(e.key);
            self.table[i] = e;
            self.owner[e.pos as usize] = i as u32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The textbook definition: scan an explicit LRU stack.
    fn naive(trace: &[(u64, u32)]) -> Vec<Option<u64>> {
        let mut stack: Vec<(u64, u32)> = Vec::new(); // most recent first
        let mut out = Vec::new();
        for &(k, w) in trace {
            match stack.iter().position(|&(s, _)| s == k) {
                Some(i) => {
                    let above: u64 = stack[..i].iter().map(|&(_, w)| u64::from(w)).sum();
                    out.push(Some(above + u64::from(w)));
                    stack.remove(i);
                }
                None => out.push(None),
            }
            stack.insert(0, (k, w));
        }
        out
    }

    proptest! {
        #[test]
        fn equals_the_naive_stack(trace in proptest::collection::vec((prop_oneof![0u64..60, any::<u64>()], 1u32..50), 0..3000)) {
            let mut s = StackDistances::<u64>::new();
            let got: Vec<Option<u64>> = trace.iter().map(|&(k, w)| s.access(k, w)).collect();
            prop_assert_eq!(got, naive(&trace));
        }
    }

    #[test]
    fn compaction_and_growth_keep_distances() {
        // few keys, many accesses: many compactions; then many keys: table growth
        let mut trace: Vec<(u64, u32)> = (0..50_000u64).map(|i| ((i * 7919) % 37, 1)).collect();
        trace.extend((0..6000u64).map(|i| (u64::MAX - (i * 13) % 3000, 1)));
        trace.extend((0..20_000u64).map(|i| ((i * 7919) % 37, 1)));
        let mut s = StackDistances::<u32>::new();
        let got: Vec<Option<u64>> = trace.iter().map(|&(k, w)| s.access(k, w)).collect();
        assert_eq!(got, naive(&trace));
        assert_eq!(s.distinct(), 37 + 3000);
        assert_eq!(s.footprint(), 37 + 3000);
    }
}
