//! A write-behind batch that L3 rejected, written again one write at a
//! time, so that the writes L3 takes land and only those it refuses stay
//! queued.
//!
//! A batch is one L3 call (one statement, one transaction), so one write
//! L3 will never take (a key too long for PostgreSQL's index, a value its
//! constraints reject) fails all of it, and retried as a whole it would
//! fail for good and hold back every write behind it. When two writes in
//! a row fail on their own, L3 is taken to be down rather than refusing
//! particular writes: the rest of the batch is not tried, so an outage
//! costs two more calls per retry, not one per write.

use super::Inner;
use super::QueuedValue;
use super::flusher::{FlushFor, Outcome};
use crate::backend::StateBackend;
use crate::l1::ByteKey;
use crate::policy::{Isolation, PendingOp};

impl<B: StateBackend> Inner<B> {
    /// Writes `batch` one write at a time, in order; see the module docs.
    pub(super) async fn isolate(
        &self,
        batch: &[(ByteKey, PendingOp<QueuedValue>)],
        by: FlushFor,
    ) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut pass = Isolation::default();
        for write in batch {
            if pass.l3_down() {
                outcomes.push(Outcome::Untried);
                continue;
            }
            let written = self.write_batch(std::slice::from_ref(write), by).await;
            pass.record(written.is_ok());
            outcomes.push(match written {
                Ok(()) => Outcome::Landed,
                Err(e) => Outcome::Refused(e),
            });
        }
        outcomes
    }
}
