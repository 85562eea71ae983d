//! What the EVM keeps for a whole transaction, across its frames: the
//! addresses and storage slots it has accessed (EIP-2929) and each slot's
//! value when the transaction began (EIP-2200's original value). A frame
//! is one Ward frame, so these live in Ward's transient storage as the
//! runtime's own bookkeeping (`docs/runtimes.md`, "Bookkeeping"): keys
//! longer than a word, written even in a read-only frame, and undone with
//! a frame that reverts or fails, as the EVM undoes a reverted frame's
//! accesses.
//!
//! - An accessed address: `[0xff, 0x01]` and its 32-byte Ward address, in
//!   the space every EVM frame of the transaction shares; the value is
//!   one byte.
//! - An accessed slot of the running contract: `0x01` and the slot's
//!   32-byte key, in the contract's own space; the value is the slot's
//!   original value (32 bytes, big-endian).
//! - A static context (`STATICCALL`): `[0xff, 0x02]` and 32 zero bytes,
//!   in the shared space, while a frame that was not static itself waits
//!   for the `STATICCALL` it made. Ward's read-only call keeps the callee
//!   from writing, but the callee's EVM must know it is static, so that
//!   a write halts as the EVM's does (using all its gas) rather than
//!   trapping in Ward.

use revm_interpreter::primitives::{Address, U256};
use ward_sdk::{sys, transient::RUNTIME_SHARED_PREFIX};

use crate::ward_address;

/// The tag of an accessed address's key, after the shared prefix.
const ADDRESS_TAG: u8 = 0x01;
/// The tag of the static context's key, after the shared prefix.
const STATIC_TAG: u8 = 0x02;
/// The tag of an accessed slot's key.
const SLOT_TAG: u8 = 0x01;

fn address_key(address: &Address) -> [u8; 34] {
    let mut key = [0u8; 34];
    key[0] = RUNTIME_SHARED_PREFIX;
    key[1] = ADDRESS_TAG;
    key[2..].copy_from_slice(&ward_address(address));
    key
}

fn static_key() -> [u8; 34] {
    let mut key = [0u8; 34];
    key[0] = RUNTIME_SHARED_PREFIX;
    key[1] = STATIC_TAG;
    key
}

/// Whether the running frame is inside a `STATICCALL`.
pub(crate) fn in_static_call() -> bool {
    let key = static_key();
    // SAFETY: the key is a live buffer of its length; a zero capacity
    // writes nothing.
    unsafe { sys::transient_read(key.as_ptr() as i32, key.len() as i32, 0, 0) >= 0 }
}

/// Marks (`true`) or unmarks the static context, around a `STATICCALL`
/// made by a frame that is not static itself.
pub(crate) fn set_static_call(on: bool) {
    let key = static_key();
    let mark = [1u8];
    // SAFETY: the key and the value are live buffers of the given
    // lengths (an empty value removes the key).
    unsafe {
        sys::transient_write(
            key.as_ptr() as i32,
            key.len() as i32,
            mark.as_ptr() as i32,
            i32::from(on),
        )
    };
}

fn slot_key(slot: &U256) -> [u8; 33] {
    let mut key = [0u8; 33];
    key[0] = SLOT_TAG;
    key[1..].copy_from_slice(&slot.to_be_bytes::<32>());
    key
}

/// Whether the transaction has accessed `address` (without marking it).
pub(crate) fn address_accessed(address: &Address) -> bool {
    let key = address_key(address);
    // SAFETY: the key is a live buffer of its length; a zero capacity
    // writes nothing.
    unsafe { sys::transient_read(key.as_ptr() as i32, key.len() as i32, 0, 0) >= 0 }
}

/// Marks `address` accessed for the rest of the transaction (unless the
/// running frame fails).
pub(crate) fn mark_address(address: &Address) {
    let key = address_key(address);
    let mark = [1u8];
    // SAFETY: the key and the value are live buffers of the given lengths.
    unsafe {
        sys::transient_write(
            key.as_ptr() as i32,
            key.len() as i32,
            mark.as_ptr() as i32,
            1,
        )
    };
}

/// Slot `slot` of the running contract's original value, if the
/// transaction has accessed it (without marking it).
pub(crate) fn slot_original(slot: &U256) -> Option<U256> {
    let key = slot_key(slot);
    let mut value = [0u8; 32];
    // SAFETY: the key and the destination are live buffers of the given
    // lengths.
    let len = unsafe {
        sys::transient_read(
            key.as_ptr() as i32,
            key.len() as i32,
            value.as_mut_ptr() as i32,
            32,
        )
    };
    (len == 32).then(|| U256::from_be_bytes(value))
}

/// Marks slot `slot` of the running contract accessed, with `original`
/// as its value when the transaction began: its present value at the
/// first access, since nothing in the transaction can have written a
/// slot it had not accessed.
pub(crate) fn mark_slot(slot: &U256, original: &U256) {
    let key = slot_key(slot);
    let value = original.to_be_bytes::<32>();
    // SAFETY: the key and the value are live buffers of the given lengths.
    unsafe {
        sys::transient_write(
            key.as_ptr() as i32,
            key.len() as i32,
            value.as_ptr() as i32,
            32,
        )
    };
}
