//! Test utilities: build both backends from one [`Config`], run a module on
//! each, and insist that they agree.
//!
//! Every behaviour test in Ward goes through [`run_both`] (or
//! [`Backends::each`]): a feature is only tested when it is tested on both
//! engines with the results compared.

use std::sync::Arc;

pub mod contracts;
pub mod differential;
/// A real etcd cluster on loopback (its own crate, which the cluster
/// benchmark uses without the testkit).
pub use ward_etcd as etcd;
pub mod evm;
pub mod imports;
mod map_chain;
pub mod wasi;

pub use map_chain::{Events, MapChain, MapContext};

use ward_vm::{
    Backend, BackendKind, CallContext, Config, Entry, Execution, Reply, Request, RunOptions,
};

/// Creates the backend of `kind` for `config`.
///
/// # Panics
///
/// When the backend cannot be created (a test setup error).
pub fn backend(kind: BackendKind, config: &Config) -> Arc<dyn Backend> {
    ward_backends::new(kind, config).unwrap_or_else(|e| panic!("{kind} backend: {e}"))
}

/// Both backends for one configuration.
pub struct Backends {
    /// The configuration both were made from.
    pub config: Config,
    /// `[wasmtime, wasmi]`.
    pub all: Vec<Arc<dyn Backend>>,
}

impl Backends {
    /// Both backends for `config`.
    pub fn new(config: Config) -> Self {
        let all = BackendKind::ALL
            .iter()
            .map(|&k| backend(k, &config))
            .collect();
        Backends { config, all }
    }

    /// Runs `entry` of `wasm` with `options` on every backend, with no host
    /// services (any request traps), and returns the executions in backend
    /// order. Compares nothing: see [`assert_agree`].
    pub fn run(&self, wasm: &[u8], entry: &Entry, options: &RunOptions) -> Vec<Execution> {
        self.each(|b| {
            let mut no_service = |r: Request| Reply::Trap(format!("unexpected request {r:?}"));
            let context = CallContext::default();
            run(
                b,
                &self.config,
                wasm,
                entry,
                options.clone(),
                context,
                &mut no_service,
            )
        })
    }

    /// Runs `f` on each backend and returns the results in backend order.
    pub fn each<T>(&self, mut f: impl FnMut(&dyn Backend) -> T) -> Vec<T> {
        self.all.iter().map(|b| f(&**b)).collect()
    }
}

impl Default for Backends {
    fn default() -> Self {
        Backends::new(Config::default())
    }
}

/// Parses WebAssembly text.
///
/// # Panics
///
/// On a syntax error in the test's own text.
pub fn wasm(text: &str) -> Vec<u8> {
    wat::parse_str(text).expect("test module parses")
}

/// A module in WebAssembly text that imports Ward's host functions
/// `imports` (their names, separated by spaces), each as `$` and its
/// name with the signature of the ABI's table
/// (`ward_abi::for_each_host_function!`), followed by `fields` (its
/// memory, functions, exports).
///
/// # Panics
///
/// When a name is not one of Ward's host functions.
pub fn module_importing(imports: &str, fields: &str) -> String {
    let mut text = String::from("(module");
    for name in imports.split_whitespace() {
        let f = ward_abi::HostFn::from_name(name)
            .unwrap_or_else(|| panic!("`{name}` is not a Ward host function"));
        let list = |kind: &str, types: &[ward_abi::ValType]| -> String {
            types.iter().map(|t| format!(" ({kind} {t})")).collect()
        };
        text.push_str(&format!(
            "\n  (import \"{}\" \"{name}\" (func ${name}{}{}))",
            ward_abi::MODULE,
            list("param", f.params()),
            list("result", f.results()),
        ));
    }
    text.push_str("\n  ");
    text.push_str(fields);
    text.push(')');
    text
}

