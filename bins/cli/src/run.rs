//! `ward run`.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::{Context, bail};
use clap::Args;
use serde_json::json;
use ward_vm::{
    BackendKind, CallContext, Config, Entry, Execution, Failure, Gas, Reply, RunOptions, Status,
    ValType, Value,
};

use ward_cli::parse::{self, hex};

/// Default gas limit for `ward run`.
const DEFAULT_GAS: u64 = 10_000_000_000;

/// Arguments of `ward run`.
#[derive(Args, Debug)]
pub(crate) struct RunArgs {
    /// The module: a `.wasm` binary or `.wat` text.
    file: PathBuf,
    /// The entry point to run (`[] -> []`, `[] -> [i32]` or `[i32 i32] -> [i32]`).
    #[arg(long, default_value = "main", conflicts_with = "invoke")]
    entry: String,
    /// Call this export instead, with `--args`, and print its results.
    #[arg(long)]
    invoke: Option<String>,
    /// Comma-separated arguments for `--invoke` (integers, floats, or `null`).
    #[arg(
        long,
        requires = "invoke",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    args: Vec<String>,
    /// The call's input, as hex (`0x...`).
    #[arg(long, conflicts_with = "input_file")]
    input: Option<String>,
    /// Read the call's input from a file.
    #[arg(long)]
    input_file: Option<PathBuf>,
    /// Gas limit.
    #[arg(long, default_value_t = DEFAULT_GAS, value_parser = parse::gas_arg)]
    gas: u64,
    /// Largest linear memory, in 64 KiB pages.
    #[arg(long, value_parser = parse::u32_arg)]
    max_memory_pages: Option<u32>,
    /// Wall-clock limit for the call, in milliseconds.
    #[arg(long, value_parser = parse::u64_arg)]
    timeout_ms: Option<u64>,
    /// Engine to run on.
    #[arg(long, default_value = "wasmtime")]
    backend: BackendKind,
    /// Print `debug_log` lines (to stderr).
    #[arg(long)]
    debug_log: bool,
    /// Print one JSON object on stdout's last line.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let bytes = crate::read_file(&args.file)?;
    let input = read_input(&args)?;
    let mut config = Config::default();
    if let Some(pages) = args.max_memory_pages {
        config.policy.limits.max_memory_pages = pages;
    }
    let backend = backend_for(args.backend, &config)?;
    let started = ward_vm::clock::now();
    // An in-memory state for this one call: storage and events work, and
    // vanish with the process.
    let (chain, journal) = ward_executor::scratch_chain();
    let execution = match prepare(&*backend, &config, &bytes, &args) {
        Ok((module, entry)) => {
            let options = RunOptions {
                input,
                gas_limit: Gas::new(args.gas),
                debug_log: args.debug_log,
                timeout: args.timeout_ms.map(Duration::from_millis),
            };
            // `ward run` defines no suspending imports: nothing can ask.
            let mut service = |_| Reply::Trap("no host services in `ward run`".into());
            ward_vm::execute(
                &*backend,
                &module,
                &entry,
                options,
                CallContext::default().with_chain(chain),
                &mut service,
            )
            // The scratch chain is in memory: a fault here is Ward's own.
            .context("the call was aborted by a node fault")?
        }
        Err(Prepared::Rejected(failure)) => Execution::rejected(failure),
        Err(Prepared::Usage(err)) => return Err(err),
    };
    let elapsed = started.elapsed();
    for line in &execution.debug_log {
        eprintln!("[debug_log] {line}");
    }
    let events: Vec<ward_state::Event> = if execution.outcome.status == Status::Ok {
        journal
            .lock()
            .map(|j| j.events().to_vec())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    print_execution(&execution, &events, args.backend, elapsed, args.json);
    Ok(if execution.outcome.status == Status::Ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn backend_for(
    kind: BackendKind,
    config: &Config,
) -> anyhow::Result<std::sync::Arc<dyn ward_vm::Backend>> {
    crate::backends::create(kind, config).map_err(|f| anyhow::anyhow!("cannot start {kind}: {f}"))
}

enum Prepared {
    /// The module was refused: a typed outcome, not a usage error.
    Rejected(Failure),
    /// The command line was wrong.
    Usage(anyhow::Error),
}

fn prepare(
    backend: &dyn ward_vm::Backend,
    config: &Config,
    bytes: &[u8],
    args: &RunArgs,
) -> Result<(ward_vm::Module, Entry), Prepared> {
    let wasm = crate::module_bytes(&args.file, bytes).map_err(Prepared::Rejected)?;
    let module = ward_vm::compile(backend, config, &wasm).map_err(Prepared::Rejected)?;
    let entry = match &args.invoke {
        None => Entry::Main(args.entry.clone()),
        Some(name) => {
            // An export that is missing is reported by the run as
            // `entry_not_found` (whatever `--args` says); arguments are
            // parsed against an export's type.
            let values = match module.export_func(name) {
                Some(ty) => parse_args(&ty.params, &args.args).map_err(Prepared::Usage)?,
                None => Vec::new(),
            };
            Entry::Invoke {
                name: name.clone(),
                args: values,
            }
        }
    };
    Ok((module, entry))
}

fn read_input(args: &RunArgs) -> anyhow::Result<Vec<u8>> {
    if let Some(path) = &args.input_file {
        return crate::read_file(path);
    }
    match &args.input {
        None => Ok(Vec::new()),
        Some(hex) => Ok(parse::hex_bytes(hex)?),
    }
}

fn parse_args(params: &[ValType], args: &[String]) -> anyhow::Result<Vec<Value>> {
    if params.len() != args.len() {
        bail!(
            "the export takes {} argument(s), {} given",
            params.len(),
            args.len()
        );
    }
    params
        .iter()
        .zip(args)
        .map(|(ty, text)| parse_value(*ty, text.trim()))
        .collect()
}

fn parse_value(ty: ValType, text: &str) -> anyhow::Result<Value> {
    Ok(match ty {
        ValType::I32 => Value::I32(parse::wasm_i32(text)?),
        ValType::I64 => Value::I64(parse::wasm_i64(text)?),
        ValType::F32 => Value::F32(parse::float::<f32>(text, "f32")?.to_bits()),
        ValType::F64 => Value::F64(parse::float::<f64>(text, "f64")?.to_bits()),
        ValType::FuncRef if text == "null" => Value::FuncRef { null: true },
        ValType::ExternRef if text == "null" => Value::ExternRef(None),
        ValType::FuncRef | ValType::ExternRef => {
            bail!("`{text}` is not a valid {ty}; only `null` references can be passed")
        }
    })
}

fn print_execution(
    execution: &Execution,
    events: &[ward_state::Event],
    backend: BackendKind,
    elapsed: Duration,
    as_json: bool,
) {
    let outcome = &execution.outcome;
    if as_json {
        let mut object = json!({
            "status": outcome.status.as_str(),
            "exit_code": outcome.exit_code,
            "output": hex(&outcome.output),
            "gas_used": outcome.gas_used.get(),
            "backend": backend.as_str(),
            "error": outcome.error.as_ref().map(|e| json!({"kind": e.kind.as_str(), "message": e.message})),
            "elapsed_us": elapsed.as_micros() as u64,
        });
        if !events.is_empty() {
            object["events"] = events
                .iter()
                .map(|e| json!({"topic": hex(&e.topic), "data": hex(&e.data)}))
                .collect();
        }
        if !execution.results.is_empty() {
            object["results"] = execution
                .results
                .iter()
                .map(|v| json!(v.to_string()))
                .collect();
        }
        println!("{object}");
        return;
    }
    for value in &execution.results {
        println!("{value}");
    }
    println!("status:    {}", outcome.status);
    if let Some(error) = &outcome.error {
        println!("error:     {} ({})", error.kind, error.message);
    }
    println!("exit code: {}", outcome.exit_code);
    let printable = std::str::from_utf8(&outcome.output)
        .ok()
        .filter(|s| !s.is_empty() && s.chars().all(|c| !c.is_control() || c == '\n'));
    match printable {
        Some(text) => println!("output:    {} ({text:?})", hex(&outcome.output)),
        None => println!("output:    {}", hex(&outcome.output)),
    }
    println!("gas used:  {}", outcome.gas_used);
    for e in events {
        println!("event:     {} {}", hex(&e.topic), hex(&e.data));
    }
    println!("backend:   {backend}");
    println!("elapsed:   {} us", elapsed.as_micros());
}
