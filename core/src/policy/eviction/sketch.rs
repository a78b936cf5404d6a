//! The count-min sketch of W-TinyLFU: 4-bit counters, four per key inside
//! one 64-byte block, halved every `10 × size` increments (Caffeine's
//! `FrequencySketch`).

/// Counters start here in every 4-bit lane: used to count odd counters.
const ONE_MASK: u64 = 0x1111_1111_1111_1111;
/// Keeps the three low bits of every lane after a right shift.
const RESET_MASK: u64 = 0x7777_7777_7777_7777;
/// Largest table, in 64-bit words (128 MiB is far past any sensible L1).
const MAX_WORDS: u64 = 1 << 24;

/// A frequency sketch over 64-bit key hashes: estimates how often a key was
/// seen recently (0..=15), ageing every count by half once `10 × n`
/// increments were recorded, `n` being the number of keys it is sized for.
#[derive(Debug, Clone)]
pub struct FrequencySketch {
    table: Vec<u64>,
    /// Number of 8-word blocks minus one.
    block_mask: u64,
    sample_size: u64,
    size: u64,
    sized_for: u64,
}

impl FrequencySketch {
    /// A sketch for about `entries` distinct keys (at least 1).
    #[must_use]
    pub fn new(entries: u64) -> Self {
        let n = entries.clamp(1, MAX_WORDS);
        let words = n.next_power_of_two().max(8);
        Self {
            table: vec![0; usize::try_from(words).unwrap_or(8)],
            block_mask: (words >> 3) - 1,
            sample_size: n.saturating_mul(10),
            size: 0,
            sized_for: n,
        }
    }

    /// How many keys the sketch is sized for.
    #[must_use]
    pub fn sized_for(&self) -> u64 {
        self.sized_for
    }

    /// Increments recorded since the last halving.
    #[must_use]
    pub fn samples(&self) -> u64 {
        self.size
    }

    /// Where `hash`'s four counters live: `(word index, shift)` each.
    #[inline]
    fn cells(&self, hash: u64) -> [(usize, u32); 4] {
        // Low bits choose the block, the high half of a remix the counters.
        let block = ((hash & self.block_mask) << 3) as usize;
        let h = (hash.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as u32;
        let mut out = [(0, 0); 4];
        for (i, cell) in out.iter_mut().enumerate() {
            let hi = h >> (i << 3);
            let index = (hi >> 1) & 15;
            let offset = (hi & 1) as usize;
            *cell = (block + offset + (i << 1), index << 2);
        }
        out
    }

    /// The estimated recent count of `hash` (0..=15).
    #[inline]
    #[must_use]
    pub fn frequency(&self, hash: u64) -> u8 {
        let mut min = 15;
        for (word, shift) in self.cells(hash) {
            min = min.min(((self.table[word] >> shift) & 0xf) as u8);
        }
        min
    }

    /// Records one occurrence of `hash`; halves every counter once the
    /// sample size is reached.
    #[inline]
    pub fn increment(&mut self, hash: u64) {
        let mut added = false;
        for (word, shift) in self.cells(hash) {
            let mask = 0xf << shift;
            if self.table[word] & mask != mask {
                self.table[word] += 1 << shift;
                added = true;
            }
        }
        if added {
            self.size += 1;
            if self.size >= self.sample_size {
                self.reset();
            }
        }
    }

    /// Halves every counter (the ageing step).
    fn reset(&mut self) {
        let mut odd = 0u64;
        for w in &mut self.table {
            odd += u64::from((*w & ONE_MASK).count_ones());
            *w = (*w >> 1) & RESET_MASK;
        }
        self.size = (self.size - (odd >> 2)) >> 1;
    }

    /// Forgets every count.
    pub fn clear(&mut self) {
        self.table.fill(0);
        self.size = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l1::hash_key;

    #[test]
    fn counts_saturate_at_15_and_do_not_collide_much() {
        let mut s = FrequencySketch::new(1024);
        let hot = hash_key(&7u64);
        for i in 0..20 {
            s.increment(hot);
            assert_eq!(s.frequency(hot), (i + 1).min(15));
        }
        for k in 0..500u64 {
            s.increment(hash_key(&(1000 + k)));
        }
        let overcounted = (0..500u64).filter(|k| s.frequency(hash_key(&(1000 + k))) > 1).count();
        assert!(overcounted < 25, "{overcounted} of 500 keys over-counted");
        assert_eq!(s.frequency(hash_key(&99_999u64)), 0);
    }

    #[test]
    fn halves_after_ten_times_its_size() {
        let mut s = FrequencySketch::new(64);
        let a = hash_key(&1u64);
        for _ in 0..12 {
            s.increment(a);
        }
        assert_eq!(s.frequency(a), 12);
        let mut k = 100u64;
        loop {
            let (before, samples) = (s.frequency(a), s.samples());
            s.increment(hash_key(&k));
            k += 1;
            if s.samples() < samples {
                // The 640th counted increment (10 × 64) halved every counter.
                assert_eq!(samples, 639);
                assert_eq!(s.frequency(a), before / 2);
                break;
            }
            assert!(k < 10_000, "never halved");
        }
        s.clear();
        assert_eq!(s.frequency(a), 0);
    }
}
