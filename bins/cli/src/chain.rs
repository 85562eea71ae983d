//! Commands on a data directory: `ward deploy`, `ward call`, `ward query`,
//! `ward receipt`, `ward state`. Each is one process; the state lives in
//! the directory's redb store between them.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::{Context, bail};
use clap::Args;
use serde_json::Value;
use ward_chain::{
    CodeKind,
    tx::{Deploy, Payload},
};
use ward_executor::{Executor, Tx};
use ward_state::{Address, Hash32, RedbStore, StateRead};

use ward_chain::schema::{Schema, Type};
use ward_node::decode::{Called, Schemas};
use ward_text::{parse, values};

use crate::common::{Access, Common, Payment, Sender, address, open};
use crate::evm::AbiCall;
use crate::print::{Show, print_receipt, receipt_json};

/// The commands that read: `ward query`, `ward receipt`, `ward state`,
/// `ward methods` (they build on this module's call input and schemas).
pub(crate) mod read;

/// `ward deploy FILE`.
#[derive(Args, Debug)]
pub(crate) struct DeployArgs {
    /// The module: `.wasm` or `.wat`.
    file: PathBuf,
    /// Input to the `deploy` entry point, as hex.
    #[arg(long, default_value = "0x", conflicts_with_all = ["arg", "json_args", "input_file"])]
    input: String,
    /// Read the `deploy` entry point's input from a file (raw bytes).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["arg", "json_args"])]
    input_file: Option<PathBuf>,
    /// An argument of `init` (SDK contracts), as TYPE:VALUE (repeatable):
    /// u8..u128, i32..i128, bool, address, str, bytes (hex), raw (hex).
    #[arg(long = "arg", value_name = "TYPE:VALUE", conflicts_with = "json_args")]
    arg: Vec<String>,
    /// `init`'s arguments as a JSON object by name, encoded with the
    /// module's schema (or `@FILE` to read the JSON from a file).
    #[arg(long, value_name = "JSON|@FILE")]
    json_args: Option<String>,
    /// Gas limit (default 100000000; a deploy pays for its bytes first:
    /// see docs/gas.md), or `auto`: the least that does the same as the
    /// most, found by simulation, plus a margin of 10 %.
    #[arg(long, value_parser = parse::gas_or_auto)]
    gas: Option<parse::GasArg>,
    /// Salt, as hex: deploys of the same code by the same sender need
    /// different salts.
    #[arg(long, default_value = "0x")]
    salt: String,
    /// Who may upgrade the contract (`ward upgrade`) and change this
    /// (`ward set-admin`); without it the contract is immutable.
    #[arg(long, value_name = "ADDRESS")]
    admin: Option<String>,
    #[command(flatten)]
    from: Sender,
    /// Deploy a WASI command (`docs/wasi.md`): calls run `_start` with the
    /// input as stdin and the output from stdout; nothing runs at deploy.
    #[arg(long, conflicts_with_all = ["arg", "json_args", "runtime"])]
    wasi: bool,
    /// Deploy a WASI reactor (`docs/wasi.md`): its exports are its methods,
    /// a call's input naming one (the name, a NUL byte, then the method's
    /// input), `_initialize` run before each; nothing runs at deploy.
    #[arg(long, conflicts_with_all = ["arg", "json_args", "runtime", "wasi"])]
    wasi_reactor: bool,
    /// Deploy for the system runtime registered under NAME
    /// (`docs/runtimes.md`): FILE is its code, not Wasm (for `evm`, the
    /// creation bytecode, as raw bytes or as the hex text solc writes; the
    /// input is appended to it).
    #[arg(long, value_name = "NAME", conflicts_with = "arg")]
    runtime: Option<String>,
    /// An EVM contract's ABI JSON (solc's `.abi`): `--json-args` are the
    /// constructor's arguments (a JSON array, or an object by name).
    #[arg(
        long,
        value_name = "FILE",
        requires = "runtime",
        conflicts_with = "input"
    )]
    abi: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) payment: Payment,
    #[command(flatten)]
    common: Common,
}

