//! Doubly linked lists threaded through slot indices.
//!
//! Policies keep their queues as [`List`]s whose links live in one shared
//! [`Links`] arena indexed by [`Slot`]: no allocation per entry, O(1) push,
//! unlink and pop, and a slot is in at most one list of an arena at a time.

use super::Slot;

use super::NIL;

/// The prev/next links of every slot, shared by the lists of one policy.
/// A slot's two links sit side by side (`[prev, next]`): relinking a slot
/// touches one cache line per slot involved, not two.
#[derive(Debug, Default, Clone)]
pub struct Links {
    pairs: Vec<[Slot; 2]>,
}

const PREV: usize = 0;
const NEXT: usize = 1;

impl Links {
    /// Makes room for `slot`.
    #[inline]
    pub fn ensure(&mut self, slot: Slot) {
        let need = slot as usize + 1;
        if self.pairs.len() < need {
            let grow = need.max(self.pairs.len() * 2).max(16);
            self.pairs.resize(grow, [NIL, NIL]);
        }
    }
}

/// One list: head is the most recently pushed end ("front"), tail the oldest.
#[derive(Debug, Clone, Copy)]
pub struct List {
    head: Slot,
    tail: Slot,
    len: usize,
}

impl Default for List {
    fn default() -> Self {
        Self { head: NIL, tail: NIL, len: 0 }
    }
}

impl List {
    /// Number of slots in the list.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list is empty.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most recently pushed slot.
    #[inline]
    #[must_use]
    pub fn front(&self) -> Option<Slot> {
        (self.head != NIL).then_some(self.head)
    }

    /// The oldest slot.
    #[inline]
    #[must_use]
    pub fn back(&self) -> Option<Slot> {
        (self.tail != NIL).then_some(self.tail)
    }

    /// The two oldest slots, oldest first (what popping from the back takes
    /// next), prefetching the second's links, which the pop after next
    /// reads. For [`EvictionPolicy::victim_hints`](super::EvictionPolicy::victim_hints).
    #[inline]
    #[must_use]
    pub fn back_two(&self, links: &Links) -> [Option<Slot>; 2] {
        let Some(tail) = self.back() else { return [None, None] };
        let next = self.newer(links, tail);
        if let Some(n) = next {
            crate::prefetch::element(&links.pairs, n as usize);
        }
        [Some(tail), next]
    }

    /// Pushes `slot` at the front. `slot` must not be in any list of `links`.
    #[inline]
    pub fn push_front(&mut self, links: &mut Links, slot: Slot) {
        links.ensure(slot);
        let s = slot as usize;
        links.pairs[s][PREV] = NIL;
        links.pairs[s][NEXT] = self.head;
        if self.head != NIL {
            links.pairs[self.head as usize][PREV] = slot;
        } else {
            self.tail = slot;
        }
        self.head = slot;
        self.len += 1;
    }

    /// Pushes `slot` at the back (oldest end). `slot` must not be in any list of `links`.
    #[inline]
    pub fn push_back(&mut self, links: &mut Links, slot: Slot) {
        links.ensure(slot);
        let s = slot as usize;
        links.pairs[s][NEXT] = NIL;
        links.pairs[s][PREV] = self.tail;
        if self.tail != NIL {
            links.pairs[self.tail as usize][NEXT] = slot;
        } else {
            self.head = slot;
        }
        self.tail = slot;
        self.len += 1;
    }

    /// Inserts `slot` right on the front side of `anchor` (which must be in
    /// this list): `slot` becomes the element just newer than `anchor`.
    #[inline]
    pub fn insert_newer(&mut self, links: &mut Links, anchor: Slot, slot: Slot) {
        links.ensure(slot);
        let p = links.pairs[anchor as usize][PREV];
        if p == NIL {
            self.push_front(links, slot);
            return;
        }
        let s = slot as usize;
        links.pairs[s][PREV] = p;
        links.pairs[s][NEXT] = anchor;
        links.pairs[p as usize][NEXT] = slot;
        links.pairs[anchor as usize][PREV] = slot;
        self.len += 1;
    }

    /// Unlinks `slot`, which must be in this list.
    #[inline]
    pub fn unlink(&mut self, links: &mut Links, slot: Slot) {
        let s = slot as usize;
        let (p, n) = (links.pairs[s][PREV], links.pairs[s][NEXT]);
        if p != NIL {
            links.pairs[p as usize][NEXT] = n;
        } else {
            self.head = n;
        }
        if n != NIL {
            links.pairs[n as usize][PREV] = p;
        } else {
            self.tail = p;
        }
        links.pairs[s][PREV] = NIL;
        links.pairs[s][NEXT] = NIL;
        self.len -= 1;
    }

