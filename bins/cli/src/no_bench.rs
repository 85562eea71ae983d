//! `ward bench` in a build without the benchmark suite (the `bench`
//! feature, off by default: the suite links the raw engines, revm and
//! the test kits, which the product does not need). It says how to get
//! one.

use std::process::ExitCode;

use clap::Args;

/// Whatever `ward bench` was given: this build runs none of it.
#[derive(Args, Debug)]
pub(crate) struct BenchArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

pub(crate) fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let _ = args.rest;
    anyhow::bail!(
        "this `ward` was built without its benchmark suite: `make bench-report` builds one with it (cargo build --release -p ward-cli --features bench)"
    )
}
