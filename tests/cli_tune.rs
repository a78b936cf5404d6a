//! `strata tune`, run as a user runs it: the written TOML is the winner and
//! strata-core loads it unchanged.

#[path = "support/cli.rs"]
mod cli;

use cli::{ok, strata};

use serde_json::Value;
use strata_core::CacheConfig;

#[test]
fn tune_writes_the_winner_that_core_loads_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.csv").display().to_string();
    ok(&[
        "gen",
        "-o",
        &trace,
        "--keys",
        "1000",
        "--requests",
        "8000",
        "--write-ratio",
        "0.1",
        "--rate",
        "4000",
    ]);
    let out = dir.path().join("tuned.toml");
    let out_s = out.display().to_string();
    let args = [
        "tune",
        &trace,
        "--l1-budget",
        "200",
        "--l2-budget",
        "600",
        "--policies",
        "lru,s3fifo",
        "--objective",
        "l3-load",
        "--max-staleness",
        "5%",
        "--rounds",
        "2",
        "-o",
        &out_s,
        "--json",
    ];
    let first = ok(&args).stdout;
    let v: Value = serde_json::from_slice(&first).unwrap();
    let best = v["best"].as_u64().unwrap() as usize;
    let winner: CacheConfig = serde_json::from_value(v["candidates"][best]["config"].clone()).unwrap();
    let loaded = CacheConfig::from_toml_str(&std::fs::read_to_string(&out).unwrap(), &out_s).unwrap();
    assert_eq!(loaded, winner);
    assert!(["lru", "s3fifo"].contains(&loaded.l1.eviction.name()));
    assert!(!v["frontier"].as_array().unwrap().is_empty());
    assert_eq!(ok(&args).stdout, first, "deterministic");

    let table = String::from_utf8(
        ok(&["tune", &trace, "--l1-budget", "200", "--rounds", "1", "--policies", "lru"]).stdout,
    )
    .unwrap();
    assert!(table.contains("objective: lowest read p99"), "{table}");
    assert!(table.contains("[l1.capacity]"), "the TOML follows the table without -o: {table}");
}

#[test]
fn tune_errors_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.csv").display().to_string();
    ok(&["gen", "-o", &trace, "--keys", "100", "--requests", "100"]);
    for (args, want) in [
        (vec!["tune", &trace, "--l1-budget", "12 parsecs"], "unknown unit"),
        (vec!["tune", &trace, "--l1-budget", "10", "--max-staleness", "soon"], "--max-staleness"),
        (vec!["tune", &trace, "--l1-budget", "10", "--l2-budget", "1MiB"], "--l2-budget"),
        (vec!["tune", "/nonexistent.csv", "--l1-budget", "10"], "/nonexistent.csv"),
    ] {
        let out = strata(&args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr).trim_end().to_owned();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn an_infeasible_search_writes_nothing_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.csv").display().to_string();
    ok(&["gen", "-o", &trace, "--keys", "200", "--requests", "2000", "--write-ratio", "0.2"]);
    let out = dir.path().join("imp.toml");
    let out_s = out.display().to_string();
    let impossible = ["tune", &trace, "--l1-budget", "100", "--p99-slo-ms", "0.000001", "--rounds", "1"];
    for extra in [&["-o", &out_s][..], &["-o", &out_s, "--json"], &[]] {
        let args = [&impossible[..], extra].concat();
        let run = strata(&args);
        assert!(!run.status.success(), "{args:?} must fail");
        let err = cli::stderr_line(&run);
        assert!(err.contains("no candidate meets every constraint (closest #"), "{err}");
        let what = if extra.is_empty() {
            "no configuration printed".to_owned()
        } else {
            format!("{out_s} not written")
        };
        assert!(err.ends_with(&what), "{err}");
        let stdout = String::from_utf8(run.stdout).unwrap();
        assert!(!stdout.contains("[l1.capacity]"), "no TOML printed: {stdout}");
        assert!(!out.exists(), "{args:?}: nothing written");
    }
}

