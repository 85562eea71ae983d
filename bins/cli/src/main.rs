//! `ward`: Ward's command-line tool.
//!
//! `ward run FILE` runs a module's entry point (or any export with
//! `--invoke`) in a fresh sandbox on either backend and prints the typed
//! outcome: human-readable by default, one JSON object on stdout's last line
//! with `--json`. `ward inspect FILE` validates and describes a module.
//! Exit codes: 0 when the status is `ok` (or the module is valid), 1 for any
//! other outcome, 2 for usage, I/O and store errors (with `--json`, stdout's
//! last line is then `{"status": "error", "error": {"kind", "message"}}`,
//! `kind` one of `usage`, `io`, `store`, `node`, `internal`).

use std::process::ExitCode;

use anyhow::Context;

use clap::{Parser, Subcommand};

/// The binary's allocator: a pipelined block's allocations are freed on
/// the committer thread, which glibc's arenas serialise (ARCHITECTURE.md
/// has the A/B figures, beside the executor's `Pipeline`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod author;
mod backends;
mod backup;
mod bench;
mod chain;
mod common;
mod compile;
mod demo;
mod evm;
mod inspect;
mod key;
mod money;
mod print;
mod remote;
mod run;
mod serve;
mod snapshot;
mod trace;
mod upgrade;
mod verify;

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
    /// Write a new contract crate: the SDK, a contract with a method, an
    /// event and a read-only method, a test on ward-test, a README.
    New(author::NewArgs),
    /// Build the contract crate here for wasm32, check the module as a
    /// deploy would, and print its size, schema and path.
    Build(author::BuildArgs),
    /// Validate a module and report its imports, exports, features, sizes
    /// against each limit and instrumented size, or the exact rejection.
    Inspect(inspect::InspectArgs),
    /// Compile a module ahead of time into a checked artifact (FILE.cwasm)
    /// a node's disk cache loads without compiling.
    Compile(compile::CompileArgs),
    /// Moved: the benchmark suite is `ward-bench` (says how to run it).
    #[command(hide = true)]
    Bench(bench::BenchArgs),
    /// Deploy a contract into the data directory's state; prints its address.
    Deploy(chain::DeployArgs),
    /// Call a contract's `main` in a new block; prints the receipt.
    Call(chain::CallArgs),
    /// Replace a contract's code as its admin, running the new code's
    /// `migrate`; the address, storage and balance stay.
    Upgrade(upgrade::UpgradeArgs),
    /// Hand a contract's admin to another address, or drop it (`none`).
    SetAdmin(upgrade::SetAdminArgs),
    /// Run a contract's `main` read-only on the committed state; commits nothing.
    Query(chain::CallArgs),
    /// Print a stored receipt.
    Receipt(chain::read::ReceiptArgs),
    /// Replay a committed transaction on its block's parent state and
    /// print its frames: contracts, methods, gas, reads, writes, events.
    Trace(trace::TraceArgs),
    /// Print a contract and its storage (or one key).
    State(chain::read::StateArgs),
    /// List a deployed contract's constructor, methods and events with
    /// their signatures, from its schema.
    Methods(chain::read::MethodsArgs),
    /// Ward's main job on its embedded defaults: deploy the SDK-built token
    /// and escrow into an empty data directory, run a block of transfers,
    /// escrow deposits and releases and a failing transfer, query, re-open.
    Demo(demo::DemoArgs),
    /// Run a node: signed transactions over JSON-RPC, blocks with a
    /// provable state root, WebSocket subscriptions, metrics.
    Serve(serve::ServeArgs),
    /// Create or show Ed25519 key files that sign transactions.
    Key(key::KeyArgs),
    /// Check a node's `getStorage` or `getBalance` answer (JSON, from FILE
    /// or stdin) against a state root: exit 0 when the proof holds, 1 when
    /// not.
    VerifyProof(verify::VerifyArgs),
    /// Write a chain's genesis (its id, native asset, starting balances,
    /// minimum gas price, fee collector) for `ward serve --genesis`.
    Genesis(money::GenesisArgs),
    /// Print an account's or contract's balance of the native asset.
    Balance(money::BalanceArgs),
    /// Move native asset to an account (or a contract) in a transaction.
    Transfer(money::TransferArgs),
    /// Write the state after a block as a snapshot (chunks that each
    /// verify against the block's state root), or restore one into a new
    /// data directory.
    Snapshot(snapshot::SnapshotArgs),
    /// Copy a chain's store consistently: from a running node (into its
    /// --backup-dir) or from a data directory; a node starts from the copy.
    Backup(backup::BackupArgs),
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
    let invalid = |message: String| ward_vm::Failure::new(ward_vm::ErrorKind::InvalidWasm, message);
    let text = std::str::from_utf8(bytes).map_err(|_| {
        invalid(
            "neither a wasm binary (it does not start with `\\0asm`) nor WAT text (it is not UTF-8)"
                .to_owned(),
        )
    })?;
    wat::parse_str(text)
        .map(std::borrow::Cow::Owned)
        .map_err(|mut e| {
            e.set_path(path);
            invalid(e.to_string())
        })
}

