//! The value of a queued put, and the TTL it was put with.

use std::time::Duration;

use bytes::Bytes;

use crate::l1::InlineBytes;

/// The value of a queued put: a copy of its bytes in the queue's slot when
/// it has at most 70 (the bytes are then 72), else the caller's `Bytes`
/// shared with L1. Copying a small value costs less than sharing it: a
/// `Bytes` made from a `Vec` (what `Bytes::from` and `copy_from_slice`
/// make) allocates a shared header on its first clone, and the flusher's
/// drop of its reference would then touch that header from another thread.
/// Measured on 64-byte values, copying took 15% (zipf) to 21% (new keys)
/// off a write-behind put (book: benchmarks, "Puts over sled").
///
/// A put with a TTL of its own (`put_with_ttl`) keeps it, boxed with the
/// value (the one allocation of such a put; a plain put's value stays
/// 72 bytes and allocates nothing): when the batch has landed in L3 the
/// flusher writes the value to L2 again (see `Inner::l2_after_flush`),
/// with that TTL.
#[derive(Clone)]
pub(crate) enum QueuedValue {
    /// A put with the tiers' default TTLs.
    Plain(InlineBytes<70>),
    /// A put with a TTL of its own.
    WithTtl(Box<(InlineBytes<70>, Duration)>),
}

// The TTL must not make every queued put larger (it did: 88 bytes, +24
// instructions a put).
const _: () = assert!(size_of::<QueuedValue>() == size_of::<InlineBytes<70>>());

impl QueuedValue {
    /// `value`, copied when short, else shared.
    #[inline]
    pub(crate) fn from_shared(value: &Bytes, ttl: Option<Duration>) -> Self {
        Self::with_ttl(InlineBytes::from_shared(value), ttl)
    }

    /// `value`, copied when short, else taken.
    #[inline]
    pub(crate) fn from_bytes(value: Bytes, ttl: Option<Duration>) -> Self {
        Self::with_ttl(InlineBytes::from_bytes(value), ttl)
    }

    #[inline]
    fn with_ttl(bytes: InlineBytes<70>, ttl: Option<Duration>) -> Self {
        match ttl {
            None => Self::Plain(bytes),
            Some(ttl) => Self::WithTtl(Box::new((bytes, ttl))),
        }
    }

    /// The value.
    pub(crate) fn to_bytes(&self) -> Bytes {
        match self {
            Self::Plain(bytes) => bytes.to_bytes(),
            Self::WithTtl(b) => b.0.to_bytes(),
        }
    }

    /// The put's own TTL (`None`: the tiers' defaults).
    pub(crate) fn ttl(&self) -> Option<Duration> {
        match self {
            Self::Plain(_) => None,
            Self::WithTtl(b) => Some(b.1),
        }
    }
}
