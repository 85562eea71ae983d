//! `ward-bench gas_calibration`: what one gas buys in wall time, path by
//! path, in the spirit of NEAR's parameter estimator.
//!
//! Every path is a transaction whose contract repeats one kind of work
//! (plain code, one host function, entering a callee, a child, a system
//! runtime, a WASI call) as many times as its input says. A probe times
//! whole transactions (executed and committed, as a block would) and
//! divides by the gas their receipts report: nanoseconds per gas, beside
//! the schedule's target of [`TARGET_NS_PER_GAS`]. A path far above the
//! target is work that gas does not price; the worst path decides how long
//! a full block can take, and [`worst_block`] builds that block and times
//! it.

use std::{
    hint::black_box,
    sync::Arc,
    time::{Duration, Instant},
};

use ward_executor::{ChainLimits, Deploy, Executor, Payload, Tx};
use ward_primitives::CodeKind;
use ward_state::{Address, MemoryStore};
use ward_vm::{BackendKind, Config};

mod crypto;

/// The schedule's target: one gas is meant to be about a nanosecond of
/// wasmtime time on the reference machine (`docs/gas.md`).
pub const TARGET_NS_PER_GAS: f64 = 1.0;

/// The gas one timed transaction aims to use (less when the path is slow:
/// see [`TX_TIME`]).
const TX_GAS: u64 = 20_000_000;

/// Transactions in a block that times the `tx` group.
const TX_BLOCK: usize = 200;

/// The most repeats one timed transaction makes.
const MAX_REPEATS: u64 = 1_000_000;

/// The wall time one timed transaction aims to take.
const TX_TIME: Duration = Duration::from_millis(20);

/// The sender of every transaction.
const SENDER: Address = Address([0xca; 32]);

/// The input of a driver: the repeat count (u32, little-endian) then 32
/// bytes (the callee's address, or a stored code's hash).
fn input(n: u32, target: &[u8; 32]) -> Vec<u8> {
    let mut input = n.to_le_bytes().to_vec();
    input.extend_from_slice(target);
    input
}

/// What a driver's input names besides the count.
#[derive(Clone, Debug)]
enum Target {
    /// Nothing (32 zero bytes).
    None,
    /// A Wasm contract deployed first: its address.
    Contract(String),
    /// A Wasm contract deployed first: its code's hash.
    CodeHash(String),
    /// A contract of the EVM runtime (contracts/evm) deployed from this
    /// init code: its address.
    Evm(Vec<u8>),
}

/// One path: its group, its name, the driver contract's WAT and kind, and
/// what the driver's input names.
#[derive(Clone, Debug)]
pub struct Path {
    /// `code`, `host`, `instance`, `runtime`, `wasi`, `tx`.
    pub group: &'static str,
    /// The path's name.
    pub name: String,
    driver: String,
    kind: CodeKind,
    target: Target,
    /// The most repeats one transaction may make (a bound of the chain's
    /// that the path runs into first, such as its events' bytes).
    max_repeats: u64,
}

impl Path {
    /// The path, making at most `max` repeats per transaction.
    fn at_most(mut self, max: u64) -> Path {
        self.max_repeats = max;
        self
    }
}

/// A Ward driver: `deploy` stores 32 bytes under the key of 32 zero
/// bytes; `main` reads the count and the target into memory at 0 and runs
/// `body` that many times. Memory: 0..4 the count, 4..36 the
/// target, 64..1024 scratch, from 1024 a buffer; `pages` pages.
fn driver(imports: &str, pages: u32, data: &str, body: &str) -> String {
    driver_with(imports, pages, data, "", body)
}

