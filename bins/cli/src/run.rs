//! `ward run`.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::{Context, bail};
use clap::Args;
use serde_json::json;
use ward_vm::{
    BackendKind, CallContext, Config, Entry, Execution, Failure, Gas, Reply, RunOptions, Status,
    ValType, Value,
};

use ward_text::parse::{self, hex};

/// Default gas limit for `ward run`.
const DEFAULT_GAS: u64 = 10_000_000_000;

/// Arguments of `ward run`.
#[derive(Args, Debug)]
pub(crate) struct RunArgs {
    /// The module: a `.wasm` binary or `.wat` text.
    file: PathBuf,
    /// The entry point to run (`[] -> []`, `[] -> [i32]` or `[i32 i32] -> [i32]`;
    /// default `main`, or `_start` under `--wasi`).
    #[arg(long, conflicts_with = "invoke")]
    entry: Option<String>,
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
    /// Gas limit (default 10000000000).
    #[arg(long, value_parser = parse::gas_arg)]
    gas: Option<u64>,
    /// Largest linear memory, in 64 KiB pages.
    #[arg(long, value_parser = parse::u32_arg)]
    max_memory_pages: Option<u32>,
    /// Wall-clock limit for the call, in milliseconds.
    #[arg(long, value_parser = parse::u64_arg)]
    timeout_ms: Option<u64>,
    /// Engine to run on.
    #[arg(long, default_value = "wasmtime")]
    backend: BackendKind,
    /// After the outcome, print the call's trace: its storage reads and
    /// writes, events, children and gas (`docs/debugging.md`).
    #[arg(long)]
    trace: bool,
    #[command(flatten)]
    profile: crate::trace::ProfileArgs,
    /// Print `debug_log` lines (to stderr).
    #[arg(long)]
    debug_log: bool,
    /// Print one JSON object on stdout's last line.
    #[arg(long)]
    json: bool,
    /// Run a WASI preview 1 program: `_start`, stdin from `--input`,
    /// stdout printed as is, stderr to Ward's stderr, Ward's summary on
    /// stderr, and the program's exit code as Ward's.
    #[arg(long)]
    wasi: bool,
    /// An environment variable for the program (`KEY=VALUE`; repeatable).
    #[arg(long = "env", requires = "wasi", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Preopen a host directory, read into the virtual filesystem
    /// (`HOST` or `HOST::GUEST`; repeatable). Writes stay in memory.
    #[arg(long = "dir", requires = "wasi", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,
    /// Realtime for the program, in nanoseconds since the Unix epoch.
    #[arg(long, requires = "wasi", value_parser = parse::u64_arg,
          default_value_t = ward_wasi::DEFAULT_NOW_NANOS)]
    now: u64,
    /// The program's arguments (after `--`); its name comes first.
    #[arg(last = true, requires = "wasi")]
    program_args: Vec<String>,
}

/// `ward run --wasi`'s exit status when the program trapped (a program's
/// own codes are 0 to 125).
pub(crate) const EXIT_TRAPPED: u8 = 134;
/// ... when it ran out of gas.
pub(crate) const EXIT_OUT_OF_GAS: u8 = 135;
/// ... when the wall-clock limit stopped it.
pub(crate) const EXIT_TIMEOUT: u8 = 136;
/// ... when the module was refused before it ran.
pub(crate) const EXIT_REJECTED: u8 = 137;

