//! Modules: checked, instrumented and compiled once per code hash; and
//! the contract schema's JSON (`docs/contracts.md`), for hosts that call
//! contracts by method name with JSON arguments.

use std::ffi::c_char;

use ward_chain::schema::Schema;
use ward_vm::{Failure, Module};

use crate::{
    WardEngine,
    boundary::{self, WardBytes, WardError, WardStatus},
};

/// A module ready to run: validated against its engine's policy,
/// instrumented for gas, compiled; with its schema when it carries one.
/// Immutable: safe to use from any number of threads at once. Freed with
/// [`ward_module_free`] (before its engine).
pub struct WardModule {
    pub(crate) module: Module,
    hash: [u8; 32],
    schema: Option<Schema>,
    /// It imports `wasi_snapshot_preview1`: its calls get a WASI state.
    pub(crate) wasi: bool,
    /// Its engine's `host_per_byte` ([`ward_module_refused_call_gas`]).
    host_per_byte: u64,
}

/// A rejection as an error: its kind is Ward's error kind.
pub(crate) fn rejected(failure: &Failure) -> WardError {
    WardError::new(
        WardStatus::Rejected,
        failure.kind.as_str(),
        failure.message.clone(),
    )
}

/// The schema section must read when there is one (as a deploy checks).
pub(crate) fn check_schema(wasm: &[u8]) -> Result<(), WardError> {
    schema_of(wasm).map(drop)
}

fn schema_of(wasm: &[u8]) -> Result<Option<Schema>, WardError> {
    Schema::from_module(wasm)
        .map_err(|e| WardError::new(WardStatus::Rejected, "invalid_schema", e.to_string()))
}

/// Prepares `wasm` on `engine`: checks it (as [`crate::ward_validate`]
/// does), instruments and compiles it, or takes it from the engine's cache
/// when the same code was prepared before (a refusal is cached too). NULL
/// on failure: [`WardStatus::Rejected`] with the reason's kind.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `engine`: NULL, or a `WardEngine` this API returned and that is not freed;
/// - `wasm`: NULL, or `wasm_len` readable bytes, unchanged during the call;
/// - `error`: NULL, or a `WardError *` this may write (an error the caller then frees).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_module_new(
    engine: *const WardEngine,
    wasm: *const u8,
    wasm_len: usize,
    error: *mut *mut WardError,
) -> *mut WardModule {
    let result = boundary::guarded(|| {
        // SAFETY: `engine` is as the contract above says.
        let engine = unsafe { boundary::borrow(engine, "engine") }?;
        // SAFETY: `wasm` is as the contract above says.
        let wasm = unsafe { boundary::bytes(wasm, wasm_len, "wasm") }?;
        let schema = schema_of(wasm)?;
        let module = engine
            .cache
            .get_or_compile(wasm)
            .map_err(|failure| rejected(&failure))?;
        let wasi = module
            .imports()
            .iter()
            .any(|import| import.module == ward_abi::WASI_MODULE);
        Ok(WardModule {
            module,
            hash: ward_vm::CodeHash::of(wasm).0,
            schema,
            wasi,
            host_per_byte: u64::from(engine.cache.config().policy.schedule.host_per_byte),
        })
    });
    // SAFETY: `error` is NULL or writable, as the contract above says.
    unsafe { boundary::object(error, result) }
}

/// Frees a module (NULL: nothing).
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `module`: NULL, or a `WardModule` this API returned and that is not freed and used by no other thread during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_module_free(module: *mut WardModule) {
    // SAFETY: `module` is NULL or this API's and not freed before, as the contract above says.
    unsafe { boundary::free(module) };
}

/// Writes the module's code hash (BLAKE3 of its bytes, what the engine's
/// cache is keyed by) to the 32 bytes at `out`.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `module`: NULL, or a `WardModule` this API returned and that is not freed;
/// - `out`: NULL, or a `[u8; 32]` this may write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_module_hash(
    module: *const WardModule,
    out: *mut [u8; 32],
) -> WardStatus {
    boundary::report(boundary::guarded(|| {
        // SAFETY: `module` is as the contract above says.
        let module = unsafe { boundary::borrow(module, "module") }?;
        // SAFETY: `out` is NULL or writable, as the contract above says.
        unsafe { boundary::put(out, module.hash, "out") }
    }))
}

