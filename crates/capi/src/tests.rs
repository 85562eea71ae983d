//! What the C API decides itself, before any host is asked.

#![allow(clippy::unwrap_used, reason = "test")]

use std::ptr;

use crate::{
    WardCallState, WardOutcome, ward_call_begin, ward_call_free, ward_call_outcome,
    ward_call_state, ward_engine_free, ward_engine_new, ward_module_free, ward_module_new,
};

/// A contract that calls the zero address with `flags` and outputs the
/// call's status.
fn caller(flags: i32) -> Vec<u8> {
    ward_testkit::wasm(&format!(
        r#"(module
  (import "ward" "call" (func $call (param i32 i32 i32 i64 i32) (result i32)))
  (import "ward" "output_write" (func $out (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (i32.store (i32.const 64)
      (call $call (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 100000) (i32.const {flags})))
    (call $out (i32.const 64) (i32.const 4))))"#
    ))
}

/// Runs `wasm`'s `main` with the default options until it stops: its
/// state, and its output when it finished.
fn run(wasm: &[u8]) -> (WardCallState, Option<Vec<u8>>) {
    // SAFETY: every pointer is this API's own or a live buffer, each
    // object is freed once, after its last use.
    unsafe {
        let engine = ward_engine_new(ptr::null(), ptr::null_mut());
        assert!(!engine.is_null());
        let module = ward_module_new(engine, wasm.as_ptr(), wasm.len(), ptr::null_mut());
        assert!(!module.is_null());
        let call = ward_call_begin(engine, module, ptr::null(), ptr::null_mut());
        assert!(!call.is_null());
        let state = ward_call_state(call);
        let mut outcome = std::mem::MaybeUninit::<WardOutcome>::uninit();
        let output = (state == WardCallState::Finished).then(|| {
            ward_call_outcome(call, outcome.as_mut_ptr(), ptr::null_mut());
            let outcome = outcome.assume_init();
            std::slice::from_raw_parts(outcome.output, outcome.output_len).to_vec()
        });
        ward_call_free(call);
        ward_module_free(module);
        ward_engine_free(engine);
        (state, output)
    }
}

#[test]
fn a_code_call_fails_without_asking_the_host() {
    // A plain call is the host's to run: the guest waits for it.
    assert_eq!(run(&caller(0)), (WardCallState::Suspended, None));
    // A code call (`CALL_CODE`, the EVM's `CALLCODE`) is not offered to
    // a host: it fails (status 2) and the guest goes on.
    assert_eq!(
        run(&caller(4)),
        (WardCallState::Finished, Some(2i32.to_le_bytes().to_vec()))
    );
}
