//! `strata demo`, run as a user runs it.

#[path = "support/cli.rs"]
mod cli;

use cli::{ok, strata};

/// With refresh-ahead, a short L1 TTL and writes, the engine reloads keys in
/// the background and queues writes: unless the replay waits for both
/// after each request, its L1 hits differ from the simulator's from run to
/// run. Every policy and strategy, twice, must agree.
#[test]
fn demo_with_refresh_ahead_agrees_with_the_simulator_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("fz.csv").display().to_string();
    let g = [
        "gen",
        "-o",
        &trace,
        "--requests",
        "5000",
        "--keys",
        "300",
        "--write-ratio",
        "0.2",
        "--delete-ratio",
        "0.1",
        "--ttl",
        "1",
        "--rate",
        "2000",
        "--seed",
        "5",
    ];
    ok(&g);
    let config = dir.path().join("rfz.toml");
    std::fs::write(&config, "[refresh]\nenabled = true\nthreshold = 0.5\n\n[l1]\nttl_ms = 500\n").unwrap();
    let config = config.display().to_string();
    let mut failed = Vec::new();
    for round in 0..2 {
        for policy in ["lru", "lfu", "fifo", "sieve", "s3fifo", "tinylfu", "clock"] {
            for strategy in ["write-through", "write-back", "write-behind"] {
                let data = dir.path().join(format!("sled-{round}-{policy}-{strategy}")).display().to_string();
                let args = [
                    "demo",
                    &trace,
                    "--config",
                    &config,
                    "--policy",
                    policy,
                    "--strategy",
                    strategy,
                    "--l1-capacity",
                    "50",
                    "--data-dir",
                    &data,
                ];
                let out = strata(&args);
                if !out.status.success() {
                    let stdout = String::from_utf8_lossy(&out.stdout);
                    let hits = stdout.lines().find(|l| l.starts_with("L1 hits ")).unwrap_or("").to_owned();
                    failed.push(format!("{policy}/{strategy} (round {round}): {hits}"));
                }
            }
        }
    }
    assert!(failed.is_empty(), "engine and simulator disagree: {failed:#?}");
}

/// The demo empties the database in its data directory: one that is not
/// empty and not a previous demo's is refused and left alone.
#[test]
fn demo_refuses_a_data_dir_that_is_not_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.csv").display().to_string();
    ok(&["gen", "-o", &trace, "--requests", "500", "--keys", "50"]);
    let theirs = dir.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::fs::write(theirs.join("keep"), "precious").unwrap();
    let err = cli::one_line_error(&["demo", &trace, "--data-dir", theirs.to_str().unwrap()]);
    assert!(
        err.contains(&format!("{}: not empty and not a strata demo's data directory", theirs.display())),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&theirs).unwrap().count(), 1, "left alone");
    // A new directory, and the same one again.
    let ours = dir.path().join("ours").display().to_string();
    ok(&["demo", &trace, "--data-dir", &ours]);
    ok(&["demo", &trace, "--data-dir", &ours]);
}
