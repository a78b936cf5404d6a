//! `strata replay`, run as a user runs it.

#[path = "support/cli.rs"]
mod cli;

use cli::{json, ok, one_line_error};

use serde_json::Value;

fn trace(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("t.csv").display().to_string();
    let g = [
        "gen",
        "-o",
        &path,
        "--keys",
        "2000",
        "--requests",
        "30000",
        "--write-ratio",
        "0.05",
        "--rate",
        "5000",
    ];
    ok(&g);
    path
}

#[test]
fn replay_prints_a_table_and_deterministic_json() {
    let dir = tempfile::tempdir().unwrap();
    let t = trace(&dir);
    let table =
        String::from_utf8(ok(&["replay", &t, "--l1-capacity", "200", "--policy", "sieve"]).stdout).unwrap();
    assert!(table.starts_with("sieve · L1 200 entries"), "{table}");
    assert!(table.contains("read") && table.contains("p99"), "{table}");
    let args = ["replay", &t, "--l1-capacity", "200", "--json", "--seed", "9"];
    let a = ok(&args).stdout;
    assert_eq!(a, ok(&args).stdout, "same seed, same bytes");
    let v: Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(v["mode"], "full");
    assert_eq!(v["seed"], 9);
    assert_eq!(v["requests"], 30000);
    assert!(v["read_latency"]["p99_us"].as_f64().unwrap() > 0.0);
    assert!(!v["series"].as_array().unwrap().is_empty());
    let other = json(&["replay", &t, "--l1-capacity", "200", "--json", "--seed", "10"]);
    assert_ne!(other["read_latency"], v["read_latency"]);
}

#[test]
fn hit_ratio_only_and_compare() {
    let dir = tempfile::tempdir().unwrap();
    let t = trace(&dir);
    let fast = json(&["replay", &t, "--l1-capacity", "200", "--hit-ratio-only", "--json"]);
    assert_eq!(fast["mode"], "hit-ratio-only");
    assert!(fast.get("read_latency").is_none());
    let all = json(&[
        "replay",
        &t,
        "--l1-capacity",
        "200",
        "--hit-ratio-only",
        "--compare",
        "lru,fifo,tinylfu",
        "--json",
    ]);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0]["policy"], "lru");
    assert_eq!(all[0]["l1"], fast["l1"], "--compare runs the same replay");
    let table =
        String::from_utf8(ok(&["replay", &t, "--l1-capacity", "200", "--compare", "all"]).stdout).unwrap();
    assert_eq!(table.lines().count(), 1 + 7, "{table}");
}

#[test]
fn bad_input_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let t = trace(&dir);
    let e = one_line_error(&["replay", &t, "--policy", "arc"]);
    assert!(e.contains("unknown policy `arc`"), "{e}");
    let e = one_line_error(&["replay", "/nonexistent/x.csv"]);
    assert!(e.contains("/nonexistent/x.csv"), "{e}");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "0,1,get,10,\n1,2,fly,10,\n").unwrap();
    let e = one_line_error(&["replay", &bad.display().to_string()]);
    assert!(e.contains("bad.csv:2: field 3 (op)"), "{e}");
    let sim = dir.path().join("sim.toml");
    std::fs::write(&sim, "[latency]\nl2 = { dist = \"lognormal\", p50_us = 9, p99_us = 3 }\n").unwrap();
    let e = one_line_error(&["replay", &t, "--sim", &sim.display().to_string()]);
    assert!(e.contains("latency.l2.p99_us"), "{e}");
    let skipped = ok(&["replay", &bad.display().to_string(), "--skip-bad", "--json"]);
    let v: Value = serde_json::from_slice(&skipped.stdout).unwrap();
    assert_eq!(v["requests"], 1);
    assert!(String::from_utf8_lossy(&skipped.stderr).contains("skipped 1 bad record"));
}

#[test]
fn an_empty_trace_and_a_bad_config_value_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "timestamp,key,op,size,ttl\n").unwrap();
    let empty = empty.display().to_string();
    for args in [
        vec!["replay", &empty],
        vec!["replay", &empty, "--hit-ratio-only"],
        vec!["mrc", &empty],
        vec!["tune", &empty, "--rate", "100", "--l1-budget", "100"],
        vec!["demo", &empty],
    ] {
        let e = one_line_error(&args);
        assert!(e.ends_with("empty.csv: the trace holds no requests"), "{args:?}: {e}");
    }
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "0,1\nx,2\n").unwrap();
    ok(&["replay", &bad.display().to_string(), "--skip-bad"]); // one good record is enough
    std::fs::write(&bad, "x,2\n").unwrap();
    let e = one_line_error(&["mrc", &bad.display().to_string(), "--skip-bad"]);
    assert!(e.ends_with("bad.csv: the trace holds no requests (1 bad record skipped, no good one)"), "{e}");
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "[l1]\nttl_ms = 10\n\n[write]\nstrategy = \"write-behind\"\nbatch_size = 0\n")
        .unwrap();
    let e = one_line_error(&["replay", &trace(&dir), "--config", &config.display().to_string()]);
    assert!(e.contains("c.toml line 6: write.batch_size`: must be at least 1"), "{e}");
}

