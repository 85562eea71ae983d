//! Ward's blocks, transactions, receipts and events in Ethereum's shapes
//! (alloy's types, which follow the execution APIs' schemas).
//!
//! An Ethereum transaction shows as it was signed. A transaction of a
//! Ward key (or a dev node's impersonated one, or an embedder's) shows as
//! a legacy transaction with a zero signature whose `from` is the last 20
//! bytes of its sender and whose hash is Ward's: a view for explorers,
//! not bytes anyone signed. An event shows as a log whose topics are its
//! topic cut in 32-byte words when it is 0 to 4 whole words (what the EVM
//! runtime's events are), else one topic, keccak-256 of its topic.

use alloy_consensus::{
    Eip658Value, Header, Receipt as EthReceipt, ReceiptEnvelope, ReceiptWithBloom, Signed,
    Transaction as _, TxEnvelope, TxLegacy, transaction::Recovered,
};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{
    Address as EthAddress, B64, B256, Bloom, Bytes, LogData, Signature, TxKind, U256,
};
use alloy_rpc_types_eth::{Block, BlockTransactions, Log, Transaction, TransactionReceipt};
use ward_chain::tx::{GasUnit, Payload, StoredTx, eth::EthTx};
use ward_primitives::{Address, Hash32};
use ward_state::{BlockRecord, Event, Receipt, StateRead};

use super::{
    gas::{self, block_gas_limit, evm_gas, per_evm_gas},
    params::state_error,
};
use crate::{error::RpcError, state::Shared};

/// The hash of an empty list of ommers (keccak-256 of RLP `[]`), which
/// every post-merge Ethereum header has.
const EMPTY_OMMERS: B256 =
    alloy_primitives::b256!("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347");

fn eth(address: &Address) -> EthAddress {
    EthAddress::from_slice(&address.0[12..])
}

/// The block at `height`, which must be kept here (a pruned node, or
/// one restored from a snapshot, keeps only later ones).
pub(super) fn block_record(shared: &Shared, height: u64) -> Result<BlockRecord, RpcError> {
    shared
        .store()
        .block(height)
        .map_err(state_error)?
        .ok_or_else(|| {
            RpcError::eth(
                -32000,
                format!("block {height} is not kept by this node (pruned, or before its history)"),
                None,
            )
        })
}

/// The receipts of block `height`, in order.
pub(super) fn receipts(shared: &Shared, height: u64) -> Result<Vec<Receipt>, RpcError> {
    let record = block_record(shared, height)?;
    record
        .txs
        .iter()
        .map(|hash| {
            shared
                .store()
                .receipt(hash)
                .map_err(state_error)?
                .ok_or_else(|| missing(&format!("the receipt of {hash}")))
        })
        .collect()
}

fn missing(what: &str) -> RpcError {
    RpcError::eth(-32002, format!("{what} is not in the store"), None)
}

/// A block's hash as Ethereum shows it (Ward's, 32 bytes; genesis's is
/// zero).
fn block_hash(record: &BlockRecord) -> B256 {
    B256::from(record.hash().0)
}

/// `eth_getBlockBy*`: the block at `height` (genesis: height 0, no
/// transactions), its transactions as hashes or whole.
pub(super) fn block(shared: &Shared, height: u64, full: bool) -> Result<Block, RpcError> {
    let (record, receipts) = if height == 0 {
        (None, Vec::new())
    } else {
        (
            Some(block_record(shared, height)?),
            receipts(shared, height)?,
        )
    };
    block_of(shared, height, record.as_ref(), &receipts, full)
}

