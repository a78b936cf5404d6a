//! The `strata gen` and `strata mrc` commands, run as a user runs them.

#[path = "support/cli.rs"]
mod cli;

use cli::{json, ok, stderr_line, strata};

use std::path::Path;

use serde_json::Value;

#[test]
fn gen_is_deterministic_and_mrc_reads_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).display().to_string();
    let base = [
        "gen",
        "--dist",
        "zipf",
        "--alpha",
        "1.0",
        "--keys",
        "5000",
        "--requests",
        "50000",
        "--write-ratio",
        "0.1",
    ];
    for (name, seed) in [("a.csv.zst", "42"), ("b.csv.zst", "42"), ("c.csv.zst", "43")] {
        let mut args = base.to_vec();
        let out = p(name);
        args.extend(["--seed", seed, "-o", &out]);
        ok(&args);
    }
    let read = |n: &str| std::fs::read(dir.path().join(n)).unwrap();
    assert_eq!(read("a.csv.zst"), read("b.csv.zst"), "same seed, same bytes");
    assert_ne!(read("a.csv.zst"), read("c.csv.zst"), "other seed, other bytes");

    let v = json(&["mrc", &p("a.csv.zst"), "--json", "--capacities", "10,100,1000,5000"]);
    assert_eq!(v["format"], "csv");
    assert_eq!(v["lru"]["accesses"], 50_000);
    let points = v["lru"]["points"].as_array().unwrap();
    assert_eq!(points.len(), 4);
    let ratios: Vec<f64> = points.iter().map(|p| p["miss_ratio"].as_f64().unwrap()).collect();
    assert!(ratios.windows(2).all(|w| w[0] >= w[1]), "LRU miss ratio falls with capacity: {ratios:?}");
    assert!(points.iter().all(|p| p["exact"] == true));

    // oracleGeneral output, byte mode, and a simulated policy beside the one-pass curve
    let og = p("d.oracleGeneral.zst");
    ok(&[
        "gen",
        "--dist",
        "hotset",
        "--keys",
        "2000",
        "--requests",
        "20000",
        "--size-dist",
        "uniform",
        "-o",
        &og,
    ]);
    let v = json(&["mrc", &og, "--bytes", "--json", "--policy", "lru", "--capacities", "4096,65536,1048576"]);
    let lru: Vec<u64> =
        v["lru"]["points"].as_array().unwrap().iter().map(|p| p["misses"].as_u64().unwrap()).collect();
    let sim: Vec<u64> =
        v["simulated"].as_array().unwrap().iter().map(|p| p["misses"].as_u64().unwrap()).collect();
    assert_eq!(lru, sim, "one-pass LRU equals the simulated L1 store at exact capacities");
}