/// [`driver`] with a `prologue` run once before the repeats.
fn driver_with(imports: &str, pages: u32, data: &str, prologue: &str, body: &str) -> String {
    format!(
        r#"(module
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  {imports}
  (import "ward" "storage_write" (func $__write (param i32 i32 i32 i32)))
  (memory (export "memory") {pages})
  {data}
  (func (export "deploy")
    (call $__write (i32.const 4) (i32.const 32) (i32.const 1024) (i32.const 32)))
  (func (export "main") (local $i i32) (local $n i32) (local $t i64)
    (call $input_read (i32.const 0) (i32.const 0) (i32.const 36))
    (local.set $n (i32.load (i32.const 0)))
    {prologue}
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      {body}
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))))"#
    )
}

fn path(group: &'static str, name: &str, driver: String, target: Target) -> Path {
    Path {
        group,
        name: name.to_string(),
        driver,
        kind: CodeKind::Ward,
        target,
        max_repeats: MAX_REPEATS,
    }
}

/// One host function called once per repeat.
fn host(name: &str, import: &str, body: &str) -> Path {
    path("host", name, driver(import, 2, "", body), Target::None)
}

/// Plain code: `body` per repeat, no host calls.
fn code(name: &str, body: &str) -> Path {
    path("code", name, driver("", 2, "", body), Target::None)
}

const CALL: &str =
    r#"(import "ward" "call" (func $call (param i32 i32 i32 i64 i32) (result i32)))"#;

/// A `ward.call` into a callee (whose WAT is `callee`) per repeat, with
/// `input_len` bytes of input.
fn call_into(name: &str, callee: String, input_len: u32) -> Path {
    let body = format!(
        "(if (call $call (i32.const 4) (i32.const 1024) (i32.const {input_len}) (i64.const 10000000) (i32.const 0)) (then unreachable))"
    );
    path(
        "instance",
        name,
        driver(CALL, 2, "", &body),
        Target::Contract(callee),
    )
}

/// A callee that does nothing, with `pages` pages of memory and `extra`
/// fields.
fn empty_callee(pages: u32, extra: &str) -> String {
    format!(r#"(module (memory (export "memory") {pages}) {extra} (func (export "main")))"#)
}

/// What makes a callee not recyclable: a start function.
const FRESH: &str = "(func $start) (start $start)";

/// A module with `funcs` small functions, all in a table.
fn many_functions(funcs: u32) -> String {
    let mut text = String::from(r#"(module (memory (export "memory") 1) (table 10000 funcref)"#);
    // The policy's limit counts `main` too.
    for f in 0..funcs {
        text.push_str(&format!("(func $f{f} (result i32) (i32.const {f}))"));
    }
    text.push_str("(elem (i32.const 0) func");
    for f in 0..funcs {
        text.push_str(&format!(" $f{f}"));
    }
    text.push_str(") (func (export \"main\")))");
    text
}

/// A child module run through `vm_*` per repeat: compile the stored code
/// named by the target once, then per repeat instantiate, run `main`,
/// destroy.
fn child(name: &str, child: String) -> Path {
    let imports = r#"
  (import "ward" "vm_compile_stored" (func $compile (param i32) (result i64)))
  (import "ward" "vm_instantiate" (func $inst (param i64) (result i64)))
  (import "ward" "vm_run" (func $run (param i64 i32 i32 i32 i32 i64 i32) (result i64)))
  (import "ward" "vm_destroy" (func $destroy (param i64) (result i64)))"#;
    let prologue = "(global.set $module (call $compile (i32.const 4)))";
    let body = r#"(local.set $t (call $inst (global.get $module)))
      (if (i64.ne (call $run (local.get $t) (i32.const 64) (i32.const 4) (i32.const 128) (i32.const 0)
                    (i64.const 1000000) (i32.const 256)) (i64.const 0))
        (then unreachable))
      (drop (call $destroy (local.get $t)))"#;
    path(
        "instance",
        name,
        driver_with(
            imports,
            2,
            r#"(data (i32.const 64) "main") (global $module (mut i64) (i64.const 0))"#,
            prologue,
            body,
        ),
        Target::CodeHash(child),
    )
}

/// A WASI command whose `_start` reads the count from stdin and makes one
/// call per repeat.
fn wasi(name: &str, import: &str, body: &str) -> Path {
    let driver = format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  {import}
  (memory (export "memory") 2)
  (func (export "_start") (local $i i32) (local $n i32)
    (i32.store (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (i32.const 4))
    (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 24)))
    (local.set $n (i32.load (i32.const 0)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      {body}
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))))"#
    );
    Path {
        group: "wasi",
        name: name.to_string(),
        driver,
        kind: CodeKind::Wasi,
        target: Target::None,
        max_repeats: MAX_REPEATS,
    }
}

