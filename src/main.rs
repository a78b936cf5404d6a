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
    let cli = Cli::parse();
    match cli.command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // one line: the error and its causes
            eprintln!("strata: {}", cli::one_line(&e));
            ExitCode::FAILURE
        }
    }
}