/// The default gas limit a command used because `--gas` was not given.
static DEFAULT_GAS_USED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// `--gas`'s value, or `default` (remembered, so that running out of gas
/// can say which limit was used and how to choose another).
pub(crate) fn gas_or_default(gas: Option<u64>, default: u64) -> u64 {
    gas.unwrap_or_else(|| *DEFAULT_GAS_USED.get_or_init(|| default))
}

/// After an `out_of_gas` outcome: when the limit was the command's
/// default, a note on stderr saying so and how to choose another.
pub(crate) fn note_default_gas() {
    if let Some(default) = DEFAULT_GAS_USED.get() {
        eprintln!(
            "note: out of gas at the default limit of {default}; choose another with --gas N, or estimate with --gas auto (a transaction may have at most {})",
            ward_executor::ChainLimits::default().max_tx_gas
        );
    }
}

/// The longest path an error message shows whole.
const SHOWN_PATH_CHARS: usize = 120;

/// `path` as an error names it: whole when short, else its start and its
/// length; and when it looks like bytes rather than a path (hex, WAT
/// text), which flag takes those.
pub(crate) fn path_hint(path: &std::path::Path) -> String {
    let text = path.to_string_lossy();
    let chars = text.chars().count();
    let shown = if chars <= SHOWN_PATH_CHARS {
        text.to_string()
    } else {
        let start: String = text.chars().take(40).collect();
        format!("{start}… (a path of {chars} characters)")
    };
    let trimmed = text.trim_start();
    let hex = trimmed
        .strip_prefix("0x")
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_hexdigit()));
    if hex {
        format!(
            "{shown}: that looks like hex bytes, not a path (`--input 0x…` takes hex; a FILE or `--input-file` names a file)"
        )
    } else if trimmed.starts_with("(module") || trimmed.starts_with("(component") {
        format!(
            "{shown}: that looks like WAT text, not a path (write it to a .wat file and name the file)"
        )
    } else {
        shown
    }
}

/// The most `ward` reads from one file (a module, its text, an input): far
/// above anything a chain accepts, far below what would exhaust memory.
/// `/dev/zero` or a stray disk image is refused, not read to the end.
pub(crate) const MAX_FILE_BYTES: u64 = 64 << 20;

/// Reads `path`, refusing files larger than [`MAX_FILE_BYTES`]; errors
/// name the file.
pub(crate) fn read_file(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let cannot = || format!("cannot read {}", path_hint(path));
    let file = std::fs::File::open(path).with_context(cannot)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(cannot)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        anyhow::bail!(
            "{} is larger than {} MiB, the most `ward` reads from a file",
            path_hint(path),
            MAX_FILE_BYTES >> 20
        );
    }
    Ok(bytes)
}

/// The status of a command whose reader closed its output early (`ward …
/// | head -1`): what a program killed by SIGPIPE reports, 128 + 13.
const CLOSED_PIPE: i32 = 141;