/// Block `height` (`record` and its `receipts`; no record for genesis)
/// in Ethereum's shape, its transactions as hashes or whole.
pub(crate) fn block_of(
    shared: &Shared,
    height: u64,
    record: Option<&BlockRecord>,
    receipts: &[Receipt],
    full: bool,
) -> Result<Block, RpcError> {
    let mut bloom = Bloom::default();
    for log in receipts
        .iter()
        .flat_map(|r| r.events.iter())
        .map(log_data_of)
    {
        bloom.accrue_raw_log(log.0, log.1.topics());
    }
    let header = Header {
        parent_hash: record.map_or(B256::ZERO, |r| B256::from(r.header.parent.0)),
        ommers_hash: EMPTY_OMMERS,
        beneficiary: EthAddress::ZERO,
        state_root: record.map_or(B256::ZERO, |r| B256::from(r.header.state_root.0)),
        transactions_root: record.map_or(B256::ZERO, |r| B256::from(r.header.tx_root.0)),
        receipts_root: record.map_or(B256::ZERO, |r| B256::from(r.header.receipts_root.0)),
        logs_bloom: bloom,
        difficulty: U256::ZERO,
        number: height,
        gas_limit: block_gas_limit(shared),
        gas_used: block_gas_used(shared, receipts)?,
        timestamp: record.map_or(0, seconds),
        extra_data: Bytes::new(),
        mix_hash: B256::ZERO,
        nonce: B64::ZERO,
        base_fee_per_gas: Some(base_fee(shared)),
        ..Header::default()
    };
    let hash = record.map_or(B256::ZERO, block_hash);
    // Ward's block record (header and transaction ids) as stored: not an
    // RLP block's size, which Ward's blocks have none of.
    let size = record.map_or(0, |r| {
        let mut bytes = Vec::new();
        ward_state::Encode::encode(r, &mut bytes);
        bytes.len()
    });
    let hashes: Vec<B256> = record
        .map(|r| r.txs.iter().map(|h| B256::from(h.0)).collect())
        .unwrap_or_default();
    let transactions = if full {
        let mut txs = Vec::new();
        for (index, receipt) in receipts.iter().enumerate() {
            txs.push(included(shared, receipt, (hash, header.timestamp), index)?);
        }
        BlockTransactions::Full(txs)
    } else {
        BlockTransactions::Hashes(hashes)
    };
    Ok(Block {
        header: alloy_rpc_types_eth::Header {
            hash,
            inner: header,
            total_difficulty: Some(U256::ZERO),
            size: Some(U256::from(size)),
        },
        uncles: Vec::new(),
        transactions,
        withdrawals: None,
    })
}

/// The chain's base fee as a header holds it (per EVM gas, saturating
/// at `u64`).
fn base_fee(shared: &Shared) -> u64 {
    u64::try_from(gas::base_fee(shared)).unwrap_or(u64::MAX)
}

/// Whose gas the transaction of `receipt` counts.
fn unit_of(shared: &Shared, receipt: &Receipt) -> Result<GasUnit, RpcError> {
    let bytes = stored_bytes(shared, receipt)?;
    StoredTx::from_bytes(&bytes)
        .map(|tx| tx.gas_unit())
        .map_err(|e| {
            RpcError::eth(
                -32002,
                format!("stored transaction {}: {e}", receipt.tx),
                None,
            )
        })
}

/// The gas `receipt`'s transaction used, as Ethereum counts it
/// ([`evm_gas`]).
pub(super) fn evm_gas_used(shared: &Shared, receipt: &Receipt) -> Result<u64, RpcError> {
    Ok(evm_gas(unit_of(shared, receipt)?, receipt.gas_used))
}

/// The gas a block's transactions (their `receipts`) used, as Ethereum
/// counts it.
pub(crate) fn block_gas_used(shared: &Shared, receipts: &[Receipt]) -> Result<u64, RpcError> {
    let mut used = 0u64;
    for receipt in receipts {
        used = used.saturating_add(evm_gas_used(shared, receipt)?);
    }
    Ok(used)
}

/// The stored bytes of `receipt`'s transaction.
fn stored_bytes(shared: &Shared, receipt: &Receipt) -> Result<Vec<u8>, RpcError> {
    shared
        .store()
        .transaction(&receipt.tx)
        .map_err(state_error)?
        .ok_or_else(|| missing(&format!("transaction {}", receipt.tx)))
}

