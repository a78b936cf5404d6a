//! Software prefetch: asks the CPU to start loading memory that an
//! operation soon to come will read, so that it finds it in cache.
//!
//! Used where the next access is known one step early and is likely cold:
//! L1 prefetches the entries of the policy's next victims right after an
//! eviction (see `L1Store`), because a victim was stored thousands of
//! operations ago and its entry is otherwise a cache miss on the eviction
//! that follows; and the heap block of a value it lets go of (replaced or
//! evicted), which it frees one such operation later, when the allocator's
//! reads of that block find it in cache. A prefetch is only a hint: it
//! changes no result, never faults (the address need not even be mapped)
//! and costs about one instruction. On targets other than x86-64 it does
//! nothing.

/// Prefetches the cache lines of `items[index]`, if `index` is in bounds.
/// Does not read the element (a read would wait for the very miss the
/// prefetch is meant to hide).
#[inline(always)]
pub(crate) fn element<T>(items: &[T], index: usize) {
    if index < items.len() {
        range(items.as_ptr().wrapping_add(index).cast::<u8>(), size_of::<T>());
    }
}

/// Where a value's heap buffer starts, so that the block can be prefetched
/// before it is freed (an L1 store is told this for its value type: see
/// `L1Store::prefetch_values`); `None`: free the value at once.
pub type HeapStart<V> = fn(&V) -> Option<*const u8>;

/// Longest value [`bytes_start`] names a block for. L1 frees a longer one
/// at once: keeping it an operation longer would hold memory that L1's
/// capacity does not count, and freeing a large block costs more than the
/// one cache miss the prefetch hides.
pub const KEPT_VALUE_MAX: usize = 4096;

/// [`HeapStart`] for `Bytes`: its buffer (for a `Vec`-backed `Bytes`, the
/// allocation itself). Empty values, and values over [`KEPT_VALUE_MAX`]
/// bytes, have none.
#[must_use]
pub fn bytes_start(b: &bytes::Bytes) -> Option<*const u8> {
    (!b.is_empty() && b.len() <= KEPT_VALUE_MAX).then(|| b.as_ptr())
}

/// Prefetches the start of the heap block at `start` and the word before
/// it: what an allocator reads and writes when the block is freed (glibc
/// keeps a block's size just before it and links a freed block through its
/// first words; other allocators touch a subset of these lines).
#[inline(always)]
pub(crate) fn heap_block(start: *const u8) {
    range(start.wrapping_sub(8), 24);
}

/// Prefetches every 64-byte line that `[start, start + len)` touches.
#[inline(always)]
fn range(start: *const u8, len: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        const LINE: usize = 64;
        let skew = start.addr() % LINE;
        let lines = (skew + len.max(1)).div_ceil(LINE);
        let first = start.wrapping_sub(skew);
        for i in 0..lines {
            // SAFETY: `prefetcht0` has no architectural effect: it reads no
            // value into the program, cannot fault (even on an unmapped
            // address) and only moves a line into the CPU's caches. SSE is
            // part of the x86-64 baseline, so the instruction exists.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(first.wrapping_add(i * LINE).cast::<i8>()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (start, len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_harmless_in_and_out_of_bounds() {
        let v: Vec<[u8; 104]> = vec![[7; 104]; 10];
        for i in 0..12 {
            element(&v, i);
        }
        let empty: Vec<u64> = Vec::new();
        element(&empty, 0);
        element(&[(); 4], 2);
        heap_block(std::ptr::null());
        heap_block(v[3].as_ptr());
        let b = bytes::Bytes::from(vec![1u8; 64]);
        assert_eq!(bytes_start(&b), Some(b.as_ptr()));
        assert_eq!(bytes_start(&bytes::Bytes::new()), None);
        let most = bytes::Bytes::from(vec![1u8; KEPT_VALUE_MAX]);
        assert_eq!(bytes_start(&most), Some(most.as_ptr()));
        assert_eq!(bytes_start(&bytes::Bytes::from(vec![1u8; KEPT_VALUE_MAX + 1])), None);
        assert!(v.iter().all(|e| e.iter().all(|&b| b == 7)), "nothing changed");
    }
}
