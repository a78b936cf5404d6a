//! `strata tune` refuses budgets and constraints it would otherwise alter or
//! misread (rounded counts, saturated overflow, percentages past 100, NaN),
//! with one line naming the flag.

#[path = "support/cli.rs"]
mod cli;

use cli::{ok, one_line_error};

#[test]
fn tune_refuses_altered_budgets_and_out_of_range_constraints() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.csv").display().to_string();
    ok(&["gen", "-o", &trace, "--keys", "100", "--requests", "100"]);
    for (extra, want) in [
        (vec!["--l1-budget", "2.6"], "--l1-budget: `2.6` is not a whole number"),
        (
            vec!["--l1-budget", "99999999999999999999999"],
            "--l1-budget: `99999999999999999999999` is too large",
        ),
        (
            vec!["--l1-budget", "10GiB", "--l2-budget", "99999999999999999999999GiB"],
            "--l2-budget: `99999999999999999999999GiB` is too large",
        ),
        (
            vec!["--l1-budget", "10", "--max-staleness", "150%"],
            "--max-staleness: a percentage must be in [0, 100]",
        ),
        (vec!["--l1-budget", "10", "--max-staleness=-1%"], "--max-staleness: a percentage"),
        (vec!["--l1-budget", "10", "--max-staleness=-5ms"], "--max-staleness: an age must be finite"),
        (vec!["--l1-budget", "10", "--max-staleness", "NaNms"], "--max-staleness: an age must be finite"),
        (vec!["--l1-budget", "10", "--p99-slo-ms", "NaN"], "--p99-slo-ms: must be a finite number above 0"),
        (vec!["--l1-budget", "10", "--l3-qps-limit=-1"], "--l3-qps-limit: must be a finite number above 0"),
    ] {
        let mut args = vec!["tune", trace.as_str(), "--rounds", "1", "--policies", "lru"];
        args.extend(extra);
        let err = one_line_error(&args);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