/// A module whose `main` compiles a child that loops forever (`(loop (br
/// 0))`, from its own data), instantiates it and runs it through
/// `vm_run` with all the gas the call has; `main` returns 3 (a revert)
/// if that run ends at all, 1 or 2 if the child could not be compiled or
/// instantiated. Only its call's deadline or cancel flag stop it before
/// its gas runs out, and then the call must end `timeout` or `cancelled`
/// (`ward_vm::ChildError::Interrupted`). The C and Go tests run it too
/// (`bindings/go/testdata/spin_child.wasm` is these bytes).
pub fn spinning_parent() -> Vec<u8> {
    let child =
        wasm(r#"(module (memory (export "memory") 1) (func (export "spin") (loop (br 0))))"#);
    let escaped: String = child.iter().map(|b| format!("\\{b:02x}")).collect();
    wasm(&module_importing(
        "vm_compile vm_instantiate vm_run",
        &format!(
            r#"(memory (export "memory") 1)
  (data (i32.const 0) "spin")
  (data (i32.const 1024) "{escaped}")
  (func (export "main") (result i32) (local $m i64) (local $c i64)
    (local.set $m (call $vm_compile (i32.const 1024) (i32.const {len})))
    (if (i64.lt_s (local.get $m) (i64.const 0)) (then (return (i32.const 1))))
    (local.set $c (call $vm_instantiate (local.get $m)))
    (if (i64.lt_s (local.get $c) (i64.const 0)) (then (return (i32.const 2))))
    (drop (call $vm_run (local.get $c) (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 0)
      (i64.const 0x7fffffffffffffff) (i32.const 512)))
    (i32.const 3))"#,
            len = child.len()
        ),
    ))
}

/// Compiles `wasm` and runs `entry` on `backend`, servicing suspensions with
/// `service`. A module rejected at compile time yields a `rejected` execution.
///
/// # Panics
///
/// On a node fault: the tests that expect one call [`ward_vm::execute`].
pub fn run(
    backend: &dyn Backend,
    config: &Config,
    wasm: &[u8],
    entry: &Entry,
    options: RunOptions,
    context: CallContext,
    service: &mut dyn FnMut(Request) -> Reply,
) -> Execution {
    match ward_vm::compile(backend, config, wasm) {
        Ok(module) => ward_vm::execute(backend, &module, entry, options, context, service)
            .unwrap_or_else(|fault| panic!("unexpected {fault}")),
        Err(failure) => Execution::rejected(failure),
    }
}

/// Runs `main` of `wasm` with `input` on both backends of `backends`,
/// asserts that they agree on everything but messages, and returns the
/// wasmtime execution.
///
/// # Panics
///
/// When the backends disagree.
pub fn run_both(backends: &Backends, wasm: &[u8], input: &[u8]) -> Execution {
    let options = RunOptions {
        input: input.to_vec(),
        ..RunOptions::default()
    };
    let runs = backends.run(wasm, &Entry::Main("main".into()), &options);
    assert_agree(&runs);
    runs.into_iter().next().expect("two runs")
}

/// Asserts that executions on different backends agree on status, exit code,
/// output, gas, error kind, results, suspensions and the WASI state left
/// behind (messages may differ: they are for humans and never enter
/// results).
///
/// # Panics
///
/// When any two executions disagree.
pub fn assert_agree(runs: &[Execution]) {
    let key = |e: &Execution| {
        (
            e.outcome.status,
            e.outcome.exit_code,
            e.outcome.output.clone(),
            e.outcome.gas_used,
            e.outcome.error.as_ref().map(|f| f.kind),
            e.results.clone(),
            e.suspensions,
            e.wasi.clone(),
        )
    };
    for (i, run) in runs.iter().enumerate().skip(1) {
        assert_eq!(
            key(&runs[0]),
            key(run),
            "backend {} disagrees with backend 0:\n{:#?}\nvs\n{:#?}",
            i,
            runs[0],
            run
        );
    }
}

/// A small deterministic generator (xorshift64), so that a randomised test
/// replays exactly from its seed. Not for anything but tests.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator starting from `state` (which must not be 0: xorshift
    /// stays at 0 forever; callers `| 1` their seeds).
    pub fn new(state: u64) -> Rng {
        Rng(state)
    }

    /// The next 64 bits.
    #[allow(
        clippy::should_implement_trait,
        reason = "an endless generator, not an iterator"
    )]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The environment variable `name` parsed as a `T` (how long randomised
/// tests run, which seed they start from), or `default`.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Calls `main` of the system runtime `code` with `input` and at most
/// `gas`, in a default context; a suspension is answered with a trap.
///
/// # Panics
///
/// On a node fault (there is no chain or host to raise one).
pub fn system_call(
    runtimes: &ward_vm::SystemRuntimes,
    code: &ward_vm::CodeHash,
    input: &[u8],
    gas: u64,
) -> Execution {
    let mut no_service = |_| Reply::Trap("no services".into());
    runtimes
        .call(
            code,
            &Entry::Main("main".into()),
            RunOptions {
                input: input.to_vec(),
                gas_limit: ward_vm::Gas::new(gas),
                ..RunOptions::default()
            },
            CallContext::default(),
            &mut no_service,
        )
        .unwrap_or_else(|fault| panic!("unexpected {fault}"))
}

/// The environment variable under which a test that lacks a real
/// component (etcd, Chromium, clang for WASI) fails instead of skipping:
/// `make test`, which installs them, sets it, so that the gate can never
/// pass by skipping.
pub const REQUIRE_ALL: &str = "WARD_REQUIRE_ALL";

/// Whether every test must run ([`REQUIRE_ALL`] set to anything but
/// empty or `0`): the one reading of it that the tests, the C and the Go
/// tests share (the Go tests get it passed on as `1`).
pub fn all_required() -> bool {
    required(std::env::var_os(REQUIRE_ALL).as_deref())
}

fn required(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "0")
}

