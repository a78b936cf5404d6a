//! A Fenwick (binary indexed) tree of weights with wrapping arithmetic, so
//! that removing a weight is adding its negation.

/// A weight the tree sums: `u32` (object counts) or `u64` (bytes).
pub(crate) trait Weight: Copy + Default + Eq + std::fmt::Debug {
    fn add(self, other: Self) -> Self;
    fn sub(self, other: Self) -> Self;
    fn to_u64(self) -> u64;
    fn from_u32(w: u32) -> Self;
}

macro_rules! weight {
    ($($t:ty),*) => {$(
        impl Weight for $t {
            #[inline]
            fn add(self, other: Self) -> Self {
                self.wrapping_add(other)
            }
            #[inline]
            fn sub(self, other: Self) -> Self {
                self.wrapping_sub(other)
            }
            #[inline]
            fn to_u64(self) -> u64 {
                u64::from(self)
            }
            #[inline]
            fn from_u32(w: u32) -> Self {
                Self::from(w)
            }
        }
    )*};
}

weight!(u32, u64);

/// Prefix sums over positions `0..len` in O(log len) per operation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fenwick<W> {
    /// 1-based: `tree[i]` holds the sum of `(i - lowbit(i), i]`; `tree[0]` unused.
    tree: Vec<W>,
}

impl<W: Weight> Fenwick<W> {
    /// A tree over `weights` (position `i` holds `weights[i]`), built in O(n).
    pub(crate) fn from_weights(weights: impl IntoIterator<Item = W>, len: usize) -> Self {
        let mut tree = Vec::with_capacity(len + 1);
        tree.push(W::default());
        tree.extend(weights.into_iter().take(len));
        tree.resize(len + 1, W::default());
        for i in 1..=len {
            let j = i + (i & i.wrapping_neg());
            if j <= len {
                tree[j] = tree[j].add(tree[i]);
            }
        }
        Self { tree }
    }

    /// Number of positions.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.tree.len().saturating_sub(1)
    }

    /// Adds `w` at `pos`.
    #[inline]
    pub(crate) fn add(&mut self, pos: usize, w: W) {
        let mut i = pos + 1;
        let n = self.tree.len();
        while i < n {
            self.tree[i] = self.tree[i].add(w);
            i += i & i.wrapping_neg();
        }
    }

    /// Subtracts `w` at `pos` (adds its wrapping negation).
    #[inline]
    pub(crate) fn sub(&mut self, pos: usize, w: W) {
        self.add(pos, W::default().sub(w));
    }

    /// The sum of positions `0..=pos`.
    #[inline]
    pub(crate) fn prefix(&self, pos: usize) -> W {
        let mut i = (pos + 1).min(self.tree.len() - 1);
        let mut s = W::default();
        while i > 0 {
            s = s.add(self.tree[i]);
            i &= i - 1;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn matches_a_plain_array(init in proptest::collection::vec(0u64..1000, 1..200),
                                 ops in proptest::collection::vec((any::<prop::sample::Index>(), 0u64..1000, any::<bool>()), 0..200)) {
            let mut plain = init.clone();
            let mut f = Fenwick::from_weights(init.iter().copied(), init.len());
            prop_assert_eq!(f.len(), init.len());
            for (idx, w, add) in ops {
                let p = idx.index(plain.len());
                if add {
                    plain[p] += w;
                    f.add(p, w);
                } else {
                    let w = w.min(plain[p]);
                    plain[p] -= w;
                    f.sub(p, w);
                }
                let q = idx.index(plain.len()).min(plain.len() - 1);
                prop_assert_eq!(f.prefix(q), plain[..=q].iter().sum::<u64>());
            }
            for q in 0..plain.len() {
                prop_assert_eq!(f.prefix(q), plain[..=q].iter().sum::<u64>());
            }
        }
    }
}
