//! A ghost FIFO: the hashes (and weights) of recently evicted entries, with
//! O(1) lookup and removal by hash, bounded by total weight.

use hashbrown::HashTable;

use super::{Links, List, Slot};

/// Hashes of recent victims, oldest forgotten first once the total weight
/// would exceed the capacity. Nodes live in a slab reused through a free
/// list, so a steady state allocates nothing.
#[derive(Debug, Default)]
pub(crate) struct Ghost {
    table: HashTable<Slot>,
    hashes: Vec<u64>,
    weights: Vec<u64>,
    free: Vec<Slot>,
    links: Links,
    /// Front: newest.
    fifo: List,
    weight: u64,
    capacity: u64,
}

impl Ghost {
    /// An empty ghost queue holding at most `capacity` weight units.
    pub(crate) fn new(capacity: u64) -> Self {
        Self { capacity, ..Self::default() }
    }

    /// Remembers `hash` (of `weight`); forgets the oldest as needed. A hash
    /// already present, or heavier than the whole capacity, is not added; a
    /// capacity of 0 keeps nothing.
    pub(crate) fn insert(&mut self, hash: u64, weight: u64) {
        if self.capacity == 0
            || weight > self.capacity
            || self.table.find(hash, |&n| self.hashes[n as usize] == hash).is_some()
        {
            return;
        }
        while self.weight + weight > self.capacity {
            let Some(old) = self.fifo.back() else { break };
            self.forget(old);
        }
        let node = match self.free.pop() {
            Some(n) => {
                self.hashes[n as usize] = hash;
                self.weights[n as usize] = weight;
                n
            }
            None => {
                self.hashes.push(hash);
                self.weights.push(weight);
                Slot::try_from(self.hashes.len() - 1).unwrap_or(Slot::MAX - 1)
            }
        };
        let hashes = &self.hashes;
        self.table.insert_unique(hash, node, |&n| hashes[n as usize]);
        self.fifo.push_front(&mut self.links, node);
        self.weight += weight;
    }

    /// Forgets `hash`; returns whether it was present.
    pub(crate) fn remove(&mut self, hash: u64) -> bool {
        let hashes = &self.hashes;
        match self.table.find(hash, |&n| hashes[n as usize] == hash) {
            Some(&node) => {
                self.forget(node);
                true
            }
            None => false,
        }
    }

    fn forget(&mut self, node: Slot) {
        let hash = self.hashes[node as usize];
        if let Ok(e) = self.table.find_entry(hash, |&n| n == node) {
            e.remove();
        }
        self.fifo.unlink(&mut self.links, node);
        self.weight -= self.weights[node as usize];
        self.free.push(node);
    }

    /// The remembered hashes, newest first.
    pub(crate) fn to_vec(&self) -> Vec<u64> {
        self.fifo.to_vec(&self.links).into_iter().map(|n| self.hashes[n as usize]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_by_weight_with_removal() {
        let mut g = Ghost::new(3);
        g.insert(10, 1);
        g.insert(11, 1);
        g.insert(12, 1);
        g.insert(12, 1);
        assert_eq!(g.to_vec(), vec![12, 11, 10]);
        g.insert(13, 2);
        assert_eq!(g.to_vec(), vec![13, 12]);
        assert!(g.remove(12));
        assert!(!g.remove(12));
        assert!(!g.remove(10));
        g.insert(14, 1);
        g.insert(15, 4);
        assert_eq!(g.to_vec(), vec![14, 13]);
        g.insert(16, 1);
        assert_eq!(g.to_vec(), vec![16, 14]);
        assert_eq!(g.weight, 2);
        let mut none = Ghost::new(0);
        none.insert(1, 0);
        none.insert(2, 1);
        assert!(none.to_vec().is_empty());
    }
}