/// A test that cannot run here says why: it fails when [`REQUIRE_ALL`] is
/// set (to anything but `0`), and otherwise prints `skipped: why` and
/// returns, for a plain `cargo test` on a machine without the component.
///
/// # Panics
///
/// Under [`REQUIRE_ALL`].
pub fn skip(why: &str) {
    let verdict = skip_verdict(std::env::var_os(REQUIRE_ALL).as_deref(), why);
    assert!(verdict.is_ok(), "{}", verdict.unwrap_or_default());
    eprintln!("skipped: {why}");
}

/// Whether etcd is on `PATH` for a test to start; where it is not, the
/// test says why with [`skip`] (and so fails under [`REQUIRE_ALL`]).
pub fn etcd_present() -> bool {
    match etcd::missing() {
        None => true,
        Some(why) => {
            skip(&why);
            false
        }
    }
}

/// Test data kept beside the checkout rather than in it (the WebAssembly
/// spec suite, the WASI test suite): the directory `variable` names, else
/// `../shared/NAME` next to the workspace. `Err` says what is missing and
/// how to supply it, for [`skip`].
///
/// # Errors
///
/// When the directory is not there.
pub fn shared_data(name: &str, variable: &str) -> Result<std::path::PathBuf, String> {
    let dir = match std::env::var_os(variable) {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared")
            .join(name),
    };
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(format!(
            "{} is not there: point {variable} at a copy of it (CONTRIBUTING.md, \"Test data\")",
            dir.display()
        ))
    }
}

/// What [`skip`] does with [`REQUIRE_ALL`] set to `required`: `Err` with
/// the failure's message when it is required.
fn skip_verdict(value: Option<&std::ffi::OsStr>, why: &str) -> Result<String, String> {
    if required(value) {
        return Err(format!(
            "{REQUIRE_ALL} is set and this test cannot run: {why}"
        ));
    }
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_component_fails_only_when_required() {
        let os = |s: &'static str| Some(std::ffi::OsStr::new(s));
        assert!(skip_verdict(None, "x").is_ok());
        assert!(skip_verdict(os("0"), "x").is_ok());
        assert!(skip_verdict(os(""), "x").is_ok());
        let failure = skip_verdict(os("1"), "etcd is not on PATH").unwrap_err();
        assert!(failure.contains("etcd is not on PATH"), "{failure}");
    }
}
