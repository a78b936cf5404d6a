//! Traces read from a pipe (`/dev/stdin`), which can be read only once:
//! the commands that read a trace more than once (`mrc --policy`, `tune`,
//! `replay --compare`) must give what they give on the file.

#[path = "support/cli.rs"]
mod cli;

use std::io::Write;
use std::process::{Command, Stdio};

use cli::ok;

/// Runs `strata args...` with `input` piped to its standard input; asserts
/// success and returns its standard output.
fn piped(args: &[&str], input: &[u8]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run strata");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // A reader that stops early must not block the writer: write from a thread.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "strata {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn commands_that_read_twice_give_the_same_on_a_pipe_as_on_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.csv");
    let file = path.to_str().unwrap();
    let g = [
        "gen",
        "-o",
        file,
        "--requests",
        "2000",
        "--keys",
        "200",
        "--write-ratio",
        "0.2",
        "--delete-ratio",
        "0.05",
        "--ttl",
        "10",
    ];
    ok(&g);
    let bytes = std::fs::read(&path).unwrap();
    let stdin = "/dev/stdin";
    let runs: [&[&str]; 3] = [
        &["mrc", "--format", "csv", "--policy", "lru,fifo", "--capacities", "10,100", "--json"],
        &["tune", "--format", "csv", "--l1-budget", "100", "--json"],
        &["replay", "--format", "csv", "--compare", "lru,fifo", "--l1-capacity", "20", "--json"],
    ];
    for args in runs {
        let on_file = String::from_utf8(ok(&[&[args[0], file], &args[1..]].concat()).stdout).unwrap();
        let on_pipe = piped(&[&[args[0], stdin], &args[1..]].concat(), &bytes);
        // The trace's name is the only difference.
        assert_eq!(on_pipe.replace(stdin, file), on_file, "{args:?}");
    }
}
