//! `ward`: Ward's command-line tool.
//!
//! `ward run FILE` runs a module's entry point (or any export with
//! `--invoke`) in a fresh sandbox on either backend and prints the typed
//! outcome: human-readable by default, one JSON object on stdout's last line
//! with `--json`. Exit codes: 0 when the status is `ok`, 1 for any other
//! outcome, 2 for usage and I/O errors.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod backends;
mod run;

/// Ward: a deterministic, metered, sandboxed WebAssembly runtime.
#[derive(Parser, Debug)]
#[command(name = "ward", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a module's entry point (or one export) and print the outcome.
    Run(run::RunArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
