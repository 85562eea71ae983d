//! The call's input and output, how it ends, and its context.
#![allow(unsafe_code, reason = "thin wrappers over the raw host imports")]
// SAFETY (for every `sys` call in this module): the host checks each
// pointer and length against this instance's memory before touching it,
// and every pointer passed here comes from a live slice or array of at
// least the length passed with it.

use alloc::vec::Vec;

use ward_primitives::Address;

use crate::{
    codec::{Encode, encode},
    sys,
};

/// Exit code of a contract that panicked (the output holds the message).
pub const PANIC_CODE: u32 = 101;
/// Exit code when the input names no method of the contract.
pub const UNKNOWN_METHOD_CODE: u32 = 102;
/// Exit code when a method's arguments do not decode.
pub const BAD_ARGUMENTS_CODE: u32 = 103;
/// Exit code of a call with value to a method (or `init`) that is not
/// `#[payable]`.
pub const NOT_PAYABLE_CODE: u32 = 104;
/// Exit code of [`require!`](crate::require) and of [`Revert::new`](crate::Revert::new).
pub const REVERT_CODE: u32 = 1;

pub(crate) fn ptr<T>(p: *const T) -> i32 {
    p as usize as i32
}

pub(crate) fn len(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A value the host copies into a buffer the guest offers:
/// `read_into(buf)` asks for it into `buf` and answers its whole length
/// (negative: there is none). `expected` bytes are offered first (a read
/// is charged per byte offered); a longer value is asked for again, with
/// room for all of it.
pub(crate) fn read_value<N: TryInto<usize>>(
    expected: usize,
    mut read_into: impl FnMut(&mut [u8]) -> N,
) -> Option<Vec<u8>> {
    let mut buf = alloc::vec![0u8; expected];
    let full = read_into(&mut buf).try_into().ok()?;
    if full > buf.len() {
        buf.resize(full, 0);
        read_into(&mut buf);
    }
    buf.truncate(full);
    Some(buf)
}

/// The native asset this call received, in the smallest unit
/// (`docs/economics.md`): a transaction's value, or what the calling
/// contract sent with [`Call::value`](crate::call::Call::value).
pub fn value() -> u128 {
    let mut out = [0u8; 16];
    // SAFETY: see the module comment.
    unsafe { sys::call_value(ptr(out.as_mut_ptr())) };
    u128::from_le_bytes(out)
}

/// The native-asset balance of `address` (an account or a contract).
pub fn balance(address: &Address) -> u128 {
    let mut out = [0u8; 16];
    // SAFETY: see the module comment.
    unsafe { sys::balance(ptr(address.0.as_ptr()), ptr(out.as_mut_ptr())) };
    u128::from_le_bytes(out)
}

/// The nonce of the account at `address`: how many transactions it has
/// sent (0 for one that has sent none, and for a contract).
pub fn account_nonce(address: &Address) -> u64 {
    // SAFETY: see the module comment.
    let nonce = unsafe { sys::account_nonce(ptr(address.0.as_ptr())) };
    nonce as u64
}

/// Why [`transfer`] moved nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InsufficientBalance;

/// Moves `amount` of the native asset from this contract to `to`
/// without running any code there; undone if this call reverts. Traps in
/// a read-only call.
///
/// # Errors
///
/// [`InsufficientBalance`] (and nothing moved) when this contract holds
/// less than `amount`.
pub fn transfer(to: &Address, amount: u128) -> Result<(), InsufficientBalance> {
    let amount = amount.to_le_bytes();
    // SAFETY: see the module comment.
    match unsafe { sys::transfer(ptr(to.0.as_ptr()), ptr(amount.as_ptr())) } {
        0 => Ok(()),
        _ => Err(InsufficientBalance),
    }
}

/// The length of the call's input, in bytes.
pub fn input_len() -> usize {
    // SAFETY: see the module comment.
    unsafe { sys::input_size() as u32 as usize }
}

/// The whole input of the call.
pub fn input() -> Vec<u8> {
    let mut buf = alloc::vec![0u8; input_len()];
    read_input(0, &mut buf);
    buf
}

/// Copies `buf.len()` bytes of the input, from `offset`, into `buf`
/// (no allocation). Traps when the range is past the input's end.
pub fn read_input(offset: usize, buf: &mut [u8]) {
    // SAFETY: see the module comment.
    unsafe { sys::input_read(ptr(buf.as_mut_ptr()), len(offset), len(buf.len())) }
}

/// Sets the call's output, replacing anything written before.
pub fn set_output(bytes: &[u8]) {
    // SAFETY: see the module comment.
    unsafe { sys::output_write(ptr(bytes.as_ptr()), len(bytes.len())) }
}

/// Sets the call's output to `value`'s encoding.
pub fn return_value<T: Encode + ?Sized>(value: &T) {
    set_output(&encode(value));
}

/// Ends the call at once with exit code `code` (0 is success) and keeps
/// the output written so far.
pub fn exit(code: u32) -> ! {
    // SAFETY: `exit` takes no pointer.
    unsafe { sys::exit(code as i32) };
    // The host never returns from `exit`.
    unreachable_after_exit()
}

/// Reverts the call: discards its storage writes, events and the calls it
/// made, and ends it with exit code `code` (a zero code is taken as
/// [`REVERT_CODE`]) and `message` as its output.
pub fn revert(code: u32, message: &str) -> ! {
    set_output(message.as_bytes());
    exit(if code == 0 { REVERT_CODE } else { code })
}

/// The address that called this contract: an account for a transaction,
/// a contract for a call from another contract.
pub fn caller() -> Address {
    let mut out = [0u8; 32];
    // SAFETY: see the module comment (32 bytes are written).
    unsafe { sys::caller(ptr(out.as_mut_ptr())) };
    Address(out)
}

/// This contract's address.
pub fn self_address() -> Address {
    let mut out = [0u8; 32];
    // SAFETY: see the module comment (32 bytes are written).
    unsafe { sys::self_address(ptr(out.as_mut_ptr())) };
    Address(out)
}

/// The account that sent the transaction (a query's caller): the same
/// in every frame of it, the EVM's `ORIGIN`.
pub fn origin() -> Address {
    let mut out = [0u8; 32];
    // SAFETY: see the module comment (32 bytes are written).
    unsafe { sys::origin(ptr(out.as_mut_ptr())) };
    Address(out)
}

/// The chain's numeric Ethereum chain id (the EVM's `CHAINID`, what
/// Ethereum transactions are signed for), or 0 when the chain takes none.
pub fn chain_id() -> u64 {
    // SAFETY: takes no pointer.
    unsafe { sys::chain_id() as u64 }
}

/// The height of the block being executed.
pub fn block_height() -> u64 {
    // SAFETY: takes no pointer.
    unsafe { sys::block_height() as u64 }
}

/// The time of the block being executed, in seconds.
pub fn block_time() -> u64 {
    // SAFETY: takes no pointer.
    unsafe { sys::block_time() as u64 }
}

/// Gas left to this call.
pub fn gas_left() -> u64 {
    // SAFETY: takes no pointer.
    unsafe { sys::gas_left() as u64 }
}

/// Charges `amount` gas: for self-metered code (system runtimes) that
/// meters itself. More than is left ends the call with `out_of_gas`.
pub fn charge_gas(amount: u64) {
    // SAFETY: takes no pointer. Amounts past i64::MAX are clamped (more
    // than any call can have).
    unsafe { sys::charge_gas(i64::try_from(amount).unwrap_or(i64::MAX)) }
}

/// Reports the gas this frame spent in its own machine's units (an EVM
/// frame's EVM gas): a system runtime's, carried by the receipt when its
/// frame is the transaction's top one. Anywhere else it traps.
pub fn report_gas(units: u64) {
    // SAFETY: takes no pointer. Amounts past i64::MAX are clamped.
    unsafe { sys::report_gas(i64::try_from(units).unwrap_or(i64::MAX)) }
}

/// Writes `message` to the debug log (kept only when the embedder enables
/// it; never changes the outcome beyond its gas).
pub fn log(message: &str) {
    // SAFETY: see the module comment.
    unsafe { sys::debug_log(ptr(message.as_ptr()), len(message.len())) }
}

#[cfg(target_arch = "wasm32")]
fn unreachable_after_exit() -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(not(target_arch = "wasm32"))]
fn unreachable_after_exit() -> ! {
    unreachable!("ward.exit returned")
}
