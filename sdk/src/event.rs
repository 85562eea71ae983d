//! Events: a topic and encoded data, kept only if the transaction succeeds.
#![allow(unsafe_code, reason = "thin wrapper over the raw host import")]

use crate::{
    codec::{Encode, encode},
    env::{len, ptr},
    sys,
};

/// Emits an event: `topic` (at most 256 bytes) and `data`'s encoding.
/// Traps in a read-only call.
pub fn emit<T: Encode + ?Sized>(topic: &str, data: &T) {
    emit_raw(topic.as_bytes(), &encode(data));
}

/// Emits an event with raw topic and data bytes.
pub fn emit_raw(topic: &[u8], data: &[u8]) {
    // SAFETY: the host checks the ranges; both are live slices.
    unsafe {
        sys::emit_event(
            ptr(topic.as_ptr()),
            len(topic.len()),
            ptr(data.as_ptr()),
            len(data.len()),
        )
    }
}
