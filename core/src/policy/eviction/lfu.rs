//! LFU with O(1) frequency buckets (Shah, Mitra and Matani, 2010): evict
//! the least frequently used entry, and among those the least recently used.

use super::{EvictionPolicy, Links, List, NIL, Pending, Slot, ensure_slot};

/// One frequency: the entries read exactly `freq` times since they were
/// inserted, most recent first.
#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    freq: u64,
    items: List,
}

/// Least frequently used, ties broken by recency.
///
/// Buckets of equal frequency form a list ordered by frequency (back:
/// lowest); an access moves the entry to the front of the next bucket, so
/// every operation is O(1). Frequencies count accesses since insertion (an
/// insert counts 1; history is forgotten on eviction). The entry just
/// inserted is not a candidate for its own insert's evictions (the policy
/// evicts, then inserts), unless it is the only entry left.
#[derive(Debug, Default)]
pub struct Lfu {
    /// Links of slots inside their bucket.
    items: Links,
    /// Bucket storage, indexed by bucket id.
    buckets: Vec<Bucket>,
    free_buckets: Vec<Slot>,
    /// Links of bucket ids in `order`.
    order_links: Links,
    /// Non-empty buckets, back = lowest frequency.
    order: List,
    /// Bucket id of every live slot.
    bucket_of: Vec<Slot>,
    pending: Pending,
}

impl Lfu {
    /// An empty LFU.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// `(frequency, slots most recent first)` from the lowest frequency up;
    /// the victim is the last slot of the first bucket (tests, dumps).
    #[must_use]
    pub fn dump(&self) -> Vec<(u64, Vec<Slot>)> {
        let mut out: Vec<(u64, Vec<Slot>)> = self
            .order
            .to_vec(&self.order_links)
            .into_iter()
            .rev()
            .map(|b| {
                let b = &self.buckets[b as usize];
                (b.freq, b.items.to_vec(&self.items))
            })
            .collect();
        if let Some(p) = self.pending.get() {
            match out.first_mut() {
                Some((1, items)) => items.insert(0, p),
                _ => out.insert(0, (1, vec![p])),
            }
        }
        out
    }

    fn new_bucket(&mut self, freq: u64) -> Slot {
        let b = Bucket { freq, items: List::default() };
        match self.free_buckets.pop() {
            Some(id) => {
                self.buckets[id as usize] = b;
                id
            }
            None => {
                self.buckets.push(b);
                Slot::try_from(self.buckets.len() - 1).unwrap_or(NIL - 1)
            }
        }
    }

    fn drop_bucket(&mut self, b: Slot) {
        self.order.unlink(&mut self.order_links, b);
        self.free_buckets.push(b);
    }

    /// Puts the pending entry into the frequency-1 bucket.
    #[inline]
    fn settle(&mut self) {
        if self.pending.is_held() {
            self.settle_pending();
        }
    }

    /// The slow half of `settle` (once per insert), kept out of the hit path.
    #[inline(never)]
    fn settle_pending(&mut self) {
        let Some(slot) = self.pending.take() else { return };
        let b = match self.order.back() {
            Some(b) if self.buckets[b as usize].freq == 1 => b,
            _ => {
                let b = self.new_bucket(1);
                self.order.push_back(&mut self.order_links, b);
                b
            }
        };
        self.buckets[b as usize].items.push_front(&mut self.items, slot);
        ensure_slot(&mut self.bucket_of, slot, NIL);
        self.bucket_of[slot as usize] = b;
    }

    /// One access to a live, settled slot.
    #[inline]
    fn touch(&mut self, slot: Slot) {
        let b = self.bucket_of[slot as usize];
        let freq = self.buckets[b as usize].freq;
        let Some(next_freq) = freq.checked_add(1) else {
            self.buckets[b as usize].items.move_to_front(&mut self.items, slot);
            return;
        };
        let target = match self.order.newer(&self.order_links, b) {
            Some(n) if self.buckets[n as usize].freq == next_freq => n,
            _ if self.buckets[b as usize].items.len() == 1 => {
                // Alone in its bucket: the bucket itself moves up one.
                self.buckets[b as usize].freq = next_freq;
                return;
            }
            _ => {
                let n = self.new_bucket(next_freq);
                self.order.insert_newer(&mut self.order_links, b, n);
                n
            }
        };
        self.buckets[b as usize].items.unlink(&mut self.items, slot);
        if self.buckets[b as usize].items.is_empty() {
            self.drop_bucket(b);
        }
        self.buckets[target as usize].items.push_front(&mut self.items, slot);
        self.bucket_of[slot as usize] = target;
    }
}

