//! The thread that applies a sled backend's background writes (the
//! write-behind flusher's batches) at a lower CPU priority.
//!
//! sled spends about 5 µs of CPU per written key (it copies the leaf it
//! changes), and on a busy machine that work competes with the requests the
//! cache serves: a write-behind put that returns in 0.5 µs is slowed by the
//! flusher writing the previous batch on the other core. Nobody waits for a
//! background batch but the write queue, so it runs on one thread of its
//! own whose Linux nice value is raised (10 by default): when the cores are
//! free it runs at full speed; when they are not, the callers go first and
//! the queue absorbs the delay (and, when full, makes puts wait: the
//! backpressure of `write.queue_capacity`). Measured on 2 cores: a
//! write-behind put over sled 8–20% faster under a busy flusher
//! (`benches/put_strategies.rs`).
//!
//! Jobs run one at a time, in the order sent; the thread ends when the last
//! handle is dropped (it holds no database handle between jobs, so dropping
//! the backend still releases sled's lock). A job that panics fails its own
//! call and leaves the thread serving the next one.
//!
//! On other systems the thread runs at the process's priority.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;

type Job = Box<dyn FnOnce() + Send>;

/// A handle to the background thread; clones share it.
#[derive(Clone, Debug)]
pub(super) struct Background {
    jobs: mpsc::Sender<Job>,
}

/// The background thread is gone (it could not be started again) or the
/// job panicked.
#[derive(Debug, thiserror::Error)]
#[error("the sled background writer {0}")]
pub(super) struct BackgroundError(&'static str);

impl Background {
    /// Starts the thread, at nice value `nice` (never above the caller's
    /// priority: a nice value below the process's is kept at the process's).
    pub(super) fn spawn(nice: i32) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new().name("strata-sled-bg".into()).spawn(move || {
            lower_priority(nice);
            for job in queue {
                // A panicking job drops its reply sender: its caller gets
                // an error; the thread goes on.
                let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
            }
        })?;
        Ok(Self { jobs })
    }

    /// Runs `f` on the thread and returns its result.
    pub(super) async fn run<T, F>(&self, f: F) -> Result<T, BackgroundError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.jobs.send(job).map_err(|_| BackgroundError("has stopped"))?;
        rx.await.map_err(|_| BackgroundError("panicked"))
    }
}

/// Raises the calling thread's nice value to `nice` (Linux: per thread).
/// Best effort: a failure is logged and the thread runs at its priority.
#[cfg(target_os = "linux")]
fn lower_priority(nice: i32) {
    let tid = rustix::thread::gettid();
    let set = rustix::process::getpriority_process(Some(tid)).and_then(|now| {
        if nice > now { rustix::process::setpriority_process(Some(tid), nice) } else { Ok(()) }
    });
    if let Err(e) = set {
        tracing::warn!(error = %e, nice, "strata: cannot lower the sled background writer's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority(_nice: i32) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_jobs_in_order_and_survives_a_panic() {
        let bg = Background::spawn(0).unwrap();
        let order = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
        for i in 0..3 {
            let o = std::sync::Arc::clone(&order);
            bg.run(move || o.lock().push(i)).await.unwrap();
        }
        let e = bg.run(|| -> u32 { panic!("boom") }).await.unwrap_err();
        assert!(e.to_string().contains("panicked"), "{e}");
        assert_eq!(bg.run(|| 7).await.unwrap(), 7, "the thread serves jobs after a panic");
        assert_eq!(*order.lock(), [0, 1, 2]);
        let name = bg.run(|| std::thread::current().name().map(str::to_owned)).await.unwrap();
        assert_eq!(name.as_deref(), Some("strata-sled-bg"));
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn jobs_run_at_the_lowered_priority_and_callers_keep_theirs() {
        let nice_here = || rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
        let before = nice_here();
        let want = (before + 7).min(19);
        let bg = Background::spawn(want).unwrap();
        assert_eq!(bg.run(nice_here).await.unwrap(), want);
        assert_eq!(nice_here(), before, "only the background thread is lowered");
        // Never raised above the process's priority.
        let bg = Background::spawn(-20).unwrap();
        assert_eq!(bg.run(nice_here).await.unwrap(), before);
    }
}
