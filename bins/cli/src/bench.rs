//! `ward bench`, which moved: the benchmark suite is a binary of its own,
//! `ward-bench` (in `benches/`), so that `ward` links none of the raw
//! engines, revm or the workloads. This says where it went.

use std::process::ExitCode;

use clap::Args;

/// Whatever `ward bench` was given: `ward` runs none of it.
#[derive(Args, Debug)]
pub(crate) struct BenchArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

pub(crate) fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let _ = args.rest;
    anyhow::bail!(
        "the benchmark suite is its own binary: `cargo run --release -p ward-benches --bin ward-bench -- [ARGS]` (make bench-report runs it with every baseline)"
    )
}