/// `ward call ADDR` and `ward query ADDR`.
#[derive(Args, Debug)]
pub(crate) struct CallArgs {
    /// The contract's address.
    address: String,
    /// Input to `main`, as hex.
    #[arg(long, default_value = "0x", conflicts_with_all = ["method", "input_file"])]
    input: String,
    /// Read `main`'s input from a file (raw bytes): for inputs too large
    /// for a command line.
    #[arg(long, value_name = "PATH", conflicts_with = "method")]
    input_file: Option<PathBuf>,
    /// The method to call (SDK contracts): the input becomes the method's
    /// name and the `--arg`s in the contract codec.
    #[arg(long)]
    method: Option<String>,
    /// An argument of the method, as TYPE:VALUE (repeatable): u8..u128,
    /// i32..i128, bool, address, str, bytes (hex), raw (hex).
    #[arg(
        long = "arg",
        value_name = "TYPE:VALUE",
        requires = "method",
        conflicts_with = "json_args"
    )]
    arg: Vec<String>,
    /// The method's arguments as a JSON object by name, encoded with the
    /// contract's schema (or `@FILE` to read the JSON from a file).
    #[arg(long, value_name = "JSON|@FILE", requires = "method")]
    json_args: Option<String>,
    /// Show the output decoded as TYPE (a schema type: u8..u128, i8..i128,
    /// bool, address, str, bytes, vec<T>, option<T>, (T, ...), [u8; N]),
    /// instead of by the contract's schema.
    #[arg(long, value_name = "TYPE")]
    decode: Option<Type>,
    /// An EVM contract's ABI JSON (solc's `.abi`): `--method` and
    /// `--json-args` (a JSON array, or an object by name) are encoded with
    /// it, and the output, a revert and the events are decoded.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["arg", "decode"])]
    abi: Option<PathBuf>,
    /// Gas limit (default 10000000), or `auto` (`ward call`): the least
    /// that does the same as the most, found by simulation, plus a margin
    /// of 10 %.
    #[arg(long, value_parser = parse::gas_or_auto)]
    gas: Option<parse::GasArg>,
    /// `ward call`: after the receipt, print the transaction's trace (as
    /// `ward trace` does).
    #[arg(long)]
    trace: bool,
    #[command(flatten)]
    from: Sender,
    #[command(flatten)]
    pub(crate) payment: Payment,
    #[command(flatten)]
    common: Common,
}

/// The next block's time: one second after the last block's, so that runs
/// are reproducible (no wall clock enters the state).
fn next_time(exec: &Executor<RedbStore>) -> anyhow::Result<u64> {
    let store = exec.store();
    let height = store.height()?;
    Ok(store.block(height)?.map_or(1, |b| b.header.time + 1))
}

/// Executes `tx` alone in the next block and prints its receipt.
pub(crate) fn submit(
    exec: &Executor<RedbStore>,
    tx: Tx,
    common: &Common,
    (decode, abi): (Option<&Type>, Option<&AbiCall>),
) -> anyhow::Result<(ExitCode, Hash32)> {
    let time = next_time(exec)?;
    let receipts = exec.execute_block(std::slice::from_ref(&tx), time)?;
    let receipt = &receipts[0];
    let called = match &tx.payload {
        ward_executor::Payload::Call { to, input } => Some(Called { to, input }),
        ward_executor::Payload::Deploy(_) | ward_executor::Payload::Admin { .. } => None,
    };
    let object = receipt_json(&**exec.store(), receipt, called, None);
    let code = print_receipt(
        receipt,
        object,
        &Show {
            backend: Some(common.backend),
            json: common.json,
            committed: true,
            decode,
            abi,
        },
    );
    Ok((code, receipt.tx))
}

/// `--json-args`: JSON text, or `@FILE`.
fn json_args(text: &str) -> anyhow::Result<Value> {
    let (source, text) = match text.strip_prefix('@') {
        Some(path) => {
            let bytes = crate::read_file(Path::new(path))?;
            let text = String::from_utf8(bytes).with_context(|| format!("{path} is not UTF-8"))?;
            (path.to_owned(), text)
        }
        None => ("--json-args".to_owned(), text.to_owned()),
    };
    serde_json::from_str(&text).with_context(|| format!("{source} is not JSON"))
}

/// The input of `ward call` / `ward query`: hex, a method and its `--arg`s,
/// or a method and its `--json-args` encoded with the schema that
/// `schema` finds for the contract.
pub(super) fn call_input(
    args: &CallArgs,
    schema: impl FnOnce() -> anyhow::Result<Option<Schema>>,
) -> anyhow::Result<(Vec<u8>, Option<AbiCall>)> {
    if let Some(path) = &args.abi {
        let mut abi = AbiCall::load(path)?;
        let Some(method) = &args.method else {
            bail!("--abi needs --method");
        };
        let value = args.json_args.as_deref().map(json_args).transpose()?;
        let input = abi.call_input(method, value.as_ref())?;
        return Ok((input, Some(abi)));
    }
    let input = match (&args.method, &args.json_args) {
        (Some(method), Some(text)) => {
            let value = json_args(text)?;
            let Some(schema) = schema()? else {
                bail!(
                    "the contract at {} has no schema: pass --arg TYPE:VALUE or --input",
                    args.address
                );
            };
            Ok(schema.encode_call(method, &value)?)
        }
        (Some(method), None) => values::call_input(method, &args.arg),
        (None, _) => raw_input(&args.input, args.input_file.as_deref()),
    }?;
    Ok((input, None))
}

