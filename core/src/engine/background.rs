//! Background work an instance starts and nobody awaits: L2 copies of
//! loaded values and absent-key markers, refresh-ahead reloads. Counted, so
//! that [`crate::CachedStateBackend::settle`] can wait until it is done
//! (tests, and replays that must see each request's effects before the
//! next request, such as the multi-instance fidelity check).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

/// The count of running background tasks and a wake-up for `settled`.
#[derive(Debug, Default)]
pub(crate) struct Background {
    running: AtomicUsize,
    idle: Notify,
}

/// Ends one task's count when dropped (also when the task panics or the
/// runtime drops it).
struct Running(Arc<Background>);

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Background {
    /// Runs `task` on the current runtime, counted until it ends.
    pub(crate) fn spawn<F>(self: &Arc<Self>, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.running.fetch_add(1, Ordering::AcqRel);
        let running = Running(Arc::clone(self));
        tokio::spawn(async move {
            let _running = running;
            task.await;
        });
    }

    /// Waits until no task started before or during the wait is running.
    pub(crate) async fn settled(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            // Registered before the check, so a task ending between the
            // check and the await still wakes us.
            idle.as_mut().enable();
            if self.running.load(Ordering::Acquire) == 0 {
                return;
            }
            idle.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn settled_waits_for_every_task_started() {
        let bg = Arc::new(Background::default());
        bg.settled().await; // nothing running: at once
        let done = Arc::new(AtomicUsize::new(0));
        for i in 0..20u64 {
            let done = Arc::clone(&done);
            bg.spawn(async move {
                tokio::time::sleep(Duration::from_millis(i % 5)).await;
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        bg.settled().await;
        assert_eq!(done.load(Ordering::SeqCst), 20);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_task_still_ends_its_count() {
        let bg = Arc::new(Background::default());
        bg.spawn(async { panic!("task fails") });
        tokio::time::timeout(Duration::from_secs(5), bg.settled()).await.expect("settles");
    }
}
