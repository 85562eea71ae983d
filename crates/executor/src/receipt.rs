//! Receipts as the executor writes them: a plain transfer's and a
//! frame's.

use ward_primitives::{Address, Hash32};
use ward_state::{Event, Receipt};
use ward_vm::{Execution, Status};

/// The receipt of a plain transfer, transaction `tx`: a call with value
/// and no input to an address with no contract.
pub(crate) fn transferred(tx: Hash32, height: u64, intrinsic: u64) -> Receipt {
    Receipt {
        tx,
        height,
        index: 0,
        status: Status::Ok,
        exit_code: 0,
        output: Vec::new(),
        gas_used: intrinsic,
        events: Vec::new(),
        error_kind: None,
        error_message: None,
        address: None,
        runtime_gas: None,
        fee: 0,
    }
}

/// The receipt of transaction `tx`, whose frame ended in `execution`.
pub(crate) fn receipt_of(
    tx: Hash32,
    height: u64,
    execution: &Execution,
    events: Vec<Event>,
    address: Option<Address>,
) -> Receipt {
    let outcome = &execution.outcome;
    Receipt {
        tx,
        height,
        index: 0,
        status: outcome.status,
        exit_code: outcome.exit_code,
        output: outcome.output.clone(),
        gas_used: outcome.gas_used.get(),
        events,
        error_kind: outcome.error.as_ref().map(|e| e.kind.as_str().to_string()),
        error_message: outcome.error.as_ref().map(consensus_message),
        address,
        runtime_gas: execution.runtime_gas,
        fee: 0,
    }
}

/// A receipt is consensus data, and engines word their traps differently
/// (and may change the wording between releases): a trap the engine
/// detected is described by its kind alone. Messages Ward writes itself
/// (host errors, policy rejections, gas and stack) are the same on every
/// backend and are kept.
pub(crate) fn consensus_message(failure: &ward_vm::Failure) -> String {
    use ward_vm::ErrorKind as K;
    match failure.kind {
        K::HostError | K::OutOfGas | K::StackOverflow => failure.message.clone(),
        kind if kind.status() == Status::Rejected => failure.message.clone(),
        kind => kind.as_str().replace('_', " "),
    }
}
