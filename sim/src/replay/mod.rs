//! The full, discrete-event replay: requests arrive in virtual time and go
//! through modelled tiers with sampled latencies, executing the same L1
//! store, write and refresh-ahead decisions as the engine.
//!
//! Requests are pulled from the iterator one at a time (never collected);
//! an arrival and an event at the same instant: the event goes first.

mod read;
mod state;
mod truth;
mod write;

use strata_core::CacheConfig;

use self::state::{Event, Job, Sim};
use crate::arrival::{Arrivals, Router};
use crate::config::SimConfig;
use crate::error::Result;
use crate::report::{Mode, Report, RunStats};
use crate::tier::L2Model;
use crate::trace::{Op, Request};

/// How many requests pass between two progress callbacks.
pub const PROGRESS_EVERY: u64 = 1 << 16;

/// Feeds `requests` to `replay` in chunks of [`PROGRESS_EVERY`]. Replay
/// loops then run over a small array by reference, which keeps them tight
/// (measured about 1.5–2x faster than stepping straight off a generic
/// iterator); callers report progress after each chunk.
pub(crate) fn in_chunks(requests: impl IntoIterator<Item = Request>, mut replay: impl FnMut(&[Request])) {
    let mut requests = requests.into_iter();
    let mut chunk: Vec<Request> = Vec::with_capacity(PROGRESS_EVERY as usize);
    loop {
        chunk.clear();
        chunk.extend(requests.by_ref().take(PROGRESS_EVERY as usize));
        if chunk.is_empty() {
            return;
        }
        replay(&chunk);
    }
}

/// Replays `requests` through `cache` as modelled by `sim`; `progress` is
/// called with the number of requests replayed so far after every
/// [`PROGRESS_EVERY`] requests (and after the last).
///
/// # Errors
/// [`crate::SimError`] when either configuration is invalid.
pub fn run<I, P>(cache: &CacheConfig, sim: &SimConfig, requests: I, progress: P) -> Result<Report>
where
    I: IntoIterator<Item = Request>,
    P: FnMut(u64),
{
    Ok(simulate(cache, sim, requests, progress)?.finish(cache, sim))
}

/// Runs the simulation to its end (every event handled) and returns it.
fn simulate<I, P>(cache: &CacheConfig, sim: &SimConfig, requests: I, mut progress: P) -> Result<Sim>
where
    I: IntoIterator<Item = Request>,
    P: FnMut(u64),
{
    let mut s = Sim::new(cache, sim)?;
    let mut arrivals = Arrivals::new(sim.arrival);
    let mut router = Router::for_sim(sim);
    in_chunks(requests, |chunk| {
        for r in chunk {
            let at = arrivals.next(r.time_ns);
            while s.events.peek_time().is_some_and(|t| t <= at) {
                s.step_event();
            }
            s.advance(at);
            s.arrive(r, &mut router);
        }
        progress(s.c.requests);
    });
    s.shut_down();
    while !s.events.is_empty() {
        s.step_event();
    }
    s.count_unwritten();
    Ok(s)
}

impl Sim {
    #[inline]
    fn advance(&mut self, t: u64) {
        self.now = self.now.max(t);
        self.series.tick(self.now, &self.c);
    }

    fn arrive(&mut self, r: &Request, router: &mut Router) {
        self.c.requests += 1;
        let hash = self.hash(r.key);
        let i = router.route(hash);
        match r.op {
            Op::Get => self.on_get(i, r.key, hash, r.size),
            Op::Set => self.on_write(i, r.key, r.size, r.ttl, false),
            Op::Delete => self.on_write(i, r.key, r.size, r.ttl, true),
        }
    }

    fn step_event(&mut self) {
        let Some((t, event)) = self.events.pop() else { return };
        if let Event::FlushCheck { inst } = event
            && self.is_void(inst as usize, t)
        {
            return;
        }
        self.advance(t);
        match event {
            Event::L2Reply { inst, key, found, load } => self.on_l2_reply(inst as usize, key, found, load),
            Event::L3Done(job, failed) => {
                if failed {
                    self.c.l3_errors += 1;
                }
                match job {
                    Job::Load { inst, key, size, load, .. } => {
                        self.on_load_done(inst as usize, key, size, load, failed)
                    }
                    Job::Write { inst, write } => self.on_write_through_done(inst as usize, write, failed),
                    Job::Flush { inst, ops, turn } => self.on_flush_done(inst as usize, ops, turn, failed),
                    Job::Exists { inst, write } => self.on_exists_done(inst as usize, write, failed),
                }
                if let Some(next) = self.l3q.finish(self.now) {
                    self.start_l3(next);
                }
            }
            Event::Invalidate { inst, key } => {
                self.c.invalidations += 1;
                self.inst[inst as usize].remote_epoch += 1;
                self.stale_load(inst as usize, key);
                self.inst[inst as usize].l1.remove(&key);
            }
            Event::FlushCheck { inst } => self.on_flush_check(inst as usize),
        }
    }

    fn finish(self, cache: &CacheConfig, sim: &SimConfig) -> Report {
        let mut l1 = strata_core::l1::StoreCounters::default();
        let mut coalesced = 0;
        for inst in &self.inst {
            l1 += inst.l1.counters();
            coalesced += inst.queue.coalesced();
        }
        let stats = RunStats {
            counters: self.c,
            read_latency: Some(self.reads),
            write_latency: Some(self.writes),
            batch_sizes: self.batch_sizes,
            coalesced_writes: coalesced,
            l1,
            l2: self.l2.as_ref().map(L2Model::counters),
            l3_peak_queue: self.l3q.peak_queue_len() as u64,
            l3_queued: self.l3q.queued(),
            l3_wait_ns: self.l3q.total_wait_ns(),
            max_stale_age_ns: self.max_stale_age,
            duration_ns: self.now,
            series: self.series.finish(&self.c),
        };
        stats.into_report(Mode::Full, cache, sim)
    }
}

#[cfg(test)]
mod tests;
