//! The JSON shapes of the node's answers (`docs/node.md`), and reading
//! them back (the CLI prints a node's receipts as it prints its own).
//! Every binary value is `0x` hex.

use ward_rpc::results;
use ward_state::{BlockRecord, Event, Receipt};

pub use ward_rpc::wire::{hex, unhex, unhex32};

/// An event.
pub fn event(event: &Event) -> results::Event {
    results::Event {
        contract: event.contract,
        topic: event.topic.clone().into(),
        data: event.data.clone().into(),
        ..results::Event::default()
    }
}

/// A receipt: the CLI's receipt fields, plus `index`.
pub fn receipt(receipt: &Receipt) -> results::Receipt {
    results::Receipt {
        status: receipt.status,
        exit_code: receipt.exit_code,
        output: receipt.output.clone().into(),
        gas_used: receipt.gas_used,
        fee: ward_rpc::wire::Amount(receipt.fee),
        error: receipt.error_kind.as_ref().map(|kind| results::Failure {
            kind: kind.clone(),
            message: receipt.error_message.clone().unwrap_or_default(),
        }),
        tx: receipt.tx,
        height: receipt.height,
        index: receipt.index,
        events: receipt.events.iter().map(event).collect(),
        address: receipt.address,
        runtime_gas: receipt.runtime_gas,
        ..results::Receipt::default()
    }
}

/// A block: its header, hash and transactions.
pub fn block(record: &BlockRecord) -> results::Block {
    let header = &record.header;
    results::Block {
        height: header.height,
        hash: record.hash(),
        parent: header.parent,
        time: header.time,
        state_root: header.state_root,
        tx_root: header.tx_root,
        receipts_root: header.receipts_root,
        txs: record.txs.clone(),
    }
}

/// Reads a block back from [`block`]'s shape, checking that its hash is
/// the one stated.
///
/// # Errors
///
/// A hash the header does not have.
pub fn block_from(value: &results::Block) -> Result<BlockRecord, String> {
    let record = BlockRecord {
        header: ward_state::Header {
            height: value.height,
            parent: value.parent,
            time: value.time,
            tx_root: value.tx_root,
            receipts_root: value.receipts_root,
            state_root: value.state_root,
        },
        txs: value.txs.clone(),
    };
    if record.hash() != value.hash {
        return Err("the block's hash is not its header's".into());
    }
    Ok(record)
}

/// Reads a receipt back from [`receipt`]'s shape (its fee is not the
/// CLI's to print again: 0).
pub fn receipt_from(value: &results::Receipt) -> Receipt {
    Receipt {
        fee: 0,
        tx: value.tx,
        height: value.height,
        index: value.index,
        status: value.status,
        exit_code: value.exit_code,
        output: value.output.0.clone(),
        gas_used: value.gas_used,
        events: value
            .events
            .iter()
            .map(|e| Event {
                contract: e.contract,
                topic: e.topic.0.clone(),
                data: e.data.0.clone(),
            })
            .collect(),
        error_kind: value.error.as_ref().map(|e| e.kind.clone()),
        error_message: value.error.as_ref().map(|e| e.message.clone()),
        address: value.address,
        runtime_gas: value.runtime_gas,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_primitives::{Address, Hash32};

    #[test]
    fn receipts_round_trip_through_json() {
        let original = Receipt {
            fee: 0,
            tx: Hash32([1; 32]),
            height: 4,
            index: 2,
            status: ward_primitives::Status::Reverted,
            exit_code: -3,
            output: b"no".to_vec(),
            gas_used: 77,
            events: vec![Event {
                contract: Address([2; 32]),
                topic: b"t".to_vec(),
                data: vec![],
            }],
            error_kind: Some("reverted".into()),
            error_message: Some("m".into()),
            address: Some(Address([3; 32])),
            runtime_gas: None,
        };
        let again = |r: &Receipt| {
            let text = serde_json::to_string(&receipt(r)).unwrap_or_default();
            serde_json::from_str::<results::Receipt>(&text).map(|r| receipt_from(&r))
        };
        assert_eq!(again(&original).ok(), Some(original.clone()));
        let evm = Receipt {
            runtime_gas: Some(29_854),
            ..original
        };
        assert_eq!(receipt(&evm).runtime_gas, Some(29_854));
        assert_eq!(again(&evm).ok(), Some(evm));
    }

    #[test]
    fn blocks_round_trip_through_json_and_their_hash_is_checked() {
        let record = BlockRecord {
            header: ward_state::Header {
                height: 9,
                parent: Hash32([1; 32]),
                time: 1234,
                tx_root: Hash32([2; 32]),
                receipts_root: Hash32([3; 32]),
                state_root: Hash32([4; 32]),
            },
            txs: vec![Hash32([5; 32])],
        };
        let mut value = block(&record);
        assert_eq!(block_from(&value), Ok(record));
        value.time = 1235;
        assert!(block_from(&value).is_err());
    }
}
