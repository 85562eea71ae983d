//! What the EVM keeps for a whole transaction, across its frames: the
//! addresses and storage slots it has accessed (EIP-2929) and each slot's
//! value when the transaction began (EIP-2200's original value). A frame
//! is one Ward frame, so these live in Ward's transient storage as the
//! runtime's own bookkeeping (`docs/runtimes.md`, "Bookkeeping"): keys
//! longer than a word, written even in a read-only frame, and undone with
//! a frame that reverts or fails, as the EVM undoes a reverted frame's
//! accesses.
//!
//! The keys are `ward_abi::evm`'s (the executor seeds them from an
//! Ethereum transaction's access list):
//!
//! - an accessed address, in the space every EVM frame of the
//!   transaction shares;
//! - an accessed slot of the running contract, in the contract's own
//!   space, holding the slot's original value;
//! - the static context (`STATICCALL`), in the shared space, while a
//!   frame that was not static itself waits for the `STATICCALL` it
//!   made. Ward's read-only call keeps the callee from writing, but the
//!   callee's EVM must know it is static, so that a write halts as the
//!   EVM's does (using all its gas) rather than trapping in Ward.

use revm_interpreter::primitives::{Address, U256};
use ward_sdk::transient::evm as keys;

use crate::{
    host::{transient_read as read, transient_write as write},
    ward_address,
};

fn address_key(address: &Address) -> [u8; 34] {
    keys::accessed_address_key(&ward_address(address))
}

fn slot_key(slot: &U256) -> [u8; 33] {
    keys::accessed_slot_key(&slot.to_be_bytes::<32>())
}

/// Whether the running frame is inside a `STATICCALL`.
pub(crate) fn in_static_call() -> bool {
    read(&keys::STATIC_CONTEXT_KEY, &mut []) >= 0
}

/// Marks (`true`) or unmarks the static context, around a `STATICCALL`
/// made by a frame that is not static itself.
pub(crate) fn set_static_call(on: bool) {
    let mark: &[u8] = if on { &[1] } else { &[] };
    write(&keys::STATIC_CONTEXT_KEY, mark);
}

/// Whether the transaction has accessed `address` (without marking it).
pub(crate) fn address_accessed(address: &Address) -> bool {
    read(&address_key(address), &mut []) >= 0
}

/// Marks `address` accessed for the rest of the transaction (unless the
/// running frame fails).
pub(crate) fn mark_address(address: &Address) {
    write(&address_key(address), &[1]);
}

/// Slot `slot` of the running contract's original value, if the
/// transaction has accessed it (without marking it).
pub(crate) fn slot_original(slot: &U256) -> Option<U256> {
    let mut value = [0u8; 32];
    (read(&slot_key(slot), &mut value) == 32).then(|| U256::from_be_bytes(value))
}

/// Marks slot `slot` of the running contract accessed, with `original`
/// as its value when the transaction began: its present value at the
/// first access, since nothing in the transaction can have written a
/// slot it had not accessed.
pub(crate) fn mark_slot(slot: &U256, original: &U256) {
    write(&slot_key(slot), &original.to_be_bytes::<32>());
}