#[test]
fn mrc_reproduces_the_reference_misses_of_web07() {
    let trace = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/web07.trace.xz");
    let v = json(&[
        "mrc",
        trace.to_str().unwrap(),
        "--json",
        "--policy",
        "lru,fifo",
        "--capacities",
        "200,2000,5000",
    ]);
    let lru: Vec<u64> =
        v["lru"]["points"].as_array().unwrap().iter().map(|p| p["misses"].as_u64().unwrap()).collect();
    assert_eq!(lru, [46_439, 33_873, 28_416]);
    let sim: Vec<(String, u64)> = v["simulated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["policy"].as_str().unwrap().to_owned(), p["misses"].as_u64().unwrap()))
        .collect();
    let want: Vec<(String, u64)> = [
        ("lru", 46_439),
        ("lru", 33_873),
        ("lru", 28_416),
        ("fifo", 48_586),
        ("fifo", 35_830),
        ("fifo", 30_035),
    ]
    .into_iter()
    .map(|(p, m)| (p.to_owned(), m))
    .collect();
    assert_eq!(sim, want);
    // the table form
    let table =
        String::from_utf8(ok(&["mrc", trace.to_str().unwrap(), "--capacities", "2000"]).stdout).unwrap();
    assert!(table.contains("33873"), "{table}");
}

#[test]
fn bad_input_fails_with_one_line_naming_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bad.csv");
    std::fs::write(&csv, "timestamp,key,op\n1,2,get\n3,4,gte\n").unwrap();
    let out = strata(&["mrc", csv.to_str().unwrap()]);
    assert!(!out.status.success());
    assert_eq!(
        stderr_line(&out),
        format!(
            "strata: {}:3: field 3 (op): unknown op \"gte\" (expected get, set or delete)",
            csv.display()
        )
    );
    // with --skip-bad it succeeds and says what it skipped
    let out = ok(&["mrc", csv.to_str().unwrap(), "--skip-bad", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["skipped"].as_u64(), v["lru"]["accesses"].as_u64()), (Some(1), Some(1)));
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped 1 bad record(s)"));

    let bin = dir.path().join("t.oracleGeneral");
    std::fs::write(&bin, [0u8; 24 * 2 + 7]).unwrap();
    let out = strata(&["mrc", bin.to_str().unwrap()]);
    assert!(!out.status.success());
    assert_eq!(
        stderr_line(&out),
        format!("strata: {}: truncated record at byte offset 48: 7 of 24 bytes", bin.display())
    );

    let unknown = dir.path().join("t.parquet");
    std::fs::write(&unknown, "x").unwrap();
    let out = strata(&["mrc", unknown.to_str().unwrap()]);
    assert!(stderr_line(&out).contains("cannot tell the trace format"));
    let out = strata(&["mrc", unknown.to_str().unwrap(), "--format", "text", "--sample-rate", "2"]);
    assert!(stderr_line(&out).contains("invalid sample rate 2"));
    let out = strata(&["gen", "--keys", "0", "-o", dir.path().join("x.csv").to_str().unwrap()]);
    assert_eq!(stderr_line(&out), "strata: invalid generator parameter keys: must be at least 1");
    let out = strata(&["gen", "-o", dir.path().join("x.twitter.csv").to_str().unwrap()]);
    assert!(stderr_line(&out).contains("cannot write twitter traces"));
    // oracleGeneral has no op or TTL: writes, deletes and TTLs are refused, not dropped.
    let bin = dir.path().join("w.oracleGeneral");
    for flags in [["--write-ratio", "0.1"], ["--delete-ratio", "0.1"], ["--ttl", "60"]] {
        let out = strata(&["gen", "-o", bin.to_str().unwrap(), flags[0], flags[1], "--requests", "10"]);
        assert!(stderr_line(&out).contains(&format!("no op and no TTL, so {} would be lost", flags[0])));
        assert!(!bin.exists(), "nothing written");
    }
    let out = strata(&[
        "gen",
        "-o",
        dir.path().join("d.csv").to_str().unwrap(),
        "--delete-ratio",
        "0.7",
        "--write-ratio",
        "0.4",
    ]);
    assert!(stderr_line(&out).contains("write_ratio + delete_ratio must be at most 1"));
}

#[test]
fn gen_refuses_an_unwritable_compression_before_touching_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("keep.csv.xz");
    std::fs::write(&keep, "precious").unwrap();
    let fresh = dir.path().join("new.csv.xz");
    for path in [&keep, &fresh] {
        let out = strata(&["gen", "--requests", "10", "-o", path.to_str().unwrap()]);
        let e = stderr_line(&out);
        assert!(
            e.contains(&format!("{}: cannot write xz-compressed traces", path.display())),
            "the error names the file: {e}"
        );
    }
    assert_eq!(std::fs::read(&keep).unwrap(), b"precious", "an existing file is left alone");
    assert!(!fresh.exists(), "no file is created");
}

