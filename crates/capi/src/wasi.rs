//! Calls of modules that import WASI preview 1 (`docs/wasi.md`,
//! `docs/embedding.md`): a fresh, deterministic WASI state per call, and
//! the call's log (`debug_log`, and what WASI writes to stdout and
//! stderr).

use ward_vm::{CallContext, Entry, Failure, Module};
use ward_wasi::{Wasi, WasiConfig};

use crate::{
    WardCall, WardCallOptions,
    boundary::{self, WardError, WardStatus},
};

/// The entry and context of a call of `entry` in `module`, a module that
/// imports WASI. Its WASI state is fresh: `argv` is the contract's
/// address (`0x` and hex), no environment, no files; realtime is the
/// block's time (seconds x 10^9), random bytes are keyed by the call's
/// `wasi_seed`; limits are a contract's ([`WasiConfig::contract`]). The entry
/// is a method (`_start` too, run only when named), run after
/// `_initialize` when the module exports one; what it writes to stdout
/// goes to its log as stderr does (its output is what it writes with
/// `ward.output_write`), as a WASI reactor's in the executor.
///
/// # Errors
///
/// `entry_not_found` for `_initialize`, which is no method
/// ([`Entry::reactor_method`]).
pub(crate) fn prepare(
    module: &Module,
    entry: &str,
    options: &WardCallOptions,
    context: CallContext,
) -> Result<(Entry, CallContext), Failure> {
    let method = Entry::reactor_method(module, entry)?;
    let config = WasiConfig::contract(
        ward_primitives::Address(options.self_address).to_string(),
        options.block_time,
        options.wasi_seed,
    );
    // No preopens: a configuration that cannot fail.
    let context = match Wasi::new(&config) {
        Ok(wasi) => context.with_wasi(wasi),
        Err(_) => context,
    };
    Ok((method, context.with_wasi_stdout_logged()))
}

/// How many lines the finished call logged: its `debug_log` calls and,
/// for a WASI module, the lines it wrote to stdout and to stderr (without
/// their newlines), in order, at most 64 KiB of them (a last line says how many
/// more were dropped). 0 for a call that has not finished, or NULL.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `call`: NULL, or a `WardCall` this API returned and that is not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_call_log_count(call: *const WardCall) -> usize {
    boundary::guarded(|| {
        // SAFETY: `call` is as the contract above says.
        let call = unsafe { boundary::borrow(call, "call") }?;
        Ok(call.log().len())
    })
    .unwrap_or(0)
}

/// Points `*line` and `*line_len` at the finished call's log line
/// `index` (UTF-8, invalid sequences replaced), valid until the call is
/// freed.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `call`: NULL, or a `WardCall` this API returned and that is not freed;
/// - `line`: NULL, or a `const uint8_t *` this may write;
/// - `line_len`: NULL, or a `size_t` this may write;
/// - `error`: NULL, or a `WardError *` this may write (an error the caller then frees).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_call_log_line(
    call: *const WardCall,
    index: usize,
    line: *mut *const u8,
    line_len: *mut usize,
    error: *mut *mut WardError,
) -> WardStatus {
    let result = boundary::guarded(|| {
        // SAFETY: `call` is as the contract above says.
        let call = unsafe { boundary::borrow(call, "call") }?;
        let log = call.log();
        let Some(text) = log.get(index) else {
            return Err(WardError::invalid(format!(
                "log line {index} of {}: no such line",
                log.len()
            )));
        };
        // SAFETY: `line` is NULL or writable, as the contract above says.
        unsafe { boundary::put(line, text.as_ptr(), "line") }?;
        // SAFETY: `line_len` is NULL or writable, as the contract above says.
        unsafe { boundary::put(line_len, text.len(), "line_len") }
    });
    // SAFETY: `error` is NULL or writable, as the contract above says.
    unsafe { boundary::status(error, result) }
}

/// Whether `module` imports WASI preview 1 (`wasi_snapshot_preview1`), so
/// that its calls get a WASI state (false for NULL).
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `module`: NULL, or a `WardModule` this API returned and that is not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_module_wasi(module: *const crate::WardModule) -> bool {
    boundary::guarded(|| {
        // SAFETY: `module` is as the contract above says.
        let module = unsafe { boundary::borrow(module, "module") }?;
        Ok(module.wasi)
    })
    .unwrap_or(false)
}
