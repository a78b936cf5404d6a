//! Cancellation safety of writes that reach L3 before the caches.
//!
//! A caller may drop a write's future at any await: a `timeout` that
//! expired, a `select!` branch that lost. Once a write-through put or
//! delete has sent its L3 write, L3 may have applied it while the caches
//! still hold the old value; dropped there, the write would leave L1 (and
//! L2, and the other instances' L1s, which hear of writes only through the
//! notice it never published) serving the old value until a TTL, or for
//! good. A [`DropOnCancel`] armed around the write removes the keys from L1
//! at once if it is dropped armed, marks their loads in flight stale, and
//! (with L2) removes them from L2 and publishes the invalidation from a
//! background task. The write's own end disarms it.
//!
//! Queued strategies need no guard: their queue push and L1 update happen
//! together without an await between them, and a landed batch writes L2
//! again and publishes (`Inner::l2_after_flush`).

use std::sync::Arc;

use bytes::Bytes;

use super::Inner;
use crate::backend::StateBackend;

/// Drops `keys` from the caches unless [`Self::disarm`]ed first.
pub(crate) struct DropOnCancel<'a, B: StateBackend> {
    inner: &'a Arc<Inner<B>>,
    keys: &'a [Bytes],
    armed: bool,
}

impl<'a, B: StateBackend> DropOnCancel<'a, B> {
    /// Armed for `keys`.
    pub(crate) fn arm(inner: &'a Arc<Inner<B>>, keys: &'a [Bytes]) -> Self {
        Self { inner, keys, armed: true }
    }

    /// The write ran to its end (it updated or dropped the caches itself).
    pub(crate) fn disarm(mut self) {
        self.armed = false;
    }
}

impl<B: StateBackend> Drop for DropOnCancel<'_, B> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        for key in self.keys {
            self.inner.loads.invalidate(key);
            self.inner.l1.remove(&key[..]);
        }
        // Dropped outside a runtime (it is shutting down), L2 keeps the
        // entries until their TTL: nothing else can be done from here.
        if self.inner.l2.is_some() && tokio::runtime::Handle::try_current().is_ok() {
            let inner = Arc::clone(self.inner);
            let keys = self.keys.to_vec();
            self.inner.background.spawn(async move { inner.l2_remove(&keys, false).await });
        }
    }
}
