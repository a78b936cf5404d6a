//! The put workload shared by `benches/put_strategies.rs` (criterion timing)
//! and `examples/put_count.rs` (profiles, instruction counts): which keys the
//! puts write, with a 64-byte value of their own each.
//!
//! - `fresh`: a new key per put. No write coalesces and, once L1 is full,
//!   every put evicts: the worst case for write-behind.
//! - `uniform`: uniform over 100k keys (`user:00000000`, as the L1 hit bench).
//! - `zipf`: Zipf(1.0) over the same keys: hot keys are rewritten, so puts
//!   update L1 entries and coalesce in the write-behind queue.

#![allow(dead_code)] // each includer uses a part

#[path = "l1_peers.rs"]
mod peers;

use bytes::Bytes;
use peers::{SEQ, VALUE_LEN, uniform_sequence, zipf_sequence};

/// Which keys the puts write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Workload {
    Fresh,
    Uniform,
    Zipf,
}

impl Workload {
    pub(crate) const ALL: [Workload; 3] = [Workload::Fresh, Workload::Uniform, Workload::Zipf];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::Fresh => "fresh",
            Workload::Uniform => "uniform",
            Workload::Zipf => "zipf",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.name() == s)
    }
}

/// An endless key sequence of a workload (fixed seed).
pub(crate) struct Keys {
    workload: Workload,
    seq: Vec<u32>,
    next: u64,
}

impl Keys {
    pub(crate) fn new(workload: Workload) -> Self {
        let seq = match workload {
            Workload::Fresh => Vec::new(),
            Workload::Uniform => uniform_sequence(SEQ, 7),
            Workload::Zipf => zipf_sequence(1.0, SEQ, 7),
        };
        Self { workload, seq, next: 0 }
    }

    /// The next `n` puts: keys and values (made before a timed loop).
    pub(crate) fn batch(&mut self, n: usize) -> Vec<(Key, Bytes)> {
        (0..n)
            .map(|_| {
                let i = self.next;
                self.next += 1;
                let key = match self.workload {
                    Workload::Fresh => Bytes::from(format!("user:{i:016}")),
                    _ => peers::key(self.seq[i as usize % SEQ]),
                };
                (Key::new(&key), Bytes::from(vec![i as u8; VALUE_LEN]))
            })
            .collect()
    }
}

/// A key held inline, as a caller's key on its stack would be (no heap
/// memory of the harness is freed inside a timed loop).
pub(crate) struct Key {
    buf: [u8; 24],
    len: usize,
}

impl Key {
    fn new(k: &[u8]) -> Self {
        let mut buf = [0; 24];
        buf[..k.len()].copy_from_slice(k);
        Self { buf, len: k.len() }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}