impl EvictionPolicy for Lfu {
    fn name(&self) -> &'static str {
        "lfu"
    }
    #[inline]
    fn on_hit(&mut self, slot: Slot) {
        self.settle();
        self.touch(slot);
    }
    #[inline]
    fn on_insert(&mut self, slot: Slot, _hash: u64, _weight: u64) {
        self.settle();
        self.pending.set(slot);
    }
    #[inline]
    fn on_update(&mut self, slot: Slot, _weight: u64) {
        self.settle();
        self.touch(slot);
    }
    #[inline]
    fn on_remove(&mut self, slot: Slot) {
        if self.pending.forget(slot) {
            return;
        }
        self.settle();
        let b = self.bucket_of[slot as usize];
        self.buckets[b as usize].items.unlink(&mut self.items, slot);
        if self.buckets[b as usize].items.is_empty() {
            self.drop_bucket(b);
        }
    }
    #[inline]
    fn evict(&mut self) -> Option<Slot> {
        let Some(b) = self.order.back() else {
            return self.pending.take();
        };
        let victim = self.buckets[b as usize].items.pop_back(&mut self.items)?;
        if self.buckets[b as usize].items.is_empty() {
            self.drop_bucket(b);
        }
        Some(victim)
    }
    fn clear(&mut self) {
        *self = Self::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `refs` through an LFU of `frames` unit entries (slot = page),
    /// returning (faults, victims).
    fn run(refs: &[u32], frames: usize) -> (usize, Vec<u32>) {
        let mut p = Lfu::new();
        let mut resident = std::collections::BTreeSet::new();
        let (mut faults, mut victims) = (0, Vec::new());
        for &r in refs {
            if resident.contains(&r) {
                p.on_hit(r);
                continue;
            }
            faults += 1;
            p.on_insert(r, 0, 1);
            resident.insert(r);
            while resident.len() > frames {
                let v = p.evict().unwrap();
                assert!(resident.remove(&v));
                victims.push(v);
            }
        }
        (faults, victims)
    }

    #[test]
    fn textbook_lfu_with_lru_ties() {
        // 3 frames. After 1,2,3,1,1,2 the counts are 1:3, 2:2, 3:1. Then each
        // miss evicts the only entry at count 1 (3, then 4, then 5, ...), the
        // hits on 2 and 1 only raise counts that are already higher.
        let refs = [1, 2, 3, 1, 1, 2, 4, 5, 3, 2, 4, 1, 5];
        let (faults, victims) = run(&refs, 3);
        assert_eq!(victims, vec![3, 4, 5, 3, 4]);
        assert_eq!(faults, 8);
    }

    #[test]
    fn ties_go_to_the_least_recent() {
        // All at freq 2 after 1,2,3,3,2,1 (accessed in reverse): the least
        // recent among them is 3.
        let (_, victims) = run(&[1, 2, 3, 3, 2, 1, 4], 3);
        assert_eq!(victims, vec![3]);
        // Mixed: 1 (freq 2, older), 2 (freq 1), 3 (freq 1, newer): 2 goes.
        let (_, victims) = run(&[1, 2, 1, 3, 4], 3);
        assert_eq!(victims, vec![2]);
    }

    #[test]
    fn dump_shows_buckets_and_pending() {
        let mut p = Lfu::new();
        for s in 0..3 {
            p.on_insert(s, 0, 1);
        }
        p.on_hit(1);
        p.on_hit(1);
        p.on_hit(0);
        assert_eq!(p.dump(), vec![(1, vec![2]), (2, vec![0]), (3, vec![1])]);
        p.on_insert(3, 0, 1);
        assert_eq!(p.dump(), vec![(1, vec![3, 2]), (2, vec![0]), (3, vec![1])]);
        assert_eq!(p.evict(), Some(2));
        assert_eq!(p.evict(), Some(0));
        p.on_remove(1);
        assert_eq!(p.dump(), vec![(1, vec![3])]);
        assert_eq!(p.evict(), Some(3));
        assert_eq!(p.evict(), None);
        assert!(p.dump().is_empty());
    }

    #[test]
    fn new_entry_is_its_own_victim_only_when_alone() {
        let mut p = Lfu::new();
        p.on_insert(0, 0, 1);
        assert_eq!(p.evict(), Some(0));
        p.on_insert(1, 0, 1);
        p.on_insert(2, 0, 1);
        p.on_remove(2);
        assert_eq!(p.evict(), Some(1));
        assert_eq!(p.evict(), None);
    }
}
