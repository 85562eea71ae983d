//! `ward new` and `ward build`: a contract crate from nothing, and its
//! module built, checked and described.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::{Context, bail};
use clap::Args;
use serde_json::json;

/// Arguments of `ward new`.
#[derive(Args, Debug)]
pub(crate) struct NewArgs {
    /// The crate's name (lowercase letters, digits, `-` and `_`, starting
    /// with a letter); also its directory's, unless --path says otherwise.
    name: String,
    /// Where to write the crate (default: ./NAME); it must not exist, or
    /// be an empty directory.
    #[arg(long)]
    path: Option<PathBuf>,
    /// Ward's source tree, whose `sdk` and `crates/test` the crate depends
    /// on (default: $WARD_SOURCE, else the tree this `ward` was built
    /// from).
    #[arg(long, env = "WARD_SOURCE", value_name = "DIR")]
    ward_source: Option<PathBuf>,
    /// The contract's ABI: `ward` (Ward's codec and schema) or `solidity`
    /// (selectors, logs and revert data as Solidity's, which Ethereum tools
    /// call).
    #[arg(long, default_value = "ward", value_parser = ["ward", "solidity"])]
    abi: String,
}

/// Arguments of `ward build`.
#[derive(Args, Debug)]
pub(crate) struct BuildArgs {
    /// The contract crate's directory.
    #[arg(long, default_value = ".")]
    path: PathBuf,
    /// The cargo profile: `release`, or `debug-info` (the same code with
    /// function names and line tables, for backtraces).
    #[arg(long, default_value = "release")]
    profile: String,
    /// Pass --offline to cargo.
    #[arg(long)]
    offline: bool,
    /// Pass --locked to cargo.
    #[arg(long)]
    locked: bool,
    /// Print one JSON object on stdout's last line.
    #[arg(long)]
    json: bool,
}

/// The files `ward new` writes: path in the crate, template.
const TEMPLATE: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../templates/new/Cargo.toml")),
    (
        ".cargo/config.toml",
        include_str!("../templates/new/config.toml"),
    ),
    ("src/lib.rs", include_str!("../templates/new/lib.rs")),
    (
        "tests/{{crate}}.rs",
        include_str!("../templates/new/test.rs"),
    ),
    ("README.md", include_str!("../templates/new/README.md")),
    (".gitignore", include_str!("../templates/new/gitignore")),
    // The versions of every dependency Ward's own contracts are tested
    // with: a new crate builds with them offline, and cargo keeps the
    // ones it needs.
    ("Cargo.lock", include_str!("../../../contracts/Cargo.lock")),
];

/// `ward new --abi solidity`'s contract, its tests and its README, in
/// place of [`TEMPLATE`]'s.
const SOLIDITY_LIB: &str = include_str!("../templates/new/sol_lib.rs");
const SOLIDITY_TEST: &str = include_str!("../templates/new/sol_test.rs");
const SOLIDITY_README: &str = include_str!("../templates/new/sol_README.md");

/// The source tree this `ward` was built from.
const BUILT_FROM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

pub(crate) fn new(args: NewArgs) -> anyhow::Result<ExitCode> {
    let name = args.name.as_str();
    check_name(name)?;
    let ward = ward_source(args.ward_source.as_deref())?;
    let dir = args.path.unwrap_or_else(|| PathBuf::from(name));
    if dir.exists() {
        let empty = dir.is_dir() && std::fs::read_dir(&dir)?.next().is_none();
        if !empty {
            bail!("{} exists and is not an empty directory", dir.display());
        }
    }
    let krate = name.replace('-', "_");
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{crate}}", &krate)
            .replace("{{ward}}", &ward.display().to_string())
    };
    let solidity = args.abi == "solidity";
    for &(path, text) in TEMPLATE {
        let text = match (solidity, path) {
            (true, "src/lib.rs") => SOLIDITY_LIB,
            (true, "tests/{{crate}}.rs") => SOLIDITY_TEST,
            (true, "README.md") => SOLIDITY_README,
            _ => text,
        };
        let path = dir.join(fill(path));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, fill(text))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "created a Ward contract (crate {name}) in {}",
        dir.display()
    );
    println!("  cargo test      run its tests on an in-process chain");
    println!("  ward build      build its module for wasm32 and check it");
    Ok(ExitCode::SUCCESS)
}

/// A name cargo takes as a package name, and that `{{crate}}` can be made
/// of.
fn check_name(name: &str) -> anyhow::Result<()> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !first_ok || !rest_ok || name.len() > 64 {
        bail!(
            "{name:?} is not a crate name: lowercase letters, digits, `-` and `_`, starting with a letter, at most 64"
        );
    }
    if ["test", "std", "core", "alloc", "ward-sdk", "ward-test"].contains(&name) {
        bail!("{name:?} is taken by a crate the contract depends on");
    }
    Ok(())
}