/// Every path the calibration measures.
pub fn paths() -> Vec<Path> {
    let mut paths = vec![
        code("loop", ""),
        code(
            "int_arith",
            "(local.set $t (i64.xor (i64.add (local.get $t) (i64.const 7)) (i64.shl (local.get $t) (i64.const 1))))",
        ),
        code(
            "int_div",
            "(local.set $t (i64.div_u (i64.add (local.get $t) (i64.const 99991)) (i64.const 7)))",
        ),
        code(
            "memory",
            "(i64.store (i32.const 2048) (i64.add (i64.load (i32.const 2048)) (i64.load (i32.const 2056))))",
        ),
        code(
            "memory_fill_64k",
            "(memory.fill (i32.const 1024) (local.get $i) (i32.const 65536))",
        ),
        code(
            "memory_copy_64k",
            "(memory.copy (i32.const 1024) (i32.const 66560) (i32.const 64512))",
        ),
        code(
            "memory_grow_refused",
            "(drop (memory.grow (i32.const 100000)))",
        ),
        host(
            "input_size",
            r#"(import "ward" "input_size" (func $f (result i32)))"#,
            "(drop (call $f))",
        ),
        host(
            "input_read_36",
            "",
            "(call $input_read (i32.const 1024) (i32.const 0) (i32.const 36))",
        ),
        host(
            "gas_left",
            r#"(import "ward" "gas_left" (func $f (result i64)))"#,
            "(drop (call $f))",
        ),
        host(
            "output_write_32",
            r#"(import "ward" "output_write" (func $f (param i32 i32)))"#,
            "(call $f (i32.const 1024) (i32.const 32))",
        ),
        host(
            "output_write_64k",
            r#"(import "ward" "output_write" (func $f (param i32 i32)))"#,
            "(call $f (i32.const 1024) (i32.const 65536))",
        ),
        host(
            "debug_log_64",
            r#"(import "ward" "debug_log" (func $f (param i32 i32)))"#,
            "(call $f (i32.const 1024) (i32.const 64))",
        ),
        host(
            "charge_gas_0",
            r#"(import "ward" "charge_gas" (func $f (param i64)))"#,
            "(call $f (i64.const 0))",
        ),
        host(
            "caller",
            r#"(import "ward" "caller" (func $f (param i32)))"#,
            "(call $f (i32.const 64))",
        ),
        host(
            "self_address",
            r#"(import "ward" "self_address" (func $f (param i32)))"#,
            "(call $f (i32.const 64))",
        ),
        host(
            "block_height",
            r#"(import "ward" "block_height" (func $f (result i64)))"#,
            "(drop (call $f))",
        ),
        host(
            "block_time",
            r#"(import "ward" "block_time" (func $f (result i64)))"#,
            "(drop (call $f))",
        ),
        host(
            "storage_read_miss",
            r#"(import "ward" "storage_read" (func $f (param i32 i32 i32 i32) (result i64)))"#,
            "(i32.store (i32.const 64) (local.get $i)) (drop (call $f (i32.const 64) (i32.const 32) (i32.const 1024) (i32.const 32)))",
        ),
        host(
            "storage_read_hit",
            r#"(import "ward" "storage_read" (func $f (param i32 i32 i32 i32) (result i64)))"#,
            "(drop (call $f (i32.const 4) (i32.const 32) (i32.const 1024) (i32.const 32)))",
        ),
        host(
            "storage_write_same",
            r#"(import "ward" "storage_write" (func $f (param i32 i32 i32 i32)))"#,
            "(call $f (i32.const 64) (i32.const 32) (i32.const 1024) (i32.const 32))",
        ),
        host(
            "storage_write_fresh",
            r#"(import "ward" "storage_write" (func $f (param i32 i32 i32 i32)))"#,
            "(i32.store (i32.const 64) (local.get $i)) (call $f (i32.const 64) (i32.const 32) (i32.const 1024) (i32.const 32))",
        ),
        host(
            "storage_write_fresh_64k",
            r#"(import "ward" "storage_write" (func $f (param i32 i32 i32 i32)))"#,
            "(i32.store (i32.const 64) (local.get $i)) (call $f (i32.const 64) (i32.const 32) (i32.const 1024) (i32.const 65536))",
        ),
        host(
            "storage_remove",
            r#"(import "ward" "storage_remove" (func $f (param i32 i32)))"#,
            "(i32.store (i32.const 64) (local.get $i)) (call $f (i32.const 64) (i32.const 32))",
        ),
        host(
            "emit_event_32",
            r#"(import "ward" "emit_event" (func $f (param i32 i32 i32 i32)))"#,
            "(call $f (i32.const 64) (i32.const 8) (i32.const 1024) (i32.const 32))",
        ),
        // A transaction's events hold at most 1 MiB
        // (`ChainLimits::max_tx_event_bytes`).
        host(
            "emit_event_64k",
            r#"(import "ward" "emit_event" (func $f (param i32 i32 i32 i32)))"#,
            "(call $f (i32.const 64) (i32.const 8) (i32.const 1024) (i32.const 65536))",
        )
        .at_most(15),
        host(
            "return_data_size",
            r#"(import "ward" "return_data_size" (func $f (result i32)))"#,
            "(drop (call $f))",
        ),
        host(
            "code_at",
            r#"(import "ward" "code_at" (func $f (param i32 i32 i32) (result i64)))"#,
            "(drop (call $f (i32.const 4) (i32.const 1024) (i32.const 32)))",
        ),
        host(
            "account_nonce",
            r#"(import "ward" "account_nonce" (func $f (param i32) (result i64)))"#,
            "(drop (call $f (i32.const 4)))",
        ),
    ];
    paths.extend(crypto::paths());
    for hash in ["sha256", "keccak256", "blake3"] {
        for (size, len) in [("32", 32), ("64k", 65536)] {
            paths.push(host(
                &format!("hash_{hash}_{size}"),
                &format!(r#"(import "ward" "hash_{hash}" (func $f (param i32 i32 i32)))"#),
                &format!("(call $f (i32.const 1024) (i32.const {len}) (i32.const 64))"),
            ));
        }
    }
    paths.extend([
        call_into("call_1_page", empty_callee(1, ""), 0),
        call_into("call_1_page_input_64k", empty_callee(1, ""), 65536),
        call_into("call_256_pages", empty_callee(256, ""), 0),
        path(
            "instance",
            "call_starved",
            driver(
                CALL,
                2,
                "",
                "(drop (call $call (i32.const 4) (i32.const 1024) (i32.const 0) (i64.const 1) (i32.const 0)))",
            ),
            // Given 1 gas, the callee cannot pay for its instance: the
            // executor's lookup and frame are all the work.
            Target::Contract(empty_callee(256, "")),
        ),
        call_into(
            "call_data_128k",
            empty_callee(4, &format!(r#"(data (i32.const 0) "{}")"#, "\\00".repeat(128 << 10))),
            0,
        ),
        call_into(
            "call_8_tables",
            empty_callee(1, &"(table 10000 funcref)".repeat(8)),
            0,
        ),
        call_into("call_10k_functions_table", many_functions(9_999), 0),
        call_into(
            "call_1000_globals",
            empty_callee(1, &"(global (mut i64) (i64.const 1))".repeat(1000)),
            0,
        ),
        // A start function makes a module not recyclable: every call
        // builds a fresh instance.
        call_into("call_fresh_1_page", empty_callee(1, FRESH), 0),
        call_into("call_fresh_256_pages", empty_callee(256, FRESH), 0),
        call_into(
            "call_fresh_data_128k",
            empty_callee(
                4,
                &format!(
                    r#"{FRESH} (data (i32.const 0) "{}")"#,
                    "\\01".repeat(128 << 10)
                ),
            ),
            0,
        ),
        call_into(
            "call_fresh_8_tables",
            empty_callee(1, &format!("{FRESH} {}", "(table 10000 funcref)".repeat(8))),
            0,
        ),
        call_into(
            "call_fresh_10k_elems",
            many_functions(9_998).replace("(func (export", &format!("{FRESH} (func (export")),
            0,
        ),
        call_into(
            "call_fresh_10k_functions",
            many_functions(9_998)
                .replace("(table 10000 funcref)", "")
                .replace("(elem (i32.const 0) func", "(elem declare func")
                .replace("(func (export", &format!("{FRESH} (func (export")),
            0,
        ),
        call_into(
            "call_fresh_1000_globals",
            empty_callee(
                1,
                &format!("{FRESH} {}", "(global (mut i64) (i64.const 1))".repeat(1000)),
            ),
            0,
        ),
        child("child_1_page", empty_callee(1, "")),
        child("child_256_pages", empty_callee(256, "")),
        create(),
        path(
            "runtime",
            "evm_call_empty",
            driver(
                CALL,
                2,
                "",
                "(drop (call $call (i32.const 4) (i32.const 1024) (i32.const 0) (i64.const 10000000) (i32.const 0)))",
            ),
            // Init code that returns empty runtime code.
            Target::Evm(vec![0x00]),
        ),
        path(
            "runtime",
            "evm_loop",
            driver(
                CALL,
                2,
                "",
                "(drop (call $call (i32.const 4) (i32.const 1024) (i32.const 0) (i64.const 2000000) (i32.const 0)))",
            ),
            // Init code returning `JUMPDEST PUSH1 0 JUMP` (an endless
            // loop, run until its gas is gone).
            Target::Evm(evm_returning(&[0x5b, 0x60, 0x00, 0x56])),
        ),
        path(
            "runtime",
            "evm_invalid",
            driver(
                CALL,
                2,
                "",
                "(drop (call $call (i32.const 4) (i32.const 1024) (i32.const 0) (i64.const 100) (i32.const 0)))",
            ),
            // Init code returning `INVALID`: every call fails at once, and
            // the runtime's instance is built anew for the next.
            Target::Evm(evm_returning(&[0xfe])),
        ),
        wasi(
            "clock_time_get",
            r#"(import "wasi_snapshot_preview1" "clock_time_get" (func $f (param i32 i64 i32) (result i32)))"#,
            "(drop (call $f (i32.const 0) (i64.const 0) (i32.const 64)))",
        ),
        wasi(
            "random_get_64",
            r#"(import "wasi_snapshot_preview1" "random_get" (func $f (param i32 i32) (result i32)))"#,
            "(drop (call $f (i32.const 1024) (i32.const 64)))",
        ),
        wasi(
            "fd_write_4k",
            r#"(import "wasi_snapshot_preview1" "fd_write" (func $f (param i32 i32 i32 i32) (result i32)))"#,
            "(i32.store (i32.const 32) (i32.const 1024)) (i32.store (i32.const 36) (i32.const 4096)) (drop (call $f (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 40)))",
        ),
        wasi(
            "path_open_missing",
            r#"(import "wasi_snapshot_preview1" "path_open" (func $f (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))"#,
            "(drop (call $f (i32.const 3) (i32.const 0) (i32.const 1024) (i32.const 64) (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 64)))",
        ),
        wasi(
            "args_get",
            r#"(import "wasi_snapshot_preview1" "args_get" (func $f (param i32 i32) (result i32)))"#,
            "(drop (call $f (i32.const 64) (i32.const 1024)))",
        ),
        path(
            "tx",
            "empty_tx",
            empty_callee(1, ""),
            Target::None,
        ),
    ]);
    paths
}

/// `ward.create` of a one-page module per repeat, each at a new salt (the
/// repeat and the block's height).
fn create() -> Path {
    let code = wat::parse_str(empty_callee(1, "")).expect("parses");
    let body = format!(
        "(i32.store (i32.const 64) (local.get $i))
      (i64.store (i32.const 68) (call $height))
      (if (call $create (i32.const 1024) (i32.const {}) (i32.const 0) (i32.const 0) (i32.const 64) (i64.const 10000000)) (then unreachable))",
        code.len()
    );
    let data = format!(r#"(data (i32.const 1024) "{}")"#, wat_bytes(&code));
    let import = r#"(import "ward" "create" (func $create (param i32 i32 i32 i32 i32 i64) (result i32)))
  (import "ward" "block_height" (func $height (result i64)))"#;
    path(
        "instance",
        "create",
        driver(import, 2, &data, &body),
        Target::None,
    )
}

/// EVM init code that returns `runtime` as the contract's code.
fn evm_returning(runtime: &[u8]) -> Vec<u8> {
    // PUSHn runtime, PUSH1 0, MSTORE, PUSH1 len, PUSH1 32-len, RETURN.
    let len = u8::try_from(runtime.len()).expect("short");
    let mut code = vec![0x5f + len];
    code.extend_from_slice(runtime);
    code.extend_from_slice(&[0x60, 0x00, 0x52, 0x60, len, 0x60, 32 - len, 0xf3]);
    code
}

/// Bytes as a WAT string literal.
fn wat_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

/// One path's figures on one backend.
#[derive(Clone, Debug)]
pub struct Row {
    /// The path's group.
    pub group: &'static str,
    /// The path's name.
    pub name: String,
    /// The backend.
    pub backend: BackendKind,
    /// Repeats per timed transaction.
    pub repeats: u32,
    /// Gas of one timed transaction.
    pub gas: u64,
    /// Nanoseconds per gas (median of the timed transactions).
    pub ns_per_gas: f64,
    /// What went wrong, when the path could not be measured.
    pub error: Option<String>,
}

impl Row {
    /// `ns_per_gas` over the target.
    pub fn ratio(&self) -> f64 {
        self.ns_per_gas / TARGET_NS_PER_GAS
    }
}

/// A path set up on one backend: an executor with the driver and its
/// target deployed.
struct Prepared {
    exec: Executor<MemoryStore>,
    driver: Address,
    target: [u8; 32],
    time: u64,
    nonce: u32,
}

/// An executor whose block limit never binds (the calibration builds its
/// own blocks), with the EVM runtime registered when it is built.
fn executor(kind: BackendKind) -> Executor<MemoryStore> {
    // The node's policy: WASI commands may be deployed.
    let mut config = Config::default();
    config.policy.imports = ward_vm::ImportPolicy::wasi();
    let limits = ChainLimits {
        max_block_gas: u64::MAX,
        ..ChainLimits::default()
    };
    let exec = Executor::new(
        Arc::new(MemoryStore::default()),
        crate::ward_backend(kind, &config),
        &config,
    )
    .with_limits(limits);
    match crate::sdk_contract("evm") {
        Some(runtime) => {
            let mut runtimes =
                ward_executor::Runtimes::new(crate::ward_backend(kind, &config), &config);
            let evm = ward_primitives::RuntimeName::new("evm").expect("a valid name");
            runtimes
                .register(evm, &runtime)
                .expect("the EVM runtime compiles");
            exec.with_runtimes(Arc::new(runtimes))
        }
        None => exec,
    }
}

impl Prepared {
    fn new(path: &Path, kind: BackendKind) -> Result<Prepared, String> {
        let exec = executor(kind);
        let mut prepared = Prepared {
            exec,
            driver: Address([0; 32]),
            target: [0; 32],
            time: 1,
            nonce: 0,
        };
        prepared.target = match &path.target {
            Target::None => [0; 32],
            Target::Contract(wat) => prepared.deploy(parse(wat)?, CodeKind::Ward)?.0,
            Target::CodeHash(wat) => {
                let code = parse(wat)?;
                prepared.deploy(code.clone(), CodeKind::Ward)?;
                ward_vm::CodeHash::of(&code).0
            }
            Target::Evm(init) => {
                if crate::sdk_contract("evm").is_none() {
                    return Err("contracts/evm is not built (make contracts)".into());
                }
                let evm = ward_primitives::RuntimeName::new("evm").expect("a valid name");
                prepared.deploy(init.clone(), CodeKind::Runtime(evm))?.0
            }
        };
        prepared.driver = prepared.deploy(parse(&path.driver)?, path.kind)?;
        Ok(prepared)
    }

    fn deploy(&mut self, code: Vec<u8>, kind: CodeKind) -> Result<Address, String> {
        self.nonce += 1;
        let tx = Tx {
            sender: SENDER,
            gas_limit: ChainLimits::default().max_tx_gas,
            value: 0,
            payload: Payload::Deploy(
                Deploy::new(code, Vec::new())
                    .with_salt(self.nonce.to_le_bytes().to_vec())
                    .with_kind(kind),
            ),
        };
        let receipt = self.block(vec![tx])?.remove(0);
        match (receipt.status.as_str(), receipt.address) {
            ("ok", Some(address)) => Ok(address),
            _ => Err(format!(
                "deploy failed: {} {:?}",
                receipt.status, receipt.error_message
            )),
        }
    }

    fn block(&mut self, txs: Vec<Tx>) -> Result<Vec<ward_state::Receipt>, String> {
        self.time += 1;
        self.exec
            .execute_block(&txs, self.time)
            .map_err(|e| e.to_string())
    }

    /// The transaction that runs the driver `n` times with `gas`.
    fn tx(&self, n: u32, gas: u64) -> Tx {
        Tx::call(SENDER, self.driver, input(n, &self.target), gas)
    }

    /// Runs the driver `n` times in one block of its own: the receipt's
    /// gas and the block's wall time.
    #[allow(
        clippy::disallowed_methods,
        reason = "a calibration measures wall time"
    )]
    fn run(&mut self, n: u32) -> Result<(u64, Duration), String> {
        let tx = self.tx(n, ChainLimits::default().max_tx_gas);
        let start = Instant::now();
        let receipts = self.block(vec![tx])?;
        let elapsed = start.elapsed();
        let receipt = &receipts[0];
        if !receipt.status.is_ok() {
            return Err(format!(
                "{} after {} gas: {:?}",
                receipt.status, receipt.gas_used, receipt.error_message
            ));
        }
        black_box(&receipts);
        Ok((receipt.gas_used, elapsed))
    }
}

fn parse(wat: &str) -> Result<Vec<u8>, String> {
    wat::parse_str(wat).map_err(|e| e.to_string())
}

/// Measures `path` on `kind` for about `budget`.
pub fn measure(path: &Path, kind: BackendKind, budget: Duration) -> Row {
    let mut row = Row {
        group: path.group,
        name: path.name.clone(),
        backend: kind,
        repeats: 0,
        gas: 0,
        ns_per_gas: f64::NAN,
        error: None,
    };
    match measure_inner(path, kind, budget, &mut row) {
        Ok(()) => row,
        Err(e) => {
            row.error = Some(e);
            row
        }
    }
}

/// The median of `samples`.
fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Times the path's transactions: with no repeats (the transaction's own
/// cost), then with `n` repeats; a path's figure is the difference in time
/// over the difference in gas (what one more gas of the path costs), or,
/// for the `tx` group, whose transactions do the same whatever the count,
/// a whole transaction's time over its gas.
#[allow(
    clippy::disallowed_methods,
    reason = "a calibration measures wall time"
)]
fn measure_inner(
    path: &Path,
    kind: BackendKind,
    budget: Duration,
    row: &mut Row,
) -> Result<(), String> {
    let mut prepared = Prepared::new(path, kind)?;
    let mut base = Vec::new();
    let mut gas0 = 0;
    for _ in 0..5 {
        let (gas, time) = prepared.run(0)?;
        gas0 = gas;
        base.push(time.as_nanos() as f64);
    }
    let time0 = median(&mut base);
    if path.group == "tx" {
        // A transaction's own cost, in blocks of many (a block's fixed
        // cost spread as it is in a full block).
        let mut samples = Vec::new();
        let end = Instant::now() + budget;
        while samples.len() < 3 || (Instant::now() < end && samples.len() < 20) {
            let txs = (0..TX_BLOCK).map(|_| prepared.tx(0, gas0)).collect();
            let start = Instant::now();
            let receipts = prepared.block(txs)?;
            let time = start.elapsed();
            let gas: u64 = receipts.iter().map(|r| r.gas_used).sum();
            samples.push(time.as_nanos() as f64 / gas as f64);
        }
        row.repeats = 0;
        row.gas = gas0;
        row.ns_per_gas = median(&mut samples);
        return Ok(());
    }
    let (gas1, time1) = prepared.run(1)?;
    let per_gas = gas1.saturating_sub(gas0).max(1);
    let per_time = (time1.as_nanos() as f64 - time0).max(10.0);
    let by_gas = TX_GAS / per_gas;
    let by_time = (TX_TIME.as_nanos() as f64 / per_time) as u64;
    let n = u32::try_from(by_gas.min(by_time).clamp(1, path.max_repeats)).unwrap_or(1);
    row.repeats = n;
    let mut samples = Vec::new();
    let end = Instant::now() + budget;
    while samples.len() < 3 || (Instant::now() < end && samples.len() < 50) {
        let (gas, time) = prepared.run(n)?;
        row.gas = gas;
        samples.push(time.as_nanos() as f64);
    }
    let extra_gas = row.gas.saturating_sub(gas0).max(1);
    row.ns_per_gas = (median(&mut samples) - time0).max(0.0) / extra_gas as f64;
    Ok(())
}