/// `eth_getTransactionByHash`: a committed transaction, one waiting in
/// the mempool (no block yet, as geth shows a pending one), or `None`.
pub(crate) fn transaction(shared: &Shared, hash: Hash32) -> Result<Option<Transaction>, RpcError> {
    let Some(receipt) = shared.store().receipt(&hash).map_err(state_error)? else {
        let Some(pending) = shared.pool().pending(&hash) else {
            return Ok(None);
        };
        let (envelope, from, price) = envelope(shared, pending.bytes(), hash)?;
        return Ok(Some(Transaction {
            inner: Recovered::new_unchecked(envelope, from),
            block_hash: None,
            block_number: None,
            transaction_index: None,
            effective_gas_price: Some(price),
            block_timestamp: None,
        }));
    };
    let record = block_record(shared, receipt.height)?;
    Ok(Some(included(
        shared,
        &receipt,
        (block_hash(&record), seconds(&record)),
        receipt.index as usize,
    )?))
}

/// A block's time as Ethereum shows it: seconds (Ward's are
/// milliseconds).
fn seconds(record: &BlockRecord) -> u64 {
    record.header.time / 1000
}

/// The committed transaction of `receipt`, in the block `(hash, time)`.
fn included(
    shared: &Shared,
    receipt: &Receipt,
    (block_hash, block_time): (B256, u64),
    index: usize,
) -> Result<Transaction, RpcError> {
    let bytes = stored_bytes(shared, receipt)?;
    let (envelope, from, price) = envelope(shared, &bytes, receipt.tx)?;
    Ok(Transaction {
        inner: Recovered::new_unchecked(envelope, from),
        block_hash: Some(block_hash),
        block_number: Some(receipt.height),
        transaction_index: Some(index as u64),
        effective_gas_price: Some(price),
        block_timestamp: Some(block_time),
    })
}

/// A stored transaction as an Ethereum envelope, its sender's 20 bytes
/// and the price it paid per EVM gas (one in Ward gas shows its limit
/// and price per EVM gas: [`evm_gas`], [`per_evm_gas`]).
fn envelope(
    shared: &Shared,
    bytes: &[u8],
    hash: Hash32,
) -> Result<(TxEnvelope, EthAddress, u128), RpcError> {
    let stored = StoredTx::from_bytes(bytes)
        .map_err(|e| RpcError::eth(-32002, format!("stored transaction {hash}: {e}"), None))?;
    if let StoredTx::Ethereum(tx) = &stored {
        let envelope = TxEnvelope::decode_2718_exact(tx.envelope())
            .map_err(|e| RpcError::eth(-32002, format!("stored transaction {hash}: {e}"), None))?;
        let price = EthTx::gas_price(tx, gas::base_fee(shared));
        return Ok((envelope, EthAddress::from(tx.from()), price));
    }
    let unit = stored.gas_unit();
    let (gas_limit, value) = stored.gas_and_value();
    let gas_limit = evm_gas(unit, gas_limit);
    let (nonce, price) = stored
        .body()
        .map_or((0, 0), |body| (body.nonce, body.gas_price));
    let price = if unit.is_ethereum() {
        price
    } else {
        per_evm_gas(price)
    };
    let (to, input) = match stored.payload() {
        Payload::Call { to, input } => (TxKind::Call(eth(&to)), input),
        Payload::Deploy(deploy) => (TxKind::Create, deploy.code),
        Payload::Admin { contract, .. } => (TxKind::Call(eth(&contract)), Vec::new()),
    };
    let legacy = TxLegacy {
        chain_id: shared.settings().eth_chain_id,
        nonce,
        gas_price: price,
        gas_limit,
        to,
        value: U256::from(value),
        input: Bytes::from(input),
    };
    let signature = Signature::new(U256::ZERO, U256::ZERO, false);
    let envelope = TxEnvelope::Legacy(Signed::new_unchecked(legacy, signature, B256::from(hash.0)));
    Ok((envelope, eth(&stored.sender().address()), price))
}

