//! Running WASI programs on both backends the way `ward run --wasi` does:
//! the WASI import policy, `_start`, a fresh [`ward_wasi::Wasi`] per run.

use ward_vm::{
    CallContext, Config, Entry, Execution, Gas, ImportPolicy, Reply, Request, RunOptions,
};
use ward_wasi::{Wasi, WasiConfig};

use crate::Backends;

/// Both backends with WASI preview 1 admitted.
pub fn backends() -> Backends {
    let mut config = Config::default();
    config.policy.imports = ImportPolicy::wasi();
    Backends::new(config)
}

/// Runs `_start` of `wasm` on every backend of `backends` with `stdin`,
/// at most `gas`, debug log (stderr) on, each run starting from
/// `config`; returns the executions in backend order. Compares nothing:
/// see [`crate::assert_agree`], which compares the WASI state too.
///
/// # Panics
///
/// When `config`'s preopens do not fit its limits (the test's own
/// mistake), or on a node fault.
pub fn run(
    backends: &Backends,
    wasm: &[u8],
    config: &WasiConfig,
    stdin: &[u8],
    gas: u64,
) -> Vec<Execution> {
    let options = RunOptions {
        input: stdin.to_vec(),
        gas_limit: Gas::new(gas),
        debug_log: true,
        ..RunOptions::default()
    };
    backends.each(|backend| {
        let wasi = Wasi::new(config).unwrap_or_else(|e| panic!("WASI setup: {}", e.name()));
        let mut no_service = |r: Request| Reply::Trap(format!("unexpected request {r:?}"));
        crate::run(
            backend,
            &backends.config,
            wasm,
            &Entry::Main("_start".into()),
            options.clone(),
            CallContext::default().with_wasi(wasi),
            &mut no_service,
        )
    })
}

/// A WASI contract of the shape TinyGo's `wasip1` target builds (a
/// reactor: `_initialize`, methods as exports; see the file's comment).
pub const TINYGO_REACTOR: &str = include_str!("wasi/tinygo_reactor.wat");

/// A Ward contract that calls the contract whose address is the first 32
/// bytes of its input with the rest of it (2 000 000 gas), and outputs
/// the return data; exit code 9 when the call failed. How the tests call
/// a WASI reactor's method from a contract.
pub fn relay() -> String {
    crate::module_importing(
        "input_size input_read call return_data_size return_data_read output_write exit",
        r#"(memory (export "memory") 1)
  (func (export "main")
    (call $input_read (i32.const 0) (i32.const 0) (call $input_size))
    (if (call $call (i32.const 0) (i32.const 32) (i32.sub (call $input_size) (i32.const 32))
          (i64.const 2000000) (i32.const 0))
      (then (call $exit (i32.const 9))))
    (call $return_data_read (i32.const 1024) (i32.const 0) (call $return_data_size))
    (call $output_write (i32.const 1024) (call $return_data_size)))"#,
    )
}