/// The worst block an attacker can build from `path` on `kind`: as many
/// transactions of the path as fit in the block gas limit, each with the
/// most gas a transaction may have, run as one block. Its gas and wall
/// time. A block that `ns_per_gas` says would take more than a minute is
/// not run: the error says what it would take.
#[allow(
    clippy::disallowed_methods,
    reason = "a calibration measures wall time"
)]
pub fn worst_block(
    path: &Path,
    kind: BackendKind,
    ns_per_gas: f64,
) -> Result<(u64, Duration), String> {
    let limits = ChainLimits::default();
    let estimate = ns_per_gas * limits.max_block_gas as f64 / 1e9;
    if estimate > 60.0 {
        return Err(format!("not run: it would take about {estimate:.0} s"));
    }
    let mut prepared = Prepared::new(path, kind)?;
    let (gas1, _) = prepared.run(1)?;
    let (gas2, _) = prepared.run(2)?;
    let per = gas2.saturating_sub(gas1).max(1);
    // As many repeats as a transaction takes, then as many transactions as
    // the block takes (the repeats and one transaction's overhead).
    // A path whose work does not grow with the count (a transaction's
    // own) fills the block with transactions of one repeat.
    let n = if gas2 == gas1 {
        1
    } else {
        ((limits.max_tx_gas - gas1) / per + 1).min(path.max_repeats)
    };
    let tx_gas = (gas1 + (n - 1) * per).min(limits.max_tx_gas);
    let txs_per_block = (limits.max_block_gas / tx_gas).max(1);
    let n = u32::try_from(n).unwrap_or(u32::MAX);
    let txs: Vec<Tx> = (0..txs_per_block).map(|_| prepared.tx(n, tx_gas)).collect();
    let start = Instant::now();
    let receipts = prepared.block(txs)?;
    let elapsed = start.elapsed();
    let gas = receipts.iter().map(|r| r.gas_used).sum();
    Ok((gas, elapsed))
}
