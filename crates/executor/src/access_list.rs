//! An Ethereum transaction's access list (EIP-2930), warm from its start:
//! each address it names is accessed, and each storage key accessed with
//! its present value as its original, in the EVM runtime's bookkeeping
//! (`ward_abi::evm`, `docs/evm.md`, "Frames"), as revm warms them before
//! the first frame runs.

use ward_chain::tx::{VerifiedTx, eth::EVM_RUNTIME};
use ward_primitives::{Address, RuntimeName};
use ward_state::{Journal, StateError, StateRead};

use crate::runtime::shared_space;

/// Seeds `tx`'s access list into `journal`'s transient storage, which
/// [`Journal::begin_tx`] has just emptied. The list paid for itself in
/// intrinsic gas (2 400 per address, 1 900 per key), which bounds it far
/// below the transaction's transient budget, so the seed is not counted
/// against it.
pub(crate) fn seed<V: StateRead>(
    journal: &mut Journal<V>,
    tx: &VerifiedTx,
) -> Result<(), StateError> {
    let list = tx.access_list();
    if list.is_empty() {
        return Ok(());
    }
    let Some(runtime) = RuntimeName::new(EVM_RUNTIME) else {
        return Ok(());
    };
    let shared = shared_space(&runtime);
    for (address, keys) in list {
        let address = Address::from_eth(address);
        let mark = ward_abi::evm::accessed_address_key(&address.0);
        // Not counted against the budget (above): it cannot fill.
        let _ = journal
            .transient()
            .write(shared, &mark, Some(vec![1]), u64::MAX);
        for key in keys {
            // An EVM slot's value is 32 bytes, absent when zero.
            let original = match journal.read(&address, &key)? {
                Some(value) if value.len() == 32 => value,
                _ => vec![0; 32],
            };
            let mark = ward_abi::evm::accessed_slot_key(&key);
            let _ = journal
                .transient()
                .write(address, &mark, Some(original), u64::MAX);
        }
    }
    Ok(())
}
