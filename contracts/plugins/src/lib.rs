//! Plugins: Wasm modules that users upload and anyone runs, each as a
//! child of this contract (`ward_sdk::vm`), which services the few
//! syscalls a plugin has.
//!
//! | method | arguments | result |
//! |---|---|---|
//! | `upload` | `code: Vec<u8>` | `u64` (the plugin's id) |
//! | `run` | `id: u64, input: Vec<u8>, gas: u64` | `(i64, Vec<u8>, u64)` (its result, output, and the gas the run took) |
//! | `remove` | `id: u64` | (its uploader only) |
//! | `owner` | `id: u64` | `Option<Address>` |
//!
//! A plugin exports `memory` and `run: [] -> [i64]`, and imports one
//! function, `env.ward(op: i64, a: i64, b: i64) -> i64`. A *span* packs a
//! range of the plugin's memory as `offset << 32 | len`. The ops:
//!
//! | op | name | arguments | result |
//! |---|---|---|---|
//! | 0 | `input_len` | | the input's length |
//! | 1 | `input_read` | `dst: span` | bytes copied (at most `len`) |
//! | 2 | `storage_read` | `key: span, dst: span` | the value's length (at most `len` copied), or -1 |
//! | 3 | `storage_write` | `key: span, value: span` | 0 |
//! | 4 | `emit` | `topic: span, data: span` | 0 (a `PluginEvent`) |
//! | 5 | `output` | `data: span` | 0 (replaces the output) |
//!
//! Storage is the plugin's own: its keys live under the plugin's id in
//! this contract's storage, out of reach of every other plugin. A plugin
//! runs with at most the `gas` the caller names (and what the call has
//! left): it comes out of the caller's transaction, and `run` says how much
//! the run took (compiling, the plugin's own gas and the services it
//! asked for). A plugin that traps, runs out of gas, asks for an unknown op or
//! a range outside its memory reverts the call (exit code 3), undoing its
//! writes and events.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::{format, vec};

use ward_sdk::{
    prelude::*,
    storage,
    vm::{self, Instance, Step},
};

/// id -> the plugin's code.
const CODE: Map<u64, Vec<u8>> = Map::new(b"c:");
/// id -> who uploaded it.
const OWNERS: Map<u64, Address> = Map::new(b"o:");
/// The next id.
const NEXT: Item<u64> = Item::new(b"next");
/// Where a plugin's own storage starts: this, then its id (8 bytes LE).
const DATA_PREFIX: &[u8] = b"d:";
/// Longest key a plugin may use: Ward's limit less the prefix and the id.
const MAX_PLUGIN_KEY: usize = storage::MAX_KEY_BYTES as usize - DATA_PREFIX.len() - 8;
/// The exit code of a call whose plugin failed.
const PLUGIN_FAILED: u32 = 3;

/// A plugin's request that cannot be served: the call reverts.
fn fault(id: u64, why: &str) -> ! {
    revert(PLUGIN_FAILED, &format!("plugin {id}: {why}"))
}

/// The range a span names, read from the plugin's memory.
fn read_span(child: &Instance, id: u64, span: i64) -> Vec<u8> {
    let (offset, len) = ((span as u64) >> 32, (span as u64) & 0xffff_ffff);
    if len > u64::from(storage::MAX_VALUE_BYTES) {
        fault(id, "a range longer than 64 KiB")
    }
    let mut bytes = vec![0u8; len as usize];
    match child.read_memory(offset, &mut bytes) {
        Ok(()) => bytes,
        Err(_) => fault(id, "a range outside its memory"),
    }
}

/// Writes as much of `data` as the span `dst` holds; returns how much.
fn write_span(child: &Instance, id: u64, dst: i64, data: &[u8]) -> i64 {
    let (offset, len) = ((dst as u64) >> 32, (dst as u64) & 0xffff_ffff);
    let n = data.len().min(len as usize);
    if child.write_memory(offset, &data[..n]).is_err() {
        fault(id, "a range outside its memory")
    }
    n as i64
}

