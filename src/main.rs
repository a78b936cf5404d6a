//! The `strata` command-line program: `strata <command> ...`, see `strata --help`.

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// Strata: a tiered cache and its simulator.
#[derive(Debug, Parser)]
#[command(name = "strata", version, about)]
struct Cli {
    #[command(subcommand)]
    command: cli::Command,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return parse_error(&e),
    };
    match cli.command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // one line: the error and its causes
            eprintln!("strata: {}", cli::one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// A command line clap refused. A flag's bad value is one line naming the
/// flag as typed, the value and why (`strata: --rate 0: must be ...`);
/// anything else (help, an unknown flag, a missing argument) is clap's own
/// message and usage.
fn parse_error(e: &clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let text = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let why = std::error::Error::source(e).map(ToString::to_string);
    match (e.kind(), text(ContextKind::InvalidArg), text(ContextKind::InvalidValue), why) {
        (ErrorKind::ValueValidation, Some(flag), Some(value), Some(why)) => {
            // `--rate <RATE>`: the flag as typed.
            let flag = flag.split(' ').next().unwrap_or(&flag);
            let value = if value.is_empty() { "''".to_owned() } else { value };
            eprintln!("strata: {flag} {value}: {why}");
            ExitCode::from(2)
        }
        _ => e.exit(),
    }
}
