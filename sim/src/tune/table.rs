//! The tuner's result as a readable table.

use std::fmt::Write as _;
use std::time::Duration;

use strata_core::config::{Capacity, WriteStrategy};

use super::{Candidate, Objective, TuneResult};

fn cap(c: Option<Capacity>) -> String {
    match c {
        None => "-".into(),
        Some(Capacity::Entries(n)) => n.to_string(),
        Some(Capacity::Bytes(n)) => format!("{n}B"),
    }
}

fn ttl(t: Option<Duration>) -> String {
    match t {
        None => "-".into(),
        Some(d) if d.as_millis() % 1000 == 0 => format!("{}s", d.as_secs()),
        Some(d) => format!("{}ms", d.as_millis()),
    }
}

fn strategy(s: WriteStrategy) -> &'static str {
    match s {
        WriteStrategy::WriteThrough => "through",
        WriteStrategy::WriteBack => "back",
        WriteStrategy::WriteBehind => "behind",
    }
}

/// Which negative-TTL columns the table has: L1's (`absent`), L2's
/// (`L2 abs`); each only when a candidate sets one.
#[derive(Clone, Copy)]
struct AbsentColumns {
    l1: bool,
    l2: bool,
}

impl AbsentColumns {
    fn of(candidates: &[Candidate]) -> Self {
        Self {
            l1: candidates.iter().any(|c| c.config.l1.negative_ttl.is_some()),
            l2: candidates.iter().any(|c| l2_negative(&c.config).is_some()),
        }
    }

    /// The columns' cells: headers, or the values of `cfg`.
    fn cells(self, cfg: Option<&strata_core::CacheConfig>) -> String {
        let mut s = String::new();
        if self.l1 {
            let v = cfg.map_or_else(|| "absent".to_string(), |c| ttl(c.l1.negative_ttl));
            s += &format!(" {v:>6}");
        }
        if self.l2 {
            let v = cfg.map_or_else(|| "L2 abs".to_string(), |c| ttl(l2_negative(c)));
            s += &format!(" {v:>6}");
        }
        s
    }
}

fn l2_negative(cfg: &strata_core::CacheConfig) -> Option<Duration> {
    cfg.l2.as_ref().and_then(|l| l.negative_ttl)
}

/// One candidate's row, with the negative-TTL columns `absent` asks for.
fn row(out: &mut String, i: usize, c: &Candidate, mark: &str, absent: AbsentColumns) {
    let cfg = &c.config;
    let m = &c.metrics;
    let neg = absent.cells(Some(cfg));
    let _ = writeln!(
        out,
        "{mark}{i:>4} {:<8} {:>9} {:>9} {:>6} {:>6}{neg} {:<8} {:<3} {:>9.3} {:>10.1} {:>10.1} {:>8.4} {:>7.2} {:>6.3} {:>6.3}",
        cfg.l1.eviction.name(),
        cap(Some(cfg.l1.capacity)),
        cap(cfg.l2.as_ref().and_then(|l| l.capacity)),
        ttl(cfg.l1.ttl),
        ttl(cfg.l2.as_ref().and_then(|l| l.ttl)),
        strategy(cfg.write.strategy),
        if cfg.refresh.enabled { "on" } else { "off" },
        m.read_p99_us / 1000.0,
        m.l3_qps_mean,
        m.l3_qps_peak,
        m.stale_ratio * 100.0,
        m.hit_ratio * 100.0,
        m.memory,
        m.cost,
    );
}

impl TuneResult {
    /// The frontier and the winner as a table (`*` marks the winner).
    #[must_use]
    pub fn to_table(&self) -> String {
        let mut o = String::new();
        let objective = match self.objective {
            Objective::P99 => "lowest read p99".to_string(),
            Objective::L3Load => "lowest L3 load".to_string(),
            Objective::Cost(w) => format!("lowest cost (l1 {}, l2 {}, l3 {})", w.l1, w.l2, w.l3),
        };
        let feasible = self.candidates.iter().filter(|c| c.is_feasible()).count();
        let _ = writeln!(
            o,
            "objective: {objective}; {} candidates in {} round(s), {feasible} feasible",
            self.candidates.len(),
            self.rounds
        );
        // A negative TTL has a column when a candidate sets one.
        let absent = AbsentColumns::of(&self.candidates);
        let neg = absent.cells(None);
        let _ = writeln!(
            o,
            "\n{:>5} {:<8} {:>9} {:>9} {:>6} {:>6}{neg} {:<8} {:<3} {:>9} {:>10} {:>10} {:>8} {:>7} {:>6} {:>6}",
            "#",
            "policy",
            "L1",
            "L2",
            "L1 ttl",
            "L2 ttl",
            "write",
            "ref",
            "p99 ms",
            "L3 req/s",
            "L3 peak",
            "stale%",
            "hit%",
            "mem",
            "cost"
        );
        for &i in &self.frontier {
            row(&mut o, i, &self.candidates[i], if i == self.best { "*" } else { " " }, absent);
        }
        if !self.frontier.contains(&self.best) {
            row(&mut o, self.best, self.winner(), "*", absent);
        }
        let w = self.winner();
        if w.is_feasible() {
            let _ = writeln!(o, "\nwinner #{} meets every constraint", self.best);
        } else {
            let _ = writeln!(
                o,
                "\nno candidate meets every constraint; closest #{}: {}",
                self.best,
                w.violations.join("; ")
            );
        }
        o
    }
}