#[test]
fn shipped_generated_traces_regenerate_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces");
    let cases: [(&str, &[&str]); 2] = [
        ("loop-1k.csv.zst", &["--dist", "loop", "--keys", "1000", "--requests", "20000", "--seed", "1"]),
        (
            "zipf1.0-10k.csv.zst",
            &[
                "--dist",
                "zipf",
                "--alpha",
                "1.0",
                "--keys",
                "10000",
                "--requests",
                "100000",
                "--seed",
                "42",
                "--write-ratio",
                "0.1",
            ],
        ),
    ];
    for (name, args) in cases {
        let out = dir.path().join(name);
        let mut all = vec!["gen"];
        all.extend_from_slice(args);
        all.extend(["-o", out.to_str().unwrap()]);
        ok(&all);
        assert_eq!(
            std::fs::read(&out).unwrap(),
            std::fs::read(shipped.join(name)).unwrap(),
            "{name}: see traces/README.md"
        );
    }
    // and the loop behaves as documented: every access misses below 1,000 objects
    let v = json(&[
        "mrc",
        shipped.join("loop-1k.csv.zst").to_str().unwrap(),
        "--json",
        "--capacities",
        "999,1000",
    ]);
    let misses: Vec<u64> =
        v["lru"]["points"].as_array().unwrap().iter().map(|p| p["misses"].as_u64().unwrap()).collect();
    assert_eq!(misses, [20_000, 1_000]);
}

#[test]
fn mrc_refuses_a_trace_without_reads() {
    let dir = tempfile::tempdir().unwrap();
    let del = dir.path().join("del.csv");
    std::fs::write(&del, "timestamp,key,op,size,ttl\n0,a,delete,,\n1,b,delete,,\n").unwrap();
    let out = strata(&["mrc", del.to_str().unwrap(), "--policy", "lru"]);
    assert!(!out.status.success(), "no miss ratio from 0 reads");
    assert_eq!(
        stderr_line(&out),
        format!(
            "strata: {}: the trace holds no reads (2 deletes ignored): a miss ratio needs reads",
            del.display()
        )
    );
}

#[test]
fn sampled_mrc_bounds_cover_a_loop_cliff_and_the_rate_is_kept() {
    // a loop over 20,000 keys: every access misses below 20,000, only the
    // cold ones (0.2) from 20,000 on; at 5 % the sample's cliff moves
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("loop.csv.zst").display().to_string();
    ok(&["gen", "--dist", "loop", "--keys", "20000", "--requests", "100000", "-o", &trace]);
    let caps: Vec<u64> = (17_000..=23_000).step_by(250).collect();
    let list = caps.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
    let v = json(&["mrc", &trace, "--json", "--sample-rate", "0.05", "--capacities", &list]);
    assert_eq!(v["lru"]["sample_rate"].as_f64(), Some(0.05));
    let mut wide = 0;
    for p in v["lru"]["points"].as_array().unwrap() {
        let cap = p["capacity"].as_u64().unwrap();
        let exact = if cap < 20_000 { 1.0 } else { 0.2 };
        let bound = p["error_bound"].as_f64().unwrap();
        let err = (p["miss_ratio"].as_f64().unwrap() - exact).abs();
        assert!(err <= bound, "capacity {cap}: {p}");
        wide += usize::from(bound > 0.02);
    }
    assert!(wide > 0, "a point near the cliff has a bound wider than 0.02");
    // the table marks such points '?'
    let table = String::from_utf8(
        ok(&["mrc", &trace, "--sample-rate", "0.05", "--capacities", "20000,40000"]).stdout,
    )
    .unwrap();
    let marks: Vec<bool> = table.lines().skip(3).map(|l| l.contains('?')).collect();
    assert_eq!(marks, [true, false], "{table}");
    // 0.01 × 50,000 = 500 sampled objects: the bound applies
    let v = json(&["mrc", &trace, "--json", "--sample-rate", "0.01", "--capacities", "50000"]);
    assert!(v["lru"]["points"][0]["error_bound"].as_f64().is_some(), "{v}");
}