/// The storage key of the plugin's `key`.
fn data_key(id: u64, key: &[u8]) -> Vec<u8> {
    if key.len() > MAX_PLUGIN_KEY {
        fault(id, "a storage key too long")
    }
    let mut full = DATA_PREFIX.to_vec();
    full.extend(id.to_le_bytes());
    full.extend(key);
    full
}

/// Serves syscall `op` of plugin `id`.
fn serve(child: &Instance, id: u64, input: &[u8], output: &mut Vec<u8>, args: &[i64]) -> i64 {
    let arg = |i: usize| args.get(i).copied().unwrap_or(0);
    match arg(0) {
        0 => input.len() as i64,
        1 => write_span(child, id, arg(1), input),
        2 => {
            let key = data_key(id, &read_span(child, id, arg(1)));
            match storage::read(&key) {
                Some(value) => {
                    write_span(child, id, arg(2), &value);
                    value.len() as i64
                }
                None => -1,
            }
        }
        3 => {
            let key = data_key(id, &read_span(child, id, arg(1)));
            storage::write(&key, &read_span(child, id, arg(2)));
            0
        }
        4 => {
            let topic = read_span(child, id, arg(1));
            let data = read_span(child, id, arg(2));
            emit(PluginEvent { id, topic, data });
            0
        }
        5 => {
            *output = read_span(child, id, arg(1));
            0
        }
        _ => fault(id, "an unknown op"),
    }
}

ward_sdk::contract! {
    /// Plugin `id` (`size` bytes) was uploaded by `owner`.
    pub event Uploaded { id: u64, owner: Address, size: u64 }

    /// Plugin `id` was removed.
    pub event Removed { id: u64 }

    /// Plugin `id` emitted an event.
    pub event PluginEvent { id: u64, topic: Vec<u8>, data: Vec<u8> }

    /// Stores `code` as a new plugin of the caller's and returns its id.
    /// Reverts unless it compiles as a child exporting `run: [] -> [i64]`.
    pub fn upload(code: Vec<u8>) -> u64 {
        let module = match vm::compile(&code) {
            Ok(module) => module,
            Err(e) => revert(2, &format!("not a plugin: error {}", e.0)),
        };
        require!(module.arity("run") == Ok(0), "a plugin exports `run: [] -> [i64]`");
        let id = NEXT.get().unwrap_or(0);
        NEXT.set(&(id + 1));
        CODE.set(&id, &code);
        OWNERS.set(&id, &caller());
        emit(Uploaded { id, owner: caller(), size: code.len() as u64 });
        id
    }

    /// Runs plugin `id` on `input` with at most `gas`; returns its result,
    /// its output and the gas the run took.
    pub fn run(id: u64, input: Vec<u8>, gas: u64) -> (i64, Vec<u8>, u64) {
        let Some(code) = CODE.get(&id) else { revert(2, "no such plugin") };
        let before = ward_sdk::env::gas_left();
        let child = match vm::compile(&code).and_then(|m| m.instantiate()) {
            Ok(child) => child,
            Err(e) => fault(id, &format!("cannot start: error {}", e.0)),
        };
        let mut output = Vec::new();
        let mut step = child.run("run", &[], gas);
        loop {
            match step {
                Ok(Step::Syscall { args, .. }) => {
                    let value = serve(&child, id, &input, &mut output, &args);
                    step = child.resume(value);
                }
                Ok(Step::Finished { result, .. }) => {
                    let used = before.saturating_sub(ward_sdk::env::gas_left());
                    return (result.unwrap_or(0), output, used);
                }
                Err(e) => match e.trap_kind() {
                    Some(kind) => fault(id, &format!("trapped: {kind}")),
                    None if e.0 == vm::OUT_OF_GAS => fault(id, "out of gas"),
                    None => fault(id, &format!("error {}", e.0)),
                },
            }
        }
    }

    /// Removes plugin `id`; only its uploader may.
    pub fn remove(id: u64) {
        require!(OWNERS.get(&id) == Some(caller()), "only the uploader removes a plugin");
        CODE.remove(&id);
        OWNERS.remove(&id);
        emit(Removed { id });
    }

    /// Who uploaded plugin `id`.
    #[read_only]
    pub fn owner(id: u64) -> Option<Address> {
        OWNERS.get(&id)
    }
}
