//! Events: a topic and encoded data, kept only if the transaction succeeds.
//!
//! A contract declares its events in [`contract!`](crate::contract) (`event
//! NAME { FIELD: TYPE, ... }`), which makes each a struct that [`emit`]
//! takes: the topic is the event's name, the data its fields in order, and
//! the contract's schema lists them so that clients can show them by name.
#![allow(unsafe_code, reason = "thin wrapper over the raw host import")]

use crate::{
    codec::{Encode, encode},
    env::{len, ptr},
    schema::EventSchema,
    sys,
};

/// An event declared in [`contract!`](crate::contract).
pub trait Event: Encode {
    /// Its name (the topic) and fields, as the schema records them.
    const SCHEMA: EventSchema;
}

/// Emits `event`: its name as the topic and its fields' encoding as the
/// data. Traps in a read-only call.
pub fn emit<E: Event>(event: E) {
    emit_raw(E::SCHEMA.name.as_bytes(), &encode(&event));
}

/// Emits an event with raw topic (at most 256 bytes) and data bytes,
/// outside the schema.
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
