//! Ward for hosts written in C, or in any language that calls C (Go
//! through cgo: `bindings/go`). The header is `include/ward.h`, generated
//! from this crate by cbindgen and checked in (`tests/header.rs` fails
//! when it is stale; `BLESS=1` rewrites it).
//!
//! An embedder makes one [`WardEngine`] (a backend, its policy and a
//! module cache), prepares modules with it ([`WardModule`]: validated,
//! instrumented for gas and compiled once per code hash; a module the
//! policy refuses is a typed error), and runs calls ([`WardCall`]).
//!
//! From Rust (the same functions C calls; `tests/c/ward_test.c` is the
//! C program):
//!
//! ```
//! use ward_capi::*;
//!
//! // SAFETY: every pointer passed is null where the function allows it,
//! // or one this crate returned and not yet freed, or a live buffer with
//! // its true length.
//! unsafe {
//!     let engine = ward_engine_new(std::ptr::null(), std::ptr::null_mut()); // wasmtime
//!     assert!(!engine.is_null());
//!     assert_eq!(ward_engine_health(engine, std::ptr::null_mut()), WardStatus::Ok);
//!     // Not Wasm: refused, with Ward's error kind.
//!     let bytes = b"\0asm\x02";
//!     let mut error = std::ptr::null_mut();
//!     let status = ward_validate(engine, bytes.as_ptr(), bytes.len(), &mut error);
//!     assert_eq!(status, WardStatus::Rejected);
//!     let kind = std::ffi::CStr::from_ptr(ward_error_kind(error));
//!     assert_eq!(kind.to_str(), Ok("invalid_wasm"));
//!     ward_error_free(error);
//!     ward_engine_free(engine);
//! }
//! ```
//!
//! # Suspensions, not callbacks
//!
//! A call's storage reads and writes, its events and its calls into other
//! contracts reach the embedder as *requests*: [`ward_call_begin`] runs
//! the guest until it needs one, and returns; the embedder reads the
//! request ([`ward_call_request`]), does what it asks however it likes
//! (its database, another call of its own for a nested contract), and
//! answers it (`ward_call_reply_*`), which runs the guest to its next
//! request or its end. No function pointer is ever called back:
//!
//! - a callback would run on the guest's stack, inside the engine, and a
//!   host that serves a nested call from it re-enters Ward there: native
//!   recursion as deep as the contracts' calls, which is what broke
//!   earlier runtimes (a re-entrant allocator crashed CosmWasm nodes,
//!   CWA-2023-002; wasm to host to wasm re-entry reset wasmtime's stack
//!   limit, wasmtime PR 4295). Here a nested call is the embedder's own
//!   loop, and the native stack never grows with the depth of calls;
//! - Go cannot safely run a callback on a stack Ward switched to (a
//!   fiber): its runtime checks the stack it is on. Every function here
//!   returns promptly on the caller's own stack;
//! - an exception or `longjmp` out of a callback through Rust frames is
//!   undefined behaviour; with nothing called back, there are none.
//!
//! The gas is Ward's own instrumentation's, identical to the Rust API's
//! for the same module, input and answers, on either backend: a request
//! is charged before it is made, as the Rust executor's are.
//!
//! # Errors, ownership and threads
//!
//! Every function that can fail returns a [`WardStatus`] (or NULL) and,
//! when its `error` argument is not NULL, stores a [`WardError`] there
//! that the caller frees with [`ward_error_free`]. No panic crosses the
//! boundary: each entry point catches one and reports it as
//! [`WardStatus::Internal`]. Everything this API returns is freed with
//! this API's own function for it; pointers into a call's request or
//! outcome stay valid until the call's next reply or its free.
//! [`WardEngine`] and [`WardModule`] may be used from any number of
//! threads at once; a [`WardCall`] from one thread at a time (it may move
//! between threads).

#![allow(
    unsafe_code,
    reason = "a C API: every entry point takes raw pointers from C"
)]

// Every entry point that takes a pointer is an `unsafe extern "C" fn`
// whose `# Safety` section (copied into `ward.h`) says what each pointer
// must be; the helpers that dereference them (`boundary`) are `unsafe fn`s
// with contracts of their own, so a Rust caller of this crate cannot
// reach a dereference without `unsafe`.

mod boundary;
mod call;
mod cancel;
mod engine;
mod module;
#[cfg(test)]
mod tests;
mod wasi;

pub use boundary::{
    WardBytes, WardError, WardStatus, ward_bytes_free, ward_error_code, ward_error_free,
    ward_error_kind, ward_error_message, ward_string_free,
};
pub use call::{
    WardCall, WardCallOptions, WardCallState, WardOutcome, WardRequest, WardRequestKind,
    ward_call_begin, ward_call_free, ward_call_options_default, ward_call_outcome,
    ward_call_reply_call, ward_call_reply_done, ward_call_reply_read, ward_call_reply_trap,
    ward_call_request, ward_call_state,
};
pub use cancel::{WardCancel, ward_call_cancel, ward_cancel_free, ward_cancel_new};
pub use engine::{
    WardBackend, WardEngine, WardEngineOptions, ward_engine_deploy_gas, ward_engine_free,
    ward_engine_health, ward_engine_new, ward_engine_options_default, ward_validate, ward_version,
};
pub use module::{
    WardModule, ward_module_decode_event, ward_module_decode_output, ward_module_encode_call,
    ward_module_encode_init, ward_module_free, ward_module_hash, ward_module_new,
    ward_module_refused_call_gas, ward_module_schema,
};
pub use wasi::{ward_call_log_count, ward_call_log_line, ward_module_wasi};
