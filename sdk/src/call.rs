//! Calls to other contracts.
//!
//! A call suspends this contract until the callee finishes; the callee's
//! storage writes and events are kept only if it succeeds *and* this
//! contract (and the whole transaction) does too. A callee that reverts or
//! fails hands its output back as return data; what to do then is the
//! caller's choice.
//!
//! ```no_run
//! use ward_sdk::{Address, call::Call};
//!
//! let token = Address([7; 32]);
//! let me = ward_sdk::env::self_address();
//! let balance: u128 = Call::new(token, "balance_of").arg(&me).read_only().invoke().value();
//! ```
#![allow(unsafe_code, reason = "thin wrappers over the raw host imports")]

use alloc::{string::String, vec::Vec};

use ward_primitives::Address;

use crate::{
    codec::{Decode, Encode, decode_exact},
    env::{self, len, ptr},
    sys,
};

/// How a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallStatus {
    /// The callee returned normally (exit code 0).
    Ok,
    /// The callee reverted: its changes are discarded.
    Reverted,
    /// The callee failed (trap, out of gas, no such contract, too deep...):
    /// its changes are discarded.
    Failed,
}

/// A call being built: target, method, arguments, gas and mode.
#[must_use = "a call does nothing until `invoke`"]
pub struct Call {
    to: Address,
    input: Vec<u8>,
    gas: u64,
    read_only: bool,
    value: u128,
}

impl Call {
    /// A call of `method` on the contract at `to`, with every gas the host
    /// allows (all but 1/64 of what is left).
    pub fn new(to: Address, method: &str) -> Call {
        Call::raw(to, crate::codec::call_input(method, &()))
    }

    /// A call with raw input bytes (for contracts that do not use the
    /// method convention).
    pub fn raw(to: Address, input: Vec<u8>) -> Call {
        Call {
            to,
            input,
            gas: u64::MAX,
            read_only: false,
            value: 0,
        }
    }

    /// Appends an argument's encoding.
    pub fn arg<T: Encode + ?Sized>(mut self, value: &T) -> Call {
        value.encode_to(&mut self.input);
        self
    }

    /// Forwards at most `gas` (the host also keeps 1/64 of what is left).
    pub fn gas(mut self, gas: u64) -> Call {
        self.gas = gas;
        self
    }

    /// Makes the call read-only: the callee's storage writes and events trap.
    pub fn read_only(mut self) -> Call {
        self.read_only = true;
        self
    }

    /// Sends `amount` of the native asset with the call (the callee's
    /// [`crate::env::value`]); taken back if the callee
    /// reverts or fails. A call this contract cannot pay for, or a
    /// read-only one with value, fails without running.
    pub fn value(mut self, amount: u128) -> Call {
        self.value = amount;
        self
    }

    /// Makes the call and returns how it ended, with the callee's output.
    pub fn invoke(self) -> CallResult {
        let gas = i64::try_from(self.gas).unwrap_or(i64::MAX);
        let flags = if self.read_only {
            ward_abi::call::READ_ONLY
        } else {
            0
        };
        let value = self.value.to_le_bytes();
        // SAFETY: the host checks the ranges; the address is a live 32-byte
        // array, the input a live vector and the value a live 16-byte array.
        // A call without value imports only `call` (ABI version 5).
        let code = unsafe {
            if self.value == 0 {
                sys::call(
                    ptr(self.to.0.as_ptr()),
                    ptr(self.input.as_ptr()),
                    len(self.input.len()),
                    gas,
                    flags,
                )
            } else {
                sys::call_with_value(
                    ptr(self.to.0.as_ptr()),
                    ptr(self.input.as_ptr()),
                    len(self.input.len()),
                    gas,
                    flags,
                    ptr(value.as_ptr()),
                )
            }
        };
        let status = match code {
            ward_abi::call::OK => CallStatus::Ok,
            ward_abi::call::REVERTED => CallStatus::Reverted,
            _ => CallStatus::Failed,
        };
        CallResult {
            status,
            data: return_data(),
        }
    }
}

/// The output of the last call this contract made.
pub fn return_data() -> Vec<u8> {
    // SAFETY: takes no pointer.
    let size = unsafe { sys::return_data_size() } as u32 as usize;
    let mut data = alloc::vec![0u8; size];
    // SAFETY: the host checks the range; `data` holds `size` bytes.
    unsafe { sys::return_data_read(ptr(data.as_mut_ptr()), 0, len(size)) };
    data
}

/// How a call ended and what it returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallResult {
    /// How it ended.
    pub status: CallStatus,
    /// The callee's output (for a revert, by convention, its message).
    pub data: Vec<u8>,
}

impl CallResult {
    /// Whether the callee returned normally.
    pub fn is_ok(&self) -> bool {
        self.status == CallStatus::Ok
    }

    /// The callee's output as text (lossy), e.g. a revert message.
    pub fn message(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }

    /// The callee's output decoded as `T`, if it returned normally.
    ///
    /// # Errors
    ///
    /// The callee's status and message when it did not return normally;
    /// a decoding message when its output is not a `T`.
    pub fn decode<T: Decode>(&self) -> Result<T, String> {
        match self.status {
            CallStatus::Ok => decode_exact(&self.data)
                .map_err(|e| alloc::format!("return data does not decode: {e}")),
            CallStatus::Reverted => Err(alloc::format!("reverted: {}", self.message())),
            CallStatus::Failed => Err(alloc::format!("failed: {}", self.message())),
        }
    }

    /// The callee's output decoded as `T`; reverts this contract, carrying
    /// the callee's message, when the call did not succeed.
    pub fn value<T: Decode>(&self) -> T {
        match self.decode() {
            Ok(value) => value,
            Err(message) => env::revert(env::REVERT_CODE, &message),
        }
    }
}
