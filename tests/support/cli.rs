//! Running the `strata` binary as a user does, for the CLI tests.
#![allow(dead_code, unreachable_pub)]

use std::process::{Command, Output};

use serde_json::Value;

/// Runs `strata args...`.
pub fn strata(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata")).args(args).output().expect("run strata")
}

/// Runs it and asserts success.
pub fn ok(args: &[&str]) -> Output {
    let out = strata(args);
    assert!(out.status.success(), "strata {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Runs it, asserts success, parses standard output as JSON.
pub fn json(args: &[&str]) -> Value {
    serde_json::from_slice(&ok(args).stdout).expect("JSON output")
}

/// Standard error, asserted to be exactly one line.
pub fn stderr_line(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).trim_end().to_owned();
    assert_eq!(err.lines().count(), 1, "one-line error expected: {err}");
    err
}

/// Runs it, asserts failure with a one-line error, returns that line.
pub fn one_line_error(args: &[&str]) -> String {
    let out = strata(args);
    assert!(!out.status.success(), "strata {args:?} should fail");
    stderr_line(&out)
}