pub(crate) fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let bytes = crate::read_file(&args.file)?;
    let input = read_input(&args)?;
    let mut config = Config::default();
    let mut context = CallContext::default();
    if args.wasi {
        config.policy.imports = ward_vm::ImportPolicy::wasi();
        context = context.with_wasi(wasi_state(&args)?);
    }
    if let Some(pages) = args.max_memory_pages {
        config.policy.limits.max_memory_pages = pages;
    }
    // The profiling hooks charge nothing: the same outcome and gas.
    config.policy.profile = args.profile.profile;
    let backend = backend_for(args.backend, &config)?;
    let started = ward_vm::clock::now();
    // An in-memory state for this one call: storage and events work, and
    // vanish with the process.
    let gas = crate::gas_or_default(args.gas, DEFAULT_GAS);
    let (chain, journal, tracer) = if args.trace || args.profile.profile {
        let kind = if args.wasi {
            ward_primitives::CodeKind::Wasi
        } else {
            ward_primitives::CodeKind::Ward
        };
        let (chain, journal, tracer) = ward_executor::scratch_chain_traced(kind, &input, gas);
        (chain, journal, Some(tracer))
    } else {
        let (chain, journal) = ward_executor::scratch_chain();
        (chain, journal, None)
    };
    let execution = match prepare(&*backend, &config, &bytes, &args) {
        Ok((module, entry, wasm)) => {
            let mut context = context.with_chain(chain);
            if let (true, Some(tracer)) = (args.profile.profile, &tracer) {
                context = context.with_profile(tracer.profile(&wasm, gas));
            }
            let options = RunOptions {
                input,
                gas_limit: Gas::new(gas),
                debug_log: args.debug_log || args.wasi,
                timeout: args.timeout_ms.map(Duration::from_millis),
                cancel: None,
            };
            // `ward run` defines no suspending imports: nothing can ask.
            let mut service = |_| Reply::Trap("no host services in `ward run`".into());
            ward_vm::execute(&*backend, &module, &entry, options, context, &mut service)
                // The scratch chain is in memory: a fault here is Ward's own.
                .context("the call was aborted by a node fault")?
        }
        Err(Prepared::Rejected(failure)) => Execution::rejected(failure),
        Err(Prepared::Usage(err)) => return Err(err),
    };
    let elapsed = started.elapsed();
    if execution.outcome.status == Status::OutOfGas {
        crate::note_default_gas();
    }
    let events: Vec<ward_state::Event> = if execution.outcome.status == Status::Ok {
        journal
            .lock()
            .map(|j| j.events().to_vec())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let (trace, profile) = trace_and_profile(&args, tracer, &execution, &events)?;
    // Without --trace, a profile shows no frames.
    let trace = trace.filter(|_| args.trace || args.json);
    // As JSON, the last line; as text, after the outcome (on stderr for a
    // WASI program, whose stdout is its own).
    let print_trace = || match &trace {
        Some(trace) if args.json => println!("{trace}"),
        Some(trace) if args.wasi => {
            use std::io::IsTerminal;
            eprint!(
                "{}",
                crate::trace::render(trace, std::io::stderr().is_terminal())
            );
        }
        Some(trace) => {
            use std::io::IsTerminal;
            print!(
                "{}",
                crate::trace::render(trace, std::io::stdout().is_terminal())
            );
        }
        None => {}
    };
    if args.wasi {
        let code = finish_wasi(&execution, args.backend, elapsed, args.json);
        print_trace();
        if let Some(profile) = profile.filter(|_| !args.json) {
            eprint!("{profile}");
        }
        return Ok(code);
    }
    for line in &execution.debug_log {
        eprintln!("[debug_log] {line}");
    }
    print_execution(&execution, &events, args.backend, elapsed, args.json);
    print_trace();
    if let Some(profile) = profile.filter(|_| !args.json) {
        print!("{profile}");
    }
    Ok(if execution.outcome.status == Status::Ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The run's trace as JSON (decorated like a node's) and, with
/// `--profile`, its profile drawn to the `--profile-out` files and
/// rendered as text.
fn trace_and_profile(
    args: &RunArgs,
    tracer: Option<ward_executor::ScratchTrace>,
    execution: &Execution,
    events: &[ward_state::Event],
) -> anyhow::Result<(Option<serde_json::Value>, Option<String>)> {
    let trace = tracer.map(|t| {
        let trace = t.finish(execution, events.to_vec());
        let mut shown = ward_node::decode::trace(&trace, &mut |_| None);
        if args.profile.profile {
            let name = args.file.file_name().unwrap_or(args.file.as_os_str());
            shown.profile = Some(ward_node::profile::profile_of(
                &trace,
                Some(&name.to_string_lossy()),
            ));
        }
        shown
    });
    let profile = match trace.as_ref().and_then(|t| t.profile.as_ref()) {
        Some(profile) => {
            let title = format!("Gas of {}", args.file.display());
            let files = crate::trace::write_profile(profile, &args.profile, &title)?;
            Some(crate::trace::render_profile(profile, &files))
        }
        None => None,
    };
    let trace = trace.map(serde_json::to_value).transpose()?;
    Ok((trace, profile))
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
) -> Result<(ward_vm::Module, Entry, Vec<u8>), Prepared> {
    let wasm = crate::module_bytes(&args.file, bytes).map_err(Prepared::Rejected)?;
    let module = ward_vm::compile(backend, config, &wasm).map_err(Prepared::Rejected)?;
    let default_entry = if args.wasi { "_start" } else { "main" };
    let entry = match &args.invoke {
        None => Entry::Main(args.entry.clone().unwrap_or_else(|| default_entry.into())),
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
    Ok((module, entry, wasm.into_owned()))
}

/// The WASI state `ward run --wasi` starts the program in.
fn wasi_state(args: &RunArgs) -> anyhow::Result<ward_wasi::Wasi> {
    let mut config = ward_wasi::WasiConfig {
        now_nanos: args.now,
        ..ward_wasi::WasiConfig::default()
    };
    let name = args
        .file
        .file_name()
        .unwrap_or(args.file.as_os_str())
        .to_string_lossy()
        .into_owned();
    config.args = std::iter::once(name)
        .chain(args.program_args.iter().cloned())
        .map(String::into_bytes)
        .collect();
    for pair in &args.env {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--env {pair:?}: expected KEY=VALUE");
        };
        config
            .env
            .push((key.as_bytes().to_vec(), value.as_bytes().to_vec()));
    }
    for dir in &args.dirs {
        let (host, guest) = dir.split_once("::").unwrap_or((dir, dir));
        let tree = ward_wasi::Tree::from_host(host.as_ref(), config.limits.max_bytes)
            .with_context(|| format!("--dir {dir}: cannot read {host}"))?;
        config.preopens.push(ward_wasi::Preopen {
            guest: guest.to_string(),
            tree,
        });
    }
    ward_wasi::Wasi::new(&config).map_err(|e| {
        anyhow::anyhow!(
            "the preopened directories do not fit the virtual filesystem ({})",
            e.name()
        )
    })
}

/// Prints a WASI program's run: its stdout as is on stdout (or in the
/// JSON object), its stderr and Ward's summary on stderr; the exit status
/// is the program's.
fn finish_wasi(
    execution: &Execution,
    backend: BackendKind,
    elapsed: Duration,
    as_json: bool,
) -> ExitCode {
    use std::io::Write;

    let outcome = &execution.outcome;
    if as_json {
        print_execution(execution, &[], backend, elapsed, true);
    } else {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(&outcome.output);
        let _ = stdout.flush();
    }
    let mut stderr = std::io::stderr().lock();
    for chunk in &execution.debug_log {
        let _ = stderr.write_all(chunk.as_bytes());
    }
    if !as_json {
        let _ = write!(stderr, "ward: {}", outcome.status);
        if let Some(error) = &outcome.error {
            let _ = write!(stderr, " ({}: {})", error.kind, error.message);
        }
        let _ = writeln!(
            stderr,
            ", exit code {}, gas used {}, {backend}, {} us",
            outcome.exit_code,
            outcome.gas_used,
            elapsed.as_micros()
        );
    }
    if as_json {
        return if outcome.status == Status::Ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
    }
    ExitCode::from(match outcome.status {
        Status::Ok => 0,
        Status::Reverted => u8::try_from(outcome.exit_code).unwrap_or(EXIT_TRAPPED),
        Status::Trapped => EXIT_TRAPPED,
        Status::OutOfGas => EXIT_OUT_OF_GAS,
        Status::Timeout => EXIT_TIMEOUT,
        Status::Rejected => EXIT_REJECTED,
    })
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