/// `eth_getTransactionReceipt`: a committed transaction's receipt, or
/// `None`.
pub(super) fn receipt(
    shared: &Shared,
    hash: Hash32,
) -> Result<Option<TransactionReceipt>, RpcError> {
    let Some(receipt) = shared.store().receipt(&hash).map_err(state_error)? else {
        return Ok(None);
    };
    let record = block_record(shared, receipt.height)?;
    let block = receipts(shared, receipt.height)?;
    let index = receipt.index as usize;
    let before = block.get(..index).unwrap_or_default();
    let gas_used = evm_gas_used(shared, &receipt)?;
    let cumulative = block_gas_used(shared, before)?.saturating_add(gas_used);
    let first_log = before.iter().map(|r| r.events.len()).sum::<usize>();
    let block = (block_hash(&record), seconds(&record));
    let logs: Vec<Log> = receipt
        .events
        .iter()
        .enumerate()
        .map(|(i, event)| log(event, &receipt, block, first_log + i))
        .collect();
    let tx = included(shared, &receipt, block, index)?;
    let inner = EthReceipt {
        status: Eip658Value::Eip658(receipt.status.is_ok()),
        cumulative_gas_used: cumulative,
        logs,
    };
    let bloom = ReceiptWithBloom::from(inner.clone().map_logs(|l| l.inner)).logs_bloom;
    let with_bloom = ReceiptWithBloom {
        receipt: inner,
        logs_bloom: bloom,
    };
    let ty = tx.inner.inner().tx_type();
    let envelope = match ty {
        alloy_consensus::TxType::Eip2930 => ReceiptEnvelope::Eip2930(with_bloom),
        alloy_consensus::TxType::Eip1559 => ReceiptEnvelope::Eip1559(with_bloom),
        _ => ReceiptEnvelope::Legacy(with_bloom),
    };
    let to = match tx.inner.inner().kind() {
        TxKind::Call(to) => Some(to),
        TxKind::Create => None,
    };
    Ok(Some(TransactionReceipt {
        inner: envelope,
        transaction_hash: B256::from(hash.0),
        transaction_index: Some(index as u64),
        block_hash: Some(block.0),
        block_number: Some(receipt.height),
        gas_used,
        effective_gas_price: tx.effective_gas_price.unwrap_or_default(),
        blob_gas_used: None,
        blob_gas_price: None,
        from: tx.inner.signer(),
        to,
        contract_address: receipt.address.and_then(|a| a.eth()).map(EthAddress::from),
    }))
}

/// An event's address and its Ethereum log data.
pub(crate) fn log_data_of(event: &Event) -> (EthAddress, LogData) {
    let topics: Vec<B256> = if event.topic.len().is_multiple_of(32) && event.topic.len() <= 128 {
        event.topic.chunks(32).map(B256::from_slice).collect()
    } else {
        vec![alloy_primitives::keccak256(&event.topic)]
    };
    (
        eth(&event.contract),
        LogData::new_unchecked(topics, Bytes::from(event.data.clone())),
    )
}

/// Event `event` of `receipt`, the `index`th log of its block
/// `(hash, time)`.
fn log(event: &Event, receipt: &Receipt, (block_hash, time): (B256, u64), index: usize) -> Log {
    let (address, data) = log_data_of(event);
    Log {
        inner: alloy_primitives::Log { address, data },
        block_hash: Some(block_hash),
        block_number: Some(receipt.height),
        block_timestamp: Some(time),
        transaction_hash: Some(B256::from(receipt.tx.0)),
        transaction_index: Some(u64::from(receipt.index)),
        log_index: Some(index as u64),
        removed: false,
    }
}

/// Every log of a block (`record` and its `receipts`), in order.
pub(crate) fn block_logs(record: &BlockRecord, receipts: &[Receipt]) -> Vec<Log> {
    let block = (block_hash(record), seconds(record));
    let mut out = Vec::new();
    for receipt in receipts {
        for event in &receipt.events {
            out.push(log(event, receipt, block, out.len()));
        }
    }
    out
}

/// A committed block's header as `eth_subscribe`'s `newHeads` shows it.
pub(crate) fn head_notification(
    shared: &Shared,
    block: &ward_executor::Block,
) -> std::sync::Arc<str> {
    let height = block.record.header.height;
    block_of(shared, height, Some(&block.record), &block.receipts, false)
        .map_or_else(|_| "null".into(), |b| crate::announce::to_text(&b.header))
}

/// A committed block's logs as `eth_subscribe`'s `logs` shows them.
pub(crate) fn log_notifications(block: &ward_executor::Block) -> Vec<crate::announce::RenderedLog> {
    block_logs(&block.record, &block.receipts)
        .into_iter()
        .map(|log| crate::announce::RenderedLog {
            result: crate::announce::to_text(&log),
            log: log.inner,
        })
        .collect()
}