/// Rust ignores SIGPIPE, so printing to a closed pipe panics; such a
/// panic ends `ward` quietly with [`CLOSED_PIPE`] instead of a backtrace.
/// Every other panic goes to the default hook.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(CLOSED_PIPE);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    // Scripts that ask for JSON get it for every error too, clap's included.
    let json = std::env::args_os().any(|a| a == "--json");
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if json && err.use_stderr() => {
            let message = err.kind().to_string();
            eprint!("{err}");
            print_error("usage", &message);
            return ExitCode::from(2);
        }
        Err(err) => err.exit(),
    };
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Inspect(args) => inspect::inspect(args),
        Command::New(args) => author::new(args),
        Command::Build(args) => author::build(args),
        Command::Bench(args) => bench::bench(args),
        Command::Compile(args) => compile::compile(args),
        Command::Deploy(args) => chain::deploy(args),
        Command::Call(args) => chain::call(args),
        Command::Upgrade(args) => upgrade::upgrade(args),
        Command::SetAdmin(args) => upgrade::set_admin(args),
        Command::Query(args) => chain::read::query(args),
        Command::Receipt(args) => chain::read::receipt(args),
        Command::Trace(args) => trace::trace(args),
        Command::State(args) => chain::read::state(args),
        Command::Methods(args) => chain::read::methods(args),
        Command::Demo(args) => demo::demo(args),
        Command::Serve(args) => serve::serve(args),
        Command::Key(args) => key::key(args),
        Command::VerifyProof(args) => verify::verify(args),
        Command::Genesis(args) => money::genesis(args),
        Command::Balance(args) => money::balance(args),
        Command::Transfer(args) => money::transfer(args),
        Command::Snapshot(args) => snapshot::snapshot(args),
        Command::Backup(args) => backup::backup(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            if json {
                print_error(error_kind(&err), &format!("{err:#}"));
            }
            ExitCode::from(2)
        }
    }
}

/// What kind of error ended a command: `store` when the data directory's
/// state failed, `io` when a file could not be read, `usage` for anything
/// the command line asked for that cannot be done.
fn error_kind(err: &anyhow::Error) -> &'static str {
    for cause in err.chain() {
        if let Some(client) = cause.downcast_ref::<ward_rpc::client::ClientError>() {
            return match client {
                ward_rpc::client::ClientError::Unreachable { .. } => "io",
                ward_rpc::client::ClientError::Url(_) => "usage",
                _ => "node",
            };
        }
        if cause.is::<ward_state::StateError>() {
            return "store";
        }
        if let Some(snapshot) = cause.downcast_ref::<ward_snapshot::SnapshotError>() {
            return match snapshot {
                ward_snapshot::SnapshotError::State(_) => "store",
                ward_snapshot::SnapshotError::Io { .. } => "io",
                ward_snapshot::SnapshotError::Manifest(_)
                | ward_snapshot::SnapshotError::Chunk { .. } => "invalid_snapshot",
                ward_snapshot::SnapshotError::Untrusted(_) => "untrusted_snapshot",
                ward_snapshot::SnapshotError::Refused(_) => "usage",
            };
        }
        if let Some(exec) = cause.downcast_ref::<ward_executor::ExecError>() {
            match exec {
                ward_executor::ExecError::State(_) => return "store",
                ward_executor::ExecError::Fault(fault) => {
                    return match fault.kind() {
                        ward_vm::FaultKind::Storage | ward_vm::FaultKind::Corruption => "store",
                        _ => "internal",
                    };
                }
                _ => return "usage",
            }
        }
        if cause.is::<std::io::Error>() {
            return "io";
        }
    }
    "usage"
}

/// The `--json` form of an error: one object on stdout's last line.
fn print_error(kind: &str, message: &str) {
    let object = serde_json::json!({
        "status": "error",
        "error": {"kind": kind, "message": message},
    });
    println!("{object}");
}