/// The gas a call of `module` is charged when it is refused before its
/// code runs (a method or arguments its schema refuses, an entry it does
/// not export): the module's instance cost, which every call of it pays
/// before its code runs (`docs/gas.md`, "Instances"), and `host_per_byte`
/// for each of the `input_len` bytes of input read to refuse it;
/// saturating. A host charges it so that a malformed call is never free.
/// 0 for NULL.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `module`: NULL, or a `WardModule` this API returned and that is not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_module_refused_call_gas(
    module: *const WardModule,
    input_len: usize,
) -> u64 {
    boundary::guarded(|| {
        // SAFETY: `module` is as the contract above says.
        let module = unsafe { boundary::borrow(module, "module") }?;
        Ok(module.refused_call_gas(input_len))
    })
    .unwrap_or(0)
}

impl WardModule {
    /// See [`ward_module_refused_call_gas`].
    pub(crate) fn refused_call_gas(&self, input_len: usize) -> u64 {
        self.module
            .instance_gas()
            .saturating_add(self.host_per_byte.saturating_mul(input_len as u64))
    }

    fn schema(&self) -> Result<&Schema, WardError> {
        self.schema.as_ref().ok_or_else(|| {
            WardError::new(
                WardStatus::BadArguments,
                "no_schema",
                "the module has no schema (a `ward.schema` section): pass raw input",
            )
        })
    }
}

fn bad_arguments(message: String) -> WardError {
    WardError::new(WardStatus::BadArguments, "bad_arguments", message)
}

/// The module's schema as JSON (`docs/contracts.md`), into `*out` (free
/// it with [`crate::ward_string_free`]); `null` for a module without one.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `module`: NULL, or a `WardModule` this API returned and that is not freed;
/// - `out`: NULL, or a `*mut c_char` this may write;
/// - `error`: NULL, or a `WardError *` this may write (an error the caller then frees).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_module_schema(
    module: *const WardModule,
    out: *mut *mut c_char,
    error: *mut *mut WardError,
) -> WardStatus {
    let result = boundary::guarded(|| {
        // SAFETY: `module` is as the contract above says.
        let module = unsafe { boundary::borrow(module, "module") }?;
        let json = module
            .schema
            .as_ref()
            .map_or(serde_json::Value::Null, Schema::to_json);
        // SAFETY: `out` is NULL or writable, as the contract above says.
        unsafe { boundary::give_string(out, &json.to_string()) }
    });
    // SAFETY: `error` is NULL or writable, as the contract above says.
    unsafe { boundary::status(error, result) }
}

/// A call's input for `method` with `args_json` (a JSON object of its
/// arguments by name, or NULL for none), encoded as the schema says, into
/// `*out` (free it with [`crate::ward_bytes_free`]).
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `module`: NULL, or a `WardModule` this API returned and that is not freed;
/// - `method`: NULL or a NUL-terminated string, unchanged during the call;
/// - `args_json`: NULL or a NUL-terminated string, unchanged during the call;
/// - `out`: NULL, or a `WardBytes` this may write (bytes the caller then frees);
/// - `error`: NULL, or a `WardError *` this may write (an error the caller then frees).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_module_encode_call(
    module: *const WardModule,
    method: *const c_char,
    args_json: *const c_char,
    out: *mut WardBytes,
    error: *mut *mut WardError,
) -> WardStatus {
    let result = boundary::guarded(|| {
        // SAFETY: `module` is as the contract above says.
        let module = unsafe { boundary::borrow(module, "module") }?;
        // SAFETY: `method` is as the contract above says.
        let method = unsafe { boundary::required_str(method, "method") }?;
        // SAFETY: `args_json` is as the contract above says.
        let args = unsafe { json_arguments(args_json) }?;
        let input = module
            .schema()?
            .encode_call(method, &args)
            .map_err(|e| bad_arguments(e.to_string()))?;
        // SAFETY: `out` is NULL or writable, as the contract above says.
        unsafe { boundary::put(out, WardBytes::of(input), "out") }
    });
    // SAFETY: `error` is NULL or writable, as the contract above says.
    unsafe { boundary::status(error, result) }
}