/// Ward's source tree: where `sdk/Cargo.toml` and `crates/test` are.
fn ward_source(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let candidate = given.map_or_else(|| PathBuf::from(BUILT_FROM), Path::to_path_buf);
    let found = candidate.join("sdk/Cargo.toml").is_file()
        && candidate.join("crates/test/Cargo.toml").is_file();
    if !found {
        bail!(
            "{} is not Ward's source tree (no sdk/Cargo.toml and crates/test/Cargo.toml): name it with --ward-source DIR or WARD_SOURCE",
            candidate.display()
        );
    }
    candidate
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", candidate.display()))
}

pub(crate) fn build(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let options = ward_build::Options {
        profile: args.profile.clone(),
        target_dir: None,
        locked: args.locked,
        offline: args.offline,
        quiet: false,
    };
    let built = ward_build::build(&args.path, &options)?;
    let bytes = crate::read_file(&built.wasm)?;
    match crate::inspect::check(&built.wasm, &bytes) {
        Ok((report, schema)) => {
            let solidity = write_solidity_files(&built, &bytes)?;
            if args.json {
                println!(
                    "{}",
                    json!({
                        "package": built.package,
                        "wasm": built.wasm,
                        "profile": args.profile,
                        "toolchain": built.route.as_str(),
                        "bytes": report.module_bytes,
                        "instrumented_bytes": report.instrumented_bytes,
                        "schema": schema.as_ref().map(ward_chain::schema::Schema::to_json),
                        "abi": solidity.as_ref().map(|f| &f.abi),
                        "interface": solidity.as_ref().map(|f| &f.interface),
                        "bytecode": solidity.as_ref().map(|f| &f.bytecode),
                    })
                );
            } else {
                println!(
                    "built:            {} ({} profile, {} toolchain)",
                    built.package,
                    args.profile,
                    built.route.as_str()
                );
                println!("module:           {}", built.wasm.display());
                if let Some(files) = &solidity {
                    println!("ABI JSON:         {}", files.abi.display());
                    println!("interface:        {}", files.interface.display());
                    println!("bytecode:         {}", files.bytecode.display());
                }
                crate::inspect::print_report(&report, schema.as_ref(), false);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            eprintln!(
                "{} was built but Ward would refuse it: {} ({})",
                built.wasm.display(),
                failure.kind,
                failure.message
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// The files `ward build` writes beside a module of the Solidity ABI.
struct SolidityFiles {
    /// `NAME.abi.json`: the ABI JSON the module carries, as solc writes
    /// `NAME.abi`.
    abi: PathBuf,
    /// `INAME.sol`: a Solidity interface for the contracts that call it.
    interface: PathBuf,
    /// `NAME.bin`: the creation data that deploys the module from an
    /// Ethereum transaction, in `0x` hex as Hardhat's artifacts hold it
    /// (`ward_chain::tx::eth::wasm_creation_code`): ethers' and web3.py's
    /// contract factories append the constructor's arguments to it.
    bytecode: PathBuf,
}

/// For a contract with the Solidity ABI, what Ethereum tools load beside
/// its module ([`SolidityFiles`]). `None` for a contract of Ward's own
/// codec.
fn write_solidity_files(
    built: &ward_build::Built,
    module: &[u8],
) -> anyhow::Result<Option<SolidityFiles>> {
    let Some(json) = ward_chain::schema::solidity_abi(module)? else {
        return Ok(None);
    };
    let abi: alloy_json_abi::JsonAbi = serde_json::from_str(&json)
        .with_context(|| format!("the module's ABI JSON does not parse: {json}"))?;
    let dir = built.wasm.parent().unwrap_or(Path::new("."));
    let name = interface_name(&built.package);
    let interface = format!(
        "// SPDX-License-Identifier: UNLICENSED\n// Generated by `ward build` from {}'s ABI.\npragma solidity ^0.8.0;\n\n{}",
        built.package,
        abi.to_sol(&name, None)
    );
    let files = SolidityFiles {
        abi: dir.join(format!("{}.abi.json", built.package)),
        interface: dir.join(format!("{name}.sol")),
        bytecode: dir.join(format!("{}.bin", built.package)),
    };
    let creation = ward_text::parse::hex(&ward_chain::tx::eth::wasm_creation_code(module));
    for (path, text) in [
        (&files.abi, json),
        (&files.interface, interface),
        (&files.bytecode, creation),
    ] {
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(Some(files))
}

/// The interface's name: `I`, then the package's name in CamelCase
/// (`my-token` is `IMyToken`).
fn interface_name(package: &str) -> String {
    let mut name = String::from("I");
    for part in package.split(['-', '_']).filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.push_str(chars.as_str());
        }
    }
    name
}
