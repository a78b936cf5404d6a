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
use crate::policy::{ISOLATE_DOWN_AFTER, PendingOp};

impl<B: StateBackend> Inner<B> {
    /// Writes `batch` one write at a time, in order; see the module docs.
    pub(super) async fn isolate(
        &self,
        batch: &[(ByteKey, PendingOp<QueuedValue>)],
        by: FlushFor,
    ) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut failed_in_a_row = 0;
        for write in batch {
            if failed_in_a_row == ISOLATE_DOWN_AFTER {
                outcomes.push(Outcome::Untried);
                continue;
            }
            match self.write_batch(std::slice::from_ref(write), by).await {
                Ok(()) => {
                    failed_in_a_row = 0;
                    outcomes.push(Outcome::Landed);
                }
                Err(e) => {
                    failed_in_a_row += 1;
                    outcomes.push(Outcome::Refused(e));
                }
            }
        }
        outcomes
    }
}
