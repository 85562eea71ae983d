//! Embedding Ward as a library: a plugin host with host functions of its
//! own, limits, a shared module cache and both backends.
//!
//! `cargo run -p ward-backends --example embed` (also run by `make test`). The
//! walk-through is docs/embedding.md.
//!
//! The host offers plugins two functions in module `"host"`:
//! - `price(item: i32) -> i64` answers at once, from a table in the host;
//! - `fetch(key: i32) -> i64` *suspends* the plugin: the embedder's loop
//!   receives a `Request::Host`, does the slow work (here, a lookup it
//!   pretends is remote), and resumes the plugin with the answer.

use std::process::ExitCode;

use ward_vm::{
    BackendKind, CacheOptions, CallContext, Config, Entry, Execution, FuncType, Gas, Host,
    HostAnswer, HostImport, ModuleCache, NodeFault, Reply, Request, RunOptions, ValType, Value,
};

/// The plugin: totals `price(i) * fetch(i)` for the items 1..=n (n from the
/// input's first byte) and writes the total as 8 little-endian bytes.
/// With input byte 255 it loops forever: gas ends it.
const PLUGIN: &str = r#"(module
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "output_write" (func $output_write (param i32 i32)))
  (import "host" "price" (func $price (param i32) (result i64)))
  (import "host" "fetch" (func $fetch (param i32) (result i64)))
  (memory (export "memory") 1)
  (func (export "main")
    (local $i i32) (local $n i32) (local $total i64)
    (call $input_read (i32.const 0) (i32.const 0) (i32.const 1))
    (local.set $n (i32.load8_u (i32.const 0)))
    (if (i32.eq (local.get $n) (i32.const 255)) (then (loop $forever (br $forever))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (local.set $total (i64.add (local.get $total)
        (i64.mul (call $price (local.get $i)) (call $fetch (local.get $i)))))
      (br $next)))
    (i64.store (i32.const 8) (local.get $total))
    (call $output_write (i32.const 8) (i32.const 8))))"#;

/// The host's side of `price`: answers at once.
struct Prices;

impl Host for Prices {
    fn call(&mut self, index: usize, args: &[Value], _memory: &mut [u8]) -> HostAnswer {
        match (index, args) {
            // `price`: index 0 in Config::host_imports.
            (0, [Value::I32(item)]) => HostAnswer::Return(vec![Value::I64(i64::from(*item) * 10)]),
            // `fetch`: the embedder's loop answers it.
            (1, _) => HostAnswer::Suspend,
            _ => HostAnswer::Trap(format!("host import {index} called with {args:?}")),
        }
    }
}

/// What the embedder does when the plugin suspends: here, a lookup it
/// pretends is remote. A failure of the host's own would be
/// `HostAnswer::Fault` / a fault, never the plugin's doing.
fn service(request: Request) -> Reply {
    match request {
        Request::Host { index: 1, args } => match args.as_slice() {
            [Value::I32(key)] => Reply::Values(vec![Value::I64(i64::from(*key) + 1)]),
            _ => Reply::Trap("fetch takes one key".into()),
        },
        other => Reply::Trap(format!("this host does not serve {other:?}")),
    }
}

fn config() -> Config {
    let mut config = Config {
        host_imports: vec![
            HostImport {
                module: "host".into(),
                name: "price".into(),
                ty: FuncType::new([ValType::I32], [ValType::I64]),
            },
            HostImport {
                module: "host".into(),
                name: "fetch".into(),
                ty: FuncType::new([ValType::I32], [ValType::I64]),
            },
        ],
        ..Config::default()
    };
    // Limits are consensus: they are part of the config's fingerprint, so
    // cached modules are keyed on them.
    config.policy.limits.max_memory_pages = 16;
    config
}

fn main() -> ExitCode {
    let config = config();
    let wasm = wat::parse_str(PLUGIN).expect("the plugin's text parses");
    let greedy = wat::parse_str(r#"(module (memory 17))"#).expect("parses");
    let mut totals = Vec::new();
    for kind in BackendKind::ALL {
        let backend = match ward_backends::new(kind, &config) {
            Ok(backend) => backend,
            Err(failure) => {
                eprintln!("{kind}: no backend: {failure}");
                return ExitCode::FAILURE;
            }
        };
        // One cache per backend, shared by every call (and every thread):
        // the plugin is validated, instrumented and compiled once.
        let cache = match ModuleCache::new(backend, &config, CacheOptions::default()) {
            Ok(cache) => cache,
            Err(failure) => {
                eprintln!("{kind}: no cache: {failure}");
                return ExitCode::FAILURE;
            }
        };
        let runs = [
            ("5 items", &wasm, 5, 1_000_000),
            ("spins forever", &wasm, 255, 1_000_000),
            ("17 pages, over the limit of 16", &greedy, 0, 1_000_000),
        ];
        for (what, wasm, input, gas) in runs {
            match run(&cache, wasm, input, gas) {
                Ok(execution) => {
                    let outcome = &execution.outcome;
                    let total = <[u8; 8]>::try_from(outcome.output.as_slice())
                        .map(u64::from_le_bytes)
                        .ok();
                    println!(
                        "{:>8} | {what:<32} | {:<10} | gas {:>9} | suspended {:>2}x | total {}",
                        kind.to_string(),
                        outcome.status.as_str(),
                        outcome.gas_used.get(),
                        execution.suspensions,
                        total.map_or("-".into(), |t| t.to_string()),
                    );
                    totals.push((what, outcome.clone()));
                }
                Err(fault) => {
                    eprintln!("{kind}: {what}: the host failed: {fault}");
                    return ExitCode::FAILURE;
                }
            }
        }
        let stats = cache.stats();
        println!(
            "{:>8} | cache: {} compiled, {} served from memory",
            kind.to_string(),
            stats.compiles,
            stats.memory_hits
        );
    }
    // Both backends must have said exactly the same, gas included.
    let (wasmtime, wasmi) = totals.split_at(totals.len() / 2);
    if wasmtime != wasmi {
        eprintln!("the backends disagree: {wasmtime:?} vs {wasmi:?}");
        return ExitCode::FAILURE;
    }
    println!("both backends agree on every status, output and gas figure");
    ExitCode::SUCCESS
}

/// Runs `main` of the plugin with `input` and `gas`, servicing suspensions.
fn run(cache: &ModuleCache, wasm: &[u8], input: u8, gas: u64) -> Result<Execution, NodeFault> {
    let module = match cache.get_or_compile(wasm) {
        Ok(module) => module,
        // A module the policy refuses is an outcome, like any other.
        Err(failure) => return Ok(Execution::rejected(failure)),
    };
    let options = RunOptions {
        input: vec![input],
        gas_limit: Gas::new(gas),
        ..RunOptions::default()
    };
    let context = CallContext::default().with_host(Box::new(Prices));
    ward_vm::execute(
        &**cache.backend(),
        &module,
        &Entry::Main("main".into()),
        options,
        context,
        &mut service,
    )
}
