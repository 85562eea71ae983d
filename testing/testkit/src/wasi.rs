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
