//! LRU stack distances in O(log M) per access (M: distinct keys).
//!
//! Each key's last access holds one position on a time line; a Fenwick tree
//! sums the weights of the positions still live (the latest access of each
//! key). The stack distance of an access is the weight of the live
//! positions after the key's previous one, plus its own weight: the number
//! of distinct keys (or their bytes) an LRU cache must hold for the access
//! to hit. When the time line is full it is compacted (live positions
//! renumbered in order), so its length stays within twice the distinct keys.

use hashbrown::HashMap;
use hashbrown::hash_map::Entry;

use super::fenwick::{Fenwick, Weight};

const NONE: u32 = u32::MAX;
const MIN_LEN: usize = 1 << 12;

/// The stack-distance engine over weights `W`.
#[derive(Debug)]
pub(crate) struct StackDistances<W> {
    ids: HashMap<u64, u32, strata_core::l1::KeyHasher>,
    /// id → position of its latest access.
    last: Vec<u32>,
    /// id → weight at its latest access.
    weight: Vec<W>,
    /// position → id (`NONE` when the position is dead).
    owner: Vec<u32>,
    tree: Fenwick<W>,
    next: usize,
    total: W,
}

impl<W: Weight> StackDistances<W> {
    pub(crate) fn new() -> Self {
        Self {
            ids: HashMap::with_hasher(strata_core::l1::key_hasher()),
            last: Vec::new(),
            weight: Vec::new(),
            owner: vec![NONE; MIN_LEN],
            tree: Fenwick::from_weights(std::iter::empty(), MIN_LEN),
            next: 0,
            total: W::default(),
        }
    }

    /// Number of distinct keys seen.
    pub(crate) fn distinct(&self) -> u64 {
        self.last.len() as u64
    }

    /// Sum of the latest weights of the distinct keys.
    pub(crate) fn footprint(&self) -> u64 {
        self.total.to_u64()
    }

    /// Records an access of `key` with weight `w`; returns its stack
    /// distance, or `None` for the first access of the key.
    #[inline]
    pub(crate) fn access(&mut self, key: u64, w: W) -> Option<u64> {
        if self.next == self.owner.len() {
            self.compact();
        }
        let fresh = self.last.len() as u32;
        let (id, distance) = match self.ids.entry(key) {
            Entry::Vacant(v) => {
                v.insert(fresh);
                self.last.push(NONE);
                self.weight.push(W::default());
                (fresh, None)
            }
            Entry::Occupied(o) => {
                let id = *o.get();
                let p = self.last[id as usize] as usize;
                let old = self.weight[id as usize];
                let above = self.total.sub(self.tree.prefix(p));
                self.tree.sub(p, old);
                self.owner[p] = NONE;
                self.total = self.total.sub(old);
                (id, Some(above.to_u64() + w.to_u64()))
            }
        };
        let p = self.next;
        self.next += 1;
        self.tree.add(p, w);
        self.owner[p] = id;
        self.last[id as usize] = p as u32;
        self.weight[id as usize] = w;
        self.total = self.total.add(w);
        distance
    }

    /// Renumbers the live positions `0..live` in order and resizes the time
    /// line to twice the live count (at least [`MIN_LEN`]).
    fn compact(&mut self) {
        let live = self.last.len();
        let len = (2 * live).max(MIN_LEN);
        let mut owner = vec![NONE; len];
        let mut j = 0;
        for &id in &self.owner[..self.next] {
            if id != NONE {
                owner[j] = id;
                self.last[id as usize] = j as u32;
                j += 1;
            }
        }
        let weights = owner[..j].iter().map(|&id| self.weight[id as usize]);
        self.tree = Fenwick::from_weights(weights, len);
        self.owner = owner;
        self.next = j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The textbook definition: scan an explicit LRU stack.
    fn naive(trace: &[(u64, u64)]) -> Vec<Option<u64>> {
        let mut stack: Vec<(u64, u64)> = Vec::new(); // most recent first
        let mut out = Vec::new();
        for &(k, w) in trace {
            match stack.iter().position(|&(s, _)| s == k) {
                Some(i) => {
                    let above: u64 = stack[..i].iter().map(|&(_, w)| w).sum();
                    out.push(Some(above + w));
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
        fn equals_the_naive_stack(trace in proptest::collection::vec((0u64..60, 1u64..50), 0..3000)) {
            let mut s = StackDistances::<u64>::new();
            let got: Vec<Option<u64>> = trace.iter().map(|&(k, w)| s.access(k, w)).collect();
            prop_assert_eq!(got, naive(&trace));
        }
    }

    #[test]
    fn compaction_keeps_distances() {
        // few keys, many accesses: many compactions
        let trace: Vec<(u64, u64)> = (0..50_000u64).map(|i| ((i * 7919) % 37, 1)).collect();
        let mut s = StackDistances::<u32>::new();
        let got: Vec<Option<u64>> = trace.iter().map(|&(k, w)| s.access(k, w as u32)).collect();
        assert_eq!(got, naive(&trace));
        assert_eq!(s.distinct(), 37);
        assert_eq!(s.footprint(), 37);
    }
}