#[test]
fn bytes_never_turns_a_files_entry_count_into_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let t = trace(&dir);
    let entries = dir.path().join("e50.toml");
    std::fs::write(&entries, "[l1]\ncapacity = { entries = 50 }\n").unwrap();
    let e50 = entries.display().to_string();
    let e = one_line_error(&["replay", &t, "--bytes", "--config", &e50]);
    assert!(e.contains(&format!("--bytes: {e50} has the L1 capacity in entries (50;")), "{e}");
    // Without --bytes the file's entries stand; a flag in bytes or a file in bytes is fine.
    let table = |args: &[&str]| String::from_utf8(ok(args).stdout).unwrap();
    assert!(table(&["replay", &t, "--config", &e50]).contains("L1 50 entries"));
    assert!(
        table(&["replay", &t, "--bytes", "--config", &e50, "--l1-capacity", "5000"])
            .contains("L1 5000 bytes")
    );
    let bytes = dir.path().join("b.toml");
    std::fs::write(&bytes, "[l1]\ncapacity = { bytes = 5000 }\n[l2]\ncapacity = { entries = 9 }\n").unwrap();
    let b = bytes.display().to_string();
    let e = one_line_error(&["replay", &t, "--bytes", "--config", &b]);
    assert!(e.contains(&format!("--bytes: {b} has the L2 capacity in entries (9)")), "{e}");
}

#[test]
fn flag_values_are_refused_naming_the_flag_typed() {
    let dir = tempfile::tempdir().unwrap();
    let t = trace(&dir);
    for (args, want) in [
        (vec!["replay", &t, "--rate", "0"], "strata: --rate 0: must be a finite number of at least 0.01"),
        (vec!["replay", &t, "--rate", "NaN"], "strata: --rate NaN: must be a finite number"),
        (vec!["replay", &t, "--instances", "0"], "strata: --instances 0: must be at least 1"),
        (vec!["replay", &t, "--time-scale", "-1"], "strata: --time-scale -1: must be between 0 and 1000"),
        (vec!["replay", &t, "--l1-capacity", "0"], "strata: --l1-capacity 0: must be at least 1"),
        (vec!["replay", &t, "--compare", ""], "strata: --compare '': unknown policy ``"),
        (vec!["replay", &t, "--compare", "lru,bogus"], "strata: --compare bogus: unknown policy `bogus`"),
        (vec!["replay", &t, "--policy", "all"], "strata: --policy all: unknown policy `all`"),
        (vec!["mrc", &t, "--policy", "x"], "strata: --policy x: unknown policy `x`"),
        (vec!["demo", &t, "--l1-capacity", "0"], "strata: --l1-capacity 0: must be at least 1"),
        (vec!["fleet", &t, "--instances", "0"], "strata: --instances 0: must be at least 1"),
        (vec!["fleet", &t, "--rate", "0"], "strata: --rate 0: must be a finite number"),
        (vec!["tune", &t, "--l1-budget", "0"], "strata: --l1-budget: must be at least 1"),
        (
            vec!["tune", &t, "--l1-budget", "9", "--l2-budget", "0MiB"],
            "strata: --l2-budget: must be at least 1",
        ),
        (
            vec!["tune", &t, "--l1-budget", "9", "--instances", "0"],
            "strata: --instances 0: must be at least 1",
        ),
        (
            vec!["tune", &t, "--l1-budget", "9", "--policies", "lru,"],
            "strata: --policies '': unknown policy ``",
        ),
        (
            vec![
                "tune",
                &t,
                "--l1-budget",
                "9",
                "--l2-budget",
                "99",
                "--l2-negative-ttls",
                "18446744073709551615",
            ],
            "strata: --l2-negative-ttls 18446744073709551615: must be at most 3153600000000 ms",
        ),
    ] {
        let err = one_line_error(&args);
        assert!(err.starts_with(want), "{args:?}: {err}");
    }
}

#[test]
fn policy_is_refused_with_compare_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let t = trace(&dir);
    let out = cli::strata(&["replay", &t, "--policy", "tinylfu", "--compare", "lru,fifo"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: the argument '--policy <POLICY>' cannot be used with '--compare <COMPARE>'"),
        "{err}"
    );
}
