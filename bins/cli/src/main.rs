//! `ward`: Ward's command-line tool.
//!
//! `ward run FILE` runs a module's entry point (or any export with
//! `--invoke`) in a fresh sandbox on either backend and prints the typed
//! outcome: human-readable by default, one JSON object on stdout's last line
//! with `--json`. `ward inspect FILE` validates and describes a module.
//! `ward bench` runs the benchmark suite beside the raw engines.
//! Exit codes: 0 when the status is `ok` (or the module is valid), 1 for any
//! other outcome, 2 for usage and I/O errors.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod backends;
mod bench;
mod chain;
mod demo;
mod inspect;
mod parse;
mod run;
mod values;

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
    /// Validate a module and report its imports, exports, features, sizes
    /// against each limit and instrumented size, or the exact rejection.
    Inspect(inspect::InspectArgs),
    /// Run Ward's benchmark suite: each figure beside the raw engine's for
    /// the same work, measured in the same run, as a ratio.
    Bench(bench::BenchArgs),
    /// Deploy a contract into the data directory's state; prints its address.
    Deploy(chain::DeployArgs),
    /// Call a contract's `main` in a new block; prints the receipt.
    Call(chain::CallArgs),
    /// Run a contract's `main` read-only on the committed state; commits nothing.
    Query(chain::CallArgs),
    /// Print a stored receipt.
    Receipt(chain::ReceiptArgs),
    /// Print a contract and its storage (or one key).
    State(chain::StateArgs),
    /// Ward's main job on its embedded defaults: deploy the SDK-built token
    /// and escrow into an empty data directory, run a block of transfers,
    /// escrow deposits and releases and a failing transfer, query, re-open.
    Demo(demo::DemoArgs),
}

/// The module in `bytes` read from `path`: a `.wasm` file (or anything that
/// starts like a binary) is taken as it is; anything else is parsed as
/// text. Text that does not parse is an invalid module like any other bad
/// bytes: a typed rejection, not a usage error.
pub(crate) fn module_bytes<'a>(
    path: &std::path::Path,
    bytes: &'a [u8],
) -> Result<std::borrow::Cow<'a, [u8]>, ward_vm::Failure> {
    if bytes.starts_with(b"\0asm") || path.extension().is_some_and(|ext| ext == "wasm") {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    wat::parse_bytes(bytes)
        .map_err(|e| ward_vm::Failure::new(ward_vm::ErrorKind::InvalidWasm, e.to_string()))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Inspect(args) => inspect::inspect(args),
        Command::Bench(args) => bench::bench(args),
        Command::Deploy(args) => chain::deploy(args),
        Command::Call(args) => chain::call(args),
        Command::Query(args) => chain::query(args),
        Command::Receipt(args) => chain::receipt(args),
        Command::State(args) => chain::state(args),
        Command::Demo(args) => demo::demo(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