    /// Moves `slot` (in this list) to the front.
    ///
    /// The LRU hit: relinks in place (four link writes, no length or
    /// capacity bookkeeping) rather than an unlink and a push.
    #[inline]
    pub fn move_to_front(&mut self, links: &mut Links, slot: Slot) {
        let head = self.head;
        if head == slot {
            return;
        }
        let s = slot as usize;
        let [p, n] = links.pairs[s];
        if p == NIL {
            // Not linked as a non-head member should be: the general path.
            self.unlink(links, slot);
            self.push_front(links, slot);
            return;
        }
        links.pairs[p as usize][NEXT] = n;
        if n != NIL {
            links.pairs[n as usize][PREV] = p;
        } else {
            self.tail = p;
        }
        links.pairs[s] = [NIL, head];
        links.pairs[head as usize][PREV] = slot;
        self.head = slot;
    }

    /// Removes and returns the oldest slot.
    #[inline]
    pub fn pop_back(&mut self, links: &mut Links) -> Option<Slot> {
        let t = self.back()?;
        self.unlink(links, t);
        Some(t)
    }

    /// The slot after `slot` towards the front (newer), if any.
    #[inline]
    #[must_use]
    pub fn newer(&self, links: &Links, slot: Slot) -> Option<Slot> {
        let p = links.pairs[slot as usize][PREV];
        (p != NIL).then_some(p)
    }

    /// The slot after `slot` towards the back (older), if any.
    #[inline]
    #[must_use]
    pub fn older(&self, links: &Links, slot: Slot) -> Option<Slot> {
        let n = links.pairs[slot as usize][NEXT];
        (n != NIL).then_some(n)
    }

    /// Slots from front (newest) to back (oldest); for tests and dumps.
    #[must_use]
    pub fn to_vec(&self, links: &Links) -> Vec<Slot> {
        let mut out = Vec::with_capacity(self.len);
        let mut cur = self.head;
        while cur != NIL {
            out.push(cur);
            cur = links.pairs[cur as usize][NEXT];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_unlink_pop() {
        let mut links = Links::default();
        let mut l = List::default();
        for s in [3, 1, 4] {
            l.push_front(&mut links, s);
        }
        assert_eq!(l.to_vec(&links), vec![4, 1, 3]);
        l.unlink(&mut links, 1);
        assert_eq!(l.to_vec(&links), vec![4, 3]);
        l.move_to_front(&mut links, 3);
        assert_eq!(l.to_vec(&links), vec![3, 4]);
        l.move_to_front(&mut links, 3);
        assert_eq!(l.to_vec(&links), vec![3, 4]);
        assert_eq!(l.pop_back(&mut links), Some(4));
        assert_eq!(l.pop_back(&mut links), Some(3));
        assert_eq!(l.pop_back(&mut links), None);
        assert!(l.is_empty());
    }

    /// Every move (head, middle, tail) against a `Vec` model, walking the
    /// list both ways so that both link directions are checked.
    #[test]
    fn move_to_front_matches_a_vec_model() {
        let mut links = Links::default();
        let mut l = List::default();
        let mut model: Vec<Slot> = Vec::new();
        for s in 0..6 {
            l.push_front(&mut links, s);
            model.insert(0, s);
        }
        for s in [0, 3, 3, 5, 1, 0, 2, 4, 4, 0] {
            l.move_to_front(&mut links, s);
            model.retain(|&x| x != s);
            model.insert(0, s);
            assert_eq!(l.to_vec(&links), model);
            let mut back = Vec::new();
            let mut cur = l.back();
            while let Some(c) = cur {
                back.push(c);
                cur = l.newer(&links, c);
            }
            back.reverse();
            assert_eq!(back, model);
            assert_eq!((l.front(), l.back(), l.len()), (model.first().copied(), model.last().copied(), 6));
        }
    }

    #[test]
    fn push_back_and_insert_newer() {
        let mut links = Links::default();
        let mut l = List::default();
        l.push_back(&mut links, 1);
        l.push_back(&mut links, 2);
        l.insert_newer(&mut links, 2, 5);
        l.insert_newer(&mut links, 1, 7);
        assert_eq!(l.to_vec(&links), vec![7, 1, 5, 2]);
        assert_eq!(l.len(), 4);
        assert_eq!(l.newer(&links, 5), Some(1));
        assert_eq!(l.older(&links, 5), Some(2));
        assert_eq!(l.pop_back(&mut links), Some(2));
        assert_eq!(l.front(), Some(7));
    }
}