/// A deploy's input: `init`'s arguments from `args_json` (as
/// [`ward_module_encode_call`]), into `*out`.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `module`: NULL, or a `WardModule` this API returned and that is not freed;
/// - `args_json`: NULL or a NUL-terminated string, unchanged during the call;
/// - `out`: NULL, or a `WardBytes` this may write (bytes the caller then frees);
/// - `error`: NULL, or a `WardError *` this may write (an error the caller then frees).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_module_encode_init(
    module: *const WardModule,
    args_json: *const c_char,
    out: *mut WardBytes,
    error: *mut *mut WardError,
) -> WardStatus {
    let result = boundary::guarded(|| {
        // SAFETY: `module` is as the contract above says.
        let module = unsafe { boundary::borrow(module, "module") }?;
        // SAFETY: `args_json` is as the contract above says.
        let args = unsafe { json_arguments(args_json) }?;
        let input = module
            .schema()?
            .encode_init(&args)
            .map_err(|e| bad_arguments(e.to_string()))?;
        // SAFETY: `out` is NULL or writable, as the contract above says.
        unsafe { boundary::put(out, WardBytes::of(input), "out") }
    });
    // SAFETY: `error` is NULL or writable, as the contract above says.
    unsafe { boundary::status(error, result) }
}

/// `args_json` read as JSON (NULL: `null`).
///
/// # Safety
///
/// `args_json` is NULL or a NUL-terminated string, unchanged during the
/// call.
unsafe fn json_arguments(args_json: *const c_char) -> Result<serde_json::Value, WardError> {
    // SAFETY: as this function's contract says.
    match unsafe { boundary::optional_str(args_json, "args_json") }? {
        None => Ok(serde_json::Value::Null),
        Some(text) => serde_json::from_str(text)
            .map_err(|e| bad_arguments(format!("the arguments are not JSON: {e}"))),
    }
}

/// A call's output for `method` as JSON by its return type (`null` for
/// none), into `*out` (free it with [`crate::ward_string_free`]).
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `module`: NULL, or a `WardModule` this API returned and that is not freed;
/// - `method`: NULL or a NUL-terminated string, unchanged during the call;
/// - `output`: NULL, or `output_len` readable bytes, unchanged during the call;
/// - `out`: NULL, or a `*mut c_char` this may write;
/// - `error`: NULL, or a `WardError *` this may write (an error the caller then frees).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_module_decode_output(
    module: *const WardModule,
    method: *const c_char,
    output: *const u8,
    output_len: usize,
    out: *mut *mut c_char,
    error: *mut *mut WardError,
) -> WardStatus {
    let result = boundary::guarded(|| {
        // SAFETY: `module` is as the contract above says.
        let module = unsafe { boundary::borrow(module, "module") }?;
        // SAFETY: `method` is as the contract above says.
        let method = unsafe { boundary::required_str(method, "method") }?;
        // SAFETY: `output` is as the contract above says.
        let output = unsafe { boundary::bytes(output, output_len, "output") }?;
        let value = module
            .schema()?
            .decode_output(method, output)
            .map_err(|e| bad_arguments(e.to_string()))?;
        // SAFETY: `out` is NULL or writable, as the contract above says.
        unsafe { boundary::give_string(out, &value.to_string()) }
    });
    // SAFETY: `error` is NULL or writable, as the contract above says.
    unsafe { boundary::status(error, result) }
}

/// An event as JSON, `{"name", "fields"}`, by the event its topic names
/// in the schema, into `*out` (free it with [`crate::ward_string_free`]);
/// `null` when the schema declares no such event.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `module`: NULL, or a `WardModule` this API returned and that is not freed;
/// - `topic`: NULL, or `topic_len` readable bytes, unchanged during the call;
/// - `data`: NULL, or `data_len` readable bytes, unchanged during the call;
/// - `out`: NULL, or a `*mut c_char` this may write;
/// - `error`: NULL, or a `WardError *` this may write (an error the caller then frees).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_module_decode_event(
    module: *const WardModule,
    topic: *const u8,
    topic_len: usize,
    data: *const u8,
    data_len: usize,
    out: *mut *mut c_char,
    error: *mut *mut WardError,
) -> WardStatus {
    let result = boundary::guarded(|| {
        // SAFETY: `module` is as the contract above says.
        let module = unsafe { boundary::borrow(module, "module") }?;
        // SAFETY: `topic` is as the contract above says.
        let topic = unsafe { boundary::bytes(topic, topic_len, "topic") }?;
        // SAFETY: `data` is as the contract above says.
        let data = unsafe { boundary::bytes(data, data_len, "data") }?;
        let json = match module.schema()?.decode_event(topic, data) {
            None => serde_json::Value::Null,
            Some(Ok((event, fields))) => {
                serde_json::json!({ "name": event.name, "fields": fields })
            }
            Some(Err(e)) => return Err(bad_arguments(e.to_string())),
        };
        // SAFETY: `out` is NULL or writable, as the contract above says.
        unsafe { boundary::give_string(out, &json.to_string()) }
    });
    // SAFETY: `error` is NULL or writable, as the contract above says.
    unsafe { boundary::status(error, result) }
}