#[test]
fn values_that_leave_nothing_to_tune_are_refused_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.csv").display().to_string();
    ok(&["gen", "-o", &trace, "--keys", "100", "--requests", "500"]);
    let base = ["tune", &trace, "--l1-budget", "50"];
    for (extra, want) in [
        (&["--sample", "0"][..], "strata: --sample 0: must be at least 1"),
        (&["--rounds", "0"], "strata: --rounds 0: must be at least 1"),
        (
            &["--objective", "cost", "--cost-weights", "l1=nan"],
            "strata: --cost-weights: `l1=nan`: a weight must be a finite number at least 0",
        ),
        (&["--objective", "cost", "--cost-weights", "l2=-1"], "`l2=-1`: a weight must be a finite number"),
        (&["--cost-weights", "l1=2"], "--cost-weights: only the cost objective has weights"),
    ] {
        let args = [&base[..], extra].concat();
        let out = strata(&args);
        assert!(!out.status.success(), "{args:?} must fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.lines().next().unwrap_or("").contains(want), "{args:?}: {err}");
    }
}

#[test]
fn skip_bad_tells_once_what_it_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.csv");
    let t = trace.display().to_string();
    ok(&["gen", "-o", &t, "--keys", "100", "--requests", "300"]);
    let mut text = std::fs::read_to_string(&trace).unwrap();
    text.push_str("5,7,bogus,100,\n");
    std::fs::write(&trace, text).unwrap();
    let run = ok(&["tune", &t, "--l1-budget", "50", "--rounds", "2", "--skip-bad"]);
    let err = String::from_utf8(run.stderr).unwrap();
    let want = format!("skipped 1 bad record(s); the first: {t}:302: field 3 (op): unknown op \"bogus\"");
    assert!(err.starts_with(&want), "{err}");
    assert_eq!(err.matches("skipped").count(), 1, "told once: {err}");
    // The sample ends before the bad record: nothing was skipped.
    let run = ok(&["tune", &t, "--l1-budget", "50", "--rounds", "1", "--skip-bad", "--sample", "100"]);
    assert!(!String::from_utf8(run.stderr).unwrap().contains("skipped"));
}

/// A trace with 5% deletes in `dir`, and where to write the tuned TOML.
fn deletes_trace(dir: &std::path::Path) -> (String, std::path::PathBuf) {
    let trace = dir.join("d.csv").display().to_string();
    let g = ["gen", "-o", &trace, "--keys", "400", "--requests", "6000", "--delete-ratio", "0.05"];
    ok(&[&g[..], &["--write-ratio", "0.01", "--rate", "2000"]].concat());
    (trace, dir.join("tuned.toml"))
}

#[test]
fn negative_ttls_are_searched_in_ms_and_zero_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let (trace, out) = deletes_trace(dir.path());
    let out_s = out.display().to_string();
    let args = ["tune", &trace, "--l1-budget", "100", "--policies", "lru", "--objective", "l3-load"];
    let run = ok(&[&args[..], &["--negative-ttls", "0,1000", "-o", &out_s]].concat());
    let table = String::from_utf8(run.stdout).unwrap();
    assert!(table.contains("absent"), "{table}");
    let tuned = CacheConfig::from_toml_str(&std::fs::read_to_string(&out).unwrap(), "tuned.toml").unwrap();
    assert_eq!(tuned.l1.negative_ttl, Some(std::time::Duration::from_secs(1)), "markers save L3 reads");
    // Only 0 listed: searched, and off.
    let run = ok(&[&args[..], &["--negative-ttls", "0", "-o", &out_s]].concat());
    assert!(!String::from_utf8(run.stdout).unwrap().contains("absent"));
    let tuned = CacheConfig::from_toml_str(&std::fs::read_to_string(&out).unwrap(), "tuned.toml").unwrap();
    assert_eq!(tuned.l1.negative_ttl, None);
}

#[test]
fn l2_negative_ttls_are_searched_in_ms_for_candidates_with_l2() {
    let dir = tempfile::tempdir().unwrap();
    let (trace, out) = deletes_trace(dir.path());
    let out_s = out.display().to_string();
    let args = ["tune", &trace, "--l1-budget", "100", "--l2-budget", "400", "--policies", "lru"];
    let run =
        ok(&[&args[..], &["--objective", "l3-load", "--l2-negative-ttls", "0,1000", "-o", &out_s]].concat());
    let table = String::from_utf8(run.stdout).unwrap();
    assert!(table.contains("L2 abs"), "{table}");
    let tuned = CacheConfig::from_toml_str(&std::fs::read_to_string(&out).unwrap(), "tuned.toml").unwrap();
    let l2 = tuned.l2.expect("an L2 wins: it answers deleted keys without L3");
    assert_eq!(l2.negative_ttl, Some(std::time::Duration::from_secs(1)), "markers save L3 reads");
}
