//! `ward compile`: a module compiled ahead of time into a file a node's
//! disk cache loads without compiling (`wasmtime compile`'s counterpart;
//! docs/node.md, "Operations").

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::Args;
use ward_vm::{CacheOptions, ModuleCache};

/// Arguments of `ward compile`.
#[derive(Args, Debug)]
pub(crate) struct CompileArgs {
    /// The module: a `.wasm` binary or `.wat` text.
    file: PathBuf,
    /// Where to write the artifact. Dropped into a node's `DATA_DIR/cache`
    /// as `NAME.cwasm`, it is checked and imported when the node starts.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
}

pub(crate) fn compile(args: CompileArgs) -> anyhow::Result<ExitCode> {
    let bytes = crate::read_file(&args.file)?;
    let wasm = match crate::module_bytes(&args.file, &bytes) {
        Ok(wasm) => wasm,
        Err(failure) => return refused(&args.file, &failure),
    };
    // A node's contract config on wasmtime: the only engine with machine
    // code to keep (tier-up changes no artifact).
    let config = ward_node::contract_config(false);
    let backend = crate::backends::create(ward_vm::BackendKind::Wasmtime, &config)
        .map_err(|f| anyhow::anyhow!("wasmtime: {}", f.message))?;
    let cache =
        ModuleCache::new(backend, &config, CacheOptions::default()).context("the module cache")?;
    let artifact = match cache.artifact(&wasm) {
        Ok(artifact) => artifact,
        Err(failure) => return refused(&args.file, &failure),
    };
    // Through a temporary file: a node never sees half an artifact.
    let temp = args.output.with_extension("cwasm.partial");
    std::fs::write(&temp, &artifact)
        .and_then(|()| std::fs::rename(&temp, &args.output))
        .with_context(|| format!("writing {}", args.output.display()))?;
    println!(
        "{}: {} bytes of compiled code for code hash {} (wasmtime, a node's contract config)",
        args.output.display(),
        artifact.len(),
        ward_vm::CodeHash::of(&wasm)
    );
    Ok(ExitCode::SUCCESS)
}

fn refused(file: &std::path::Path, failure: &ward_vm::Failure) -> anyhow::Result<ExitCode> {
    eprintln!(
        "{}: rejected: {} ({})",
        file.display(),
        failure.kind,
        failure.message
    );
    Ok(ExitCode::from(1))
}