/// The input `--input-file` names (read as raw bytes), else `--input`'s hex.
pub(crate) fn raw_input(hex: &str, file: Option<&std::path::Path>) -> anyhow::Result<Vec<u8>> {
    match file {
        Some(path) => crate::read_file(path),
        None => Ok(parse::hex_bytes(hex)?),
    }
}

/// The schema of the contract at `at` in a local state.
pub(super) fn local_schema<S: StateRead + ?Sized>(
    state: &S,
    at: &Address,
) -> anyhow::Result<Option<Schema>> {
    if state.contract(at)?.is_none() {
        bail!("no contract at {at}");
    }
    Ok(Schemas::new().at(state, at)?.map(|s| (*s).clone()))
}

/// `ward deploy`'s gas limit when `--gas` is not given.
pub(crate) const DEFAULT_DEPLOY_GAS: u64 = 100_000_000;

/// `ward call`'s and `ward query`'s gas limit when `--gas` is not given.
pub(crate) const DEFAULT_CALL_GAS: u64 = 10_000_000;

/// `--gas`: the limit (the default noted), or `None` for `auto`.
pub(crate) fn gas_choice(gas: Option<parse::GasArg>, default: u64) -> Option<u64> {
    match gas {
        Some(parse::GasArg::Auto) => None,
        Some(parse::GasArg::Limit(gas)) => Some(gas),
        None => Some(crate::gas_or_default(None, default)),
    }
}

/// `--gas auto` on a data directory: the executor's estimate for `tx`
/// as the next block's, plus the node's margin.
pub(crate) fn estimate_local(exec: &Executor<RedbStore>, tx: &Tx) -> anyhow::Result<u64> {
    let time = next_time(exec)?;
    let max = ward_executor::ChainLimits::default().max_tx_gas;
    match exec.estimate_gas(tx, time, max)? {
        Ok(estimate) => Ok(with_margin(estimate.gas)),
        Err(receipt) => bail!(
            "nothing to estimate: it does not succeed even with {max} gas ({}{})",
            receipt.status,
            receipt
                .error_message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ),
    }
}

/// An estimate with `estimateGas`'s margin, noted on stderr.
pub(crate) fn with_margin(needed: u64) -> u64 {
    let margin = ward_node::ESTIMATE_MARGIN_PERCENT;
    let gas = needed.saturating_add(needed / 100 * margin + needed % 100 * margin / 100);
    eprintln!("gas: auto, {gas} ({needed} needed, plus {margin} %)");
    gas
}

/// Sets a transaction's gas limit.
pub(crate) fn with_gas(mut tx: Tx, gas: u64) -> Tx {
    tx.gas_limit = gas;
    tx
}

pub(crate) fn deploy(args: DeployArgs) -> anyhow::Result<ExitCode> {
    let gas = gas_choice(args.gas, DEFAULT_DEPLOY_GAS);
    let bytes = crate::read_file(&args.file)?;
    let abi = args.abi.as_deref().map(AbiCall::load).transpose()?;
    let (code, input) = match &args.runtime {
        Some(_) => runtime_deploy(&args, &bytes, abi.as_ref())?,
        None => wasm_deploy(&args, &bytes)?,
    };
    let salt = parse::hex_bytes(&args.salt)?;
    let admin = args.admin.as_deref().map(address).transpose()?;
    let kind = match &args.runtime {
        Some(name) => runtime_kind(name)?,
        None if args.wasi => CodeKind::Wasi,
        None if args.wasi_reactor => CodeKind::WasiReactor,
        None => CodeKind::Ward,
    };
    if let Some(url) = &args.common.node {
        let payload = Payload::Deploy(
            Deploy::new(code, input)
                .with_salt(salt)
                .with_kind(kind)
                .with_admin(admin),
        );
        let signer = args.from.signer()?;
        return crate::remote::submit(
            url,
            (payload, gas, &args.payment),
            signer,
            &args.common,
            (None, abi.as_ref()),
        )
        .map(|(code, _)| code);
    }
    let tx = Tx {
        sender: args.from.local()?,
        gas_limit: gas.unwrap_or(0),
        value: args.payment.local_value()?,
        payload: Payload::Deploy(
            Deploy::new(code, input)
                .with_salt(salt)
                .with_kind(kind)
                .with_admin(admin),
        ),
    };
    // Arguments first: a refused command creates nothing.
    let exec = open(&args.common, Access::Create)?;
    let tx = match gas {
        Some(_) => tx,
        None => {
            let gas = estimate_local(&exec, &tx)?;
            with_gas(tx, gas)
        }
    };
    submit(&exec, tx, &args.common, (None, abi.as_ref())).map(|(code, _)| code)
}

