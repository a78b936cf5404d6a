//! Randomness: one master seed, one independent generator per component.
//!
//! Every random choice of a simulation comes from a [`Pcg64Mcg`] whose state
//! is derived from the master seed and a fixed stream number with SplitMix64,
//! so adding a component (or sampling more in one) never shifts the numbers
//! another component sees, and the sequence is the same on every machine
//! and every version of `rand`.

use rand_pcg::Pcg64Mcg;

/// The generator type of the simulator.
pub type SimRng = Pcg64Mcg;

/// The components that draw random numbers; each gets its own stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// L1 lookup latency.
    L1Latency = 1,
    /// L2 call latency.
    L2Latency = 2,
    /// L3 read latency.
    L3Read = 3,
    /// L3 write latency.
    L3Write = 4,
    /// Invalidation message delay.
    Invalidation = 5,
    /// Choice of instance for a request.
    Routing = 6,
    /// Which L3 requests fail.
    L3Failure = 7,
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The generator of `stream` (and `index`, for per-instance components)
/// under `master`.
#[must_use]
pub fn stream_rng(master: u64, stream: Stream, index: u64) -> SimRng {
    let mut s = master ^ (stream as u64).wrapping_mul(0xa076_1d64_78bd_642f) ^ index.rotate_left(32);
    let hi = u128::from(splitmix64(&mut s));
    let lo = u128::from(splitmix64(&mut s));
    Pcg64Mcg::new((hi << 64) | lo)
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::*;

    #[test]
    fn streams_are_fixed_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| stream_rng(7, Stream::L2Latency, 0).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]), "same seed, same stream: same numbers");
        let mut x = stream_rng(7, Stream::L2Latency, 0);
        let mut y = stream_rng(7, Stream::L3Read, 0);
        let mut z = stream_rng(8, Stream::L2Latency, 0);
        let mut w = stream_rng(7, Stream::L2Latency, 1);
        let first = x.next_u64();
        assert_ne!(first, y.next_u64());
        assert_ne!(first, z.next_u64());
        assert_ne!(first, w.next_u64());
        // A fixed value pins the derivation: changing it breaks reproducibility of old reports.
        assert_eq!(stream_rng(0, Stream::L1Latency, 0).next_u64(), PINNED);
    }

    const PINNED: u64 = 5_983_208_140_988_660_672;
}
