//! The contract's transient storage: raw bytes under byte keys, shared by
//! the frames of one transaction and gone when it ends (the EVM's
//! `TLOAD`/`TSTORE`, EIP-1153; `docs/host-abi.md`). A frame that reverts
//! takes its writes back. What it is for: a reentrancy lock, an allowance
//! granted for one transaction, a value a callee reads back from its
//! caller without paying for storage (`contracts/lock` holds a lock).
//!
//! ```no_run
//! use ward_sdk::transient;
//!
//! assert!(transient::read(b"lock").is_none(), "reentered");
//! transient::write(b"lock", &[1]);
//! // ... calls that may come back here ...
//! transient::remove(b"lock");
//! ```
//!
//! Keys are at most [`ward_abi::MAX_KEY_BYTES`] bytes, values at most
//! [`ward_abi::MAX_VALUE_BYTES`], and a transaction holds at most
//! [`ward_abi::MAX_TX_TRANSIENT_BYTES`] of keys and values at once; past
//! these, and for a write in a read-only call, the call traps.
#![allow(unsafe_code, reason = "thin wrappers over the raw host imports")]

use alloc::vec::Vec;

pub use ward_abi::{MAX_TX_TRANSIENT_BYTES, RUNTIME_SHARED_PREFIX, TRANSIENT_WORD_BYTES, evm};

use crate::{
    env::{len, ptr, read_value},
    sys,
};

/// The value under `key` in this transaction's transient storage, if any.
pub fn read(key: &[u8]) -> Option<Vec<u8>> {
    read_value(64, |buf| {
        // SAFETY: the host checks the ranges; `key` and `buf` are live
        // slices of the lengths passed.
        unsafe {
            sys::transient_read(
                ptr(key.as_ptr()),
                len(key.len()),
                ptr(buf.as_mut_ptr()),
                len(buf.len()),
            )
        }
    })
}

/// Puts `value` under `key` for the rest of the transaction (an empty
/// value removes the key). Traps in a read-only call.
pub fn write(key: &[u8], value: &[u8]) {
    // SAFETY: the host checks the ranges; both are live slices.
    unsafe {
        sys::transient_write(
            ptr(key.as_ptr()),
            len(key.len()),
            ptr(value.as_ptr()),
            len(value.len()),
        )
    }
}

/// Removes the value under `key`, if any. Traps in a read-only call.
pub fn remove(key: &[u8]) {
    write(key, &[]);
}