/// The kind `--runtime NAME` names.
fn runtime_kind(name: &str) -> anyhow::Result<CodeKind> {
    match CodeKind::parse(name) {
        Some(kind @ CodeKind::Runtime(_)) => Ok(kind),
        _ => bail!(
            "`{name}` is not a runtime's name (1 to 16 of a-z, 0-9 and -, starting with a letter; not ward, wasi or wasi-reactor)"
        ),
    }
}

/// A Wasm deploy's code and input.
fn wasm_deploy(args: &DeployArgs, bytes: &[u8]) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    // Text that does not parse never becomes a transaction: the error names
    // the line and column. A `.wasm` file (or anything starting `\0asm`) is
    // deployed as it is, and the chain judges it.
    let code = crate::module_bytes(&args.file, bytes)
        .map_err(|failure| anyhow::anyhow!("{}: {}", args.file.display(), failure.message))?
        .into_owned();
    let input = match &args.json_args {
        Some(text) => {
            let value = json_args(text)?;
            let schema = Schema::from_module(&code)
                .with_context(|| format!("{}: invalid schema", args.file.display()))?
                .with_context(|| {
                    format!(
                        "{} has no schema: pass --arg TYPE:VALUE or --input",
                        args.file.display()
                    )
                })?;
            schema.encode_init(&value)?
        }
        None if args.arg.is_empty() => raw_input(&args.input, args.input_file.as_deref())?,
        None => values::args_input(&args.arg)?,
    };
    Ok((code, input))
}

/// A runtime deploy's code (raw, or the hex text solc writes) and input
/// (`--input`, or the constructor's `--json-args` encoded by `--abi`).
fn runtime_deploy(
    args: &DeployArgs,
    bytes: &[u8],
    abi: Option<&AbiCall>,
) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let code = crate::evm::creation_code(bytes);
    let input = match (abi, &args.json_args) {
        (Some(abi), json) => {
            let value = json.as_deref().map(json_args).transpose()?;
            abi.constructor_input(value.as_ref())?
        }
        (None, Some(_)) => bail!("--json-args for a runtime's contract needs --abi"),
        (None, None) => raw_input(&args.input, args.input_file.as_deref())?,
    };
    Ok((code, input))
}

pub(crate) fn call(args: CallArgs) -> anyhow::Result<ExitCode> {
    let gas = gas_choice(args.gas, DEFAULT_CALL_GAS);
    let to = address(&args.address)?;
    let (code, tx) = if let Some(url) = &args.common.node {
        let (input, abi) = call_input(&args, || crate::remote::schema(url, &to))?;
        let payload = Payload::Call { to, input };
        let signer = args.from.signer()?;
        crate::remote::submit(
            url,
            (payload, gas, &args.payment),
            signer,
            &args.common,
            (args.decode.as_ref(), abi.as_ref()),
        )?
    } else {
        let sender = args.from.local()?;
        let exec = open(&args.common, Access::Write)?;
        let (input, abi) = call_input(&args, || local_schema(&**exec.store(), &to))?;
        let tx = Tx {
            sender,
            gas_limit: gas.unwrap_or(0),
            value: args.payment.local_value()?,
            payload: Payload::Call { to, input },
        };
        let tx = match gas {
            Some(_) => tx,
            None => {
                let gas = estimate_local(&exec, &tx)?;
                with_gas(tx, gas)
            }
        };
        let done = submit(
            &exec,
            tx,
            &args.common,
            (args.decode.as_ref(), abi.as_ref()),
        )?;
        // The trace reopens the directory read-only.
        drop(exec);
        done
    };
    if args.trace {
        crate::trace::show(&args.common, tx, &crate::trace::ProfileArgs::default())?;
    }
    Ok(code)
}
