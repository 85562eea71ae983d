//! `eth_sendTransaction`: a dev node completes, signs (or sends as an
//! impersonated address) and admits a request for its accounts.

use alloy_primitives::{B256, Bytes, TxKind, U256};
use alloy_rpc_types_eth::TransactionRequest;
use serde_json::Value;
use tokio::sync::oneshot;
use ward_chain::tx::VerifiedTx;
use ward_executor::Tx;
use ward_primitives::Hash32;
use ward_state::Status;

use super::{
    calls::{estimated, request_tx},
    chain::eth_chain_id,
    gas::{base_fee, node_gas_price, priority_fee},
    params::{Params, invalid, state_error, to_json, ward},
};
use crate::{
    error::RpcError,
    mempool::{Committed, Refusal},
    state::Shared,
};

/// `eth_sendTransaction` on a dev node: the request completed (the next
/// free nonce, the gas `eth_estimateGas` gives, an EIP-1559 price of the
/// base fee twice and this node's tip, or a legacy one when it names
/// `gasPrice`), signed with the dev account's key, or sent as an address
/// the node impersonates; admitted as any transaction. Its hash.
pub(super) fn send_transaction(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
    use alloy_eips::eip2718::Encodable2718;
    if !shared.config().dev {
        return Err(RpcError::eth(
            -32601,
            "eth_sendTransaction signs with a dev node's accounts, and this node was not started with --dev: sign the transaction and send it with eth_sendRawTransaction".into(),
            None,
        ));
    }
    let request: TransactionRequest = p.at(0)?;
    let from = request
        .from
        .ok_or_else(|| invalid("\"from\" is required"))?;
    let sender = ward(from);
    let key = super::sign::dev_key(from);
    let impersonated = shared.impersonates(&sender);
    if key.is_none() && !impersonated {
        return Err(RpcError::eth(
            -32000,
            format!("unknown account {from}: neither a dev account of this node nor impersonated"),
            None,
        ));
    }
    let chain_id = eth_chain_id(shared)?;
    check_request(&request, chain_id)?;
    let asked = request_tx(shared, &request)?;
    let gas = match request.gas {
        Some(gas) => gas,
        None => estimated(shared, None, &asked)?,
    };
    let (tx, unit) = (asked.tx, asked.unit);
    let base = base_fee(shared);
    let tip = request
        .max_priority_fee_per_gas
        .unwrap_or_else(|| priority_fee(shared));
    let max_fee = request
        .max_fee_per_gas
        .unwrap_or_else(|| base.saturating_mul(2).saturating_add(tip));
    // The next free nonce is taken and used before another send reads it
    // (held until the transaction is admitted, not while it is mined).
    let sending = shared.one_send();
    let nonce = match request.nonce {
        Some(nonce) => nonce,
        None => shared.nonces(&sender).map_err(state_error)?.1,
    };
    let Some(secret) = key else {
        // Impersonated: the one model's body, unsigned, as `impersonate`
        // sends Ward's own.
        let price = request
            .gas_price
            .unwrap_or_else(|| max_fee.min(base.saturating_add(tip)));
        let tx = Tx {
            gas_limit: gas,
            ..tx
        };
        let verified = crate::api::sending::impersonated(shared, tx, nonce, price, unit);
        let admitted = admit(shared, verified)?;
        drop(sending);
        return answered(shared, admitted);
    };
    let sign = |hash: B256| super::sign::sign_hash(secret, hash);
    let input = request.input.input().cloned().unwrap_or_default();
    let to = request.to.unwrap_or(TxKind::Create);
    let value = U256::from(tx.value);
    let envelope = match request.gas_price {
        Some(gas_price) => {
            let tx = TxLegacy {
                chain_id: Some(chain_id),
                nonce,
                gas_price,
                gas_limit: gas,
                to,
                value,
                input,
            };
            let signature = sign(tx.signature_hash())?;
            TxEnvelope::from(tx.into_signed(signature))
        }
        None => {
            let tx = TxEip1559 {
                chain_id,
                nonce,
                gas_limit: gas,
                max_fee_per_gas: max_fee,
                max_priority_fee_per_gas: tip,
                to,
                value,
                access_list: request.access_list.clone().unwrap_or_default(),
                input,
            };
            let signature = sign(tx.signature_hash())?;
            TxEnvelope::from(tx.into_signed(signature))
        }
    };
    let verified = crate::admission::verify(shared, &stored(&envelope.encoded_2718()))
        .map_err(|r| refused(&r, shared))?;
    let admitted = admit(shared, verified)?;
    drop(sending);
    answered(shared, admitted)
}

/// Refuses what geth refuses of a request before anything is filled in:
/// another chain's id, or both a legacy price and EIP-1559 fees.
fn check_request(request: &TransactionRequest, chain_id: u64) -> Result<(), RpcError> {
    if let Some(asked) = request.chain_id
        && asked != chain_id
    {
        return Err(RpcError::eth(
            -32000,
            format!("invalid chain id: the request names {asked}, this chain's is {chain_id}"),
            None,
        ));
    }
    if request.gas_price.is_some()
        && (request.max_fee_per_gas.is_some() || request.max_priority_fee_per_gas.is_some())
    {
        return Err(invalid(
            "both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified",
        ));
    }
    Ok(())
}

/// `eth_sendRawTransaction`: the envelope verified for this chain and
/// admitted as any transaction is; its hash.
pub(super) fn send_raw(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let envelope: Bytes = p.at(0)?;
    eth_chain_id(shared)?;
    let verified =
        crate::admission::verify(shared, &stored(&envelope)).map_err(|r| refused(&r, shared))?;
    let admitted = admit(shared, verified)?;
    answered(shared, admitted)
}

/// An Ethereum envelope in the form a chain stores it (its tag, then the
/// envelope), for the same door as Ward's own transactions
/// ([`crate::admission::verify`], which counts its refusals).
fn stored(envelope: &[u8]) -> Vec<u8> {
    let mut stored = Vec::with_capacity(1 + envelope.len());
    stored.push(ward_chain::tx::eth::ETH_TAG);
    stored.extend_from_slice(envelope);
    stored
}

/// An admitted transaction's hash (what wallets compute), and where its
/// block is told when the send answers only once it is mined.
type Admitted = (
    Hash32,
    Option<oneshot::Receiver<Result<Committed, Refusal>>>,
);

/// Admits `tx` as any transaction is. On a dev node with automine on, the
/// send is answered once the transaction is in a committed block, as
/// Hardhat's and anvil's automine answer it, so a client that reads the
/// receipt or the state right after the hash finds them; otherwise, and
/// for one behind a nonce gap (which waits for the transactions before
/// it), at once.
fn admit(shared: &Shared, tx: VerifiedTx) -> Result<Admitted, RpcError> {
    let hash = tx.hash();
    let mined = shared.config().dev
        && shared.pool().mining().automine
        && shared.nonces(&tx.sender()).map_err(state_error)?.1 >= tx.nonce();
    let (waiter, receiver) = oneshot::channel();
    crate::admission::admit(shared, tx, mined.then_some(waiter))
        .map_err(|r| refused(&r, shared))?;
    Ok((hash, mined.then_some(receiver)))
}

/// The hash of an admitted transaction, once its block is committed if
/// [`admit`] said to wait for it; a refusal that came before its block
/// (its block failed, the node reverted) as the send's error, and with
/// `--throw-on-tx-failures` a mined transaction that failed as
/// [`failed_in_block`] says.
fn answered(shared: &Shared, (hash, receiver): Admitted) -> Result<Value, RpcError> {
    if let Some(receiver) = receiver {
        match receiver.blocking_recv() {
            Ok(Ok(committed)) => {
                if shared.config().throw_on_tx_failures && committed.receipt.status != Status::Ok {
                    return Err(failed_in_block(hash, &committed.receipt));
                }
            }
            Ok(Err(refusal)) => return Err(refused(&refusal, shared)),
            Err(_) => {
                return Err(RpcError::unavailable("the node is shutting down").into_eth());
            }
        }
    }
    to_json(B256::from(hash.0))
}

/// A send whose transaction failed in its block, as Hardhat's network
/// answers it: -32603 with the EVM's account of it, and as data that
/// message, the transaction's hash and the revert data (which
/// hardhat-chai-matchers and ethers decode custom errors from).
fn failed_in_block(hash: Hash32, receipt: &ward_state::Receipt) -> RpcError {
    let why = match receipt.status {
        Status::Reverted => super::calls::revert_reason(&receipt.output).map_or_else(
            || match super::calls::panic_code(&receipt.output) {
                Some(code) => format!("reverted with panic code {code:#x}"),
                None if receipt.output.is_empty() => "reverted without a reason string".into(),
                None => format!(
                    "reverted with an unrecognized custom error (return data: {})",
                    Bytes::from(receipt.output.clone())
                ),
            },
            |reason| format!("reverted with reason string '{reason}'"),
        ),
        _ if receipt.error_kind.as_deref() == Some("out_of_gas") => "out of gas".into(),
        status => format!(
            "{status}: {}",
            receipt.error_message.as_deref().unwrap_or("no message")
        ),
    };
    let message = format!("VM Exception while processing transaction: {why}");
    let data = serde_json::json!({
        "message": message,
        "txHash": B256::from(hash.0),
        "data": Bytes::from(receipt.output.clone()),
    });
    RpcError::eth(-32603, message, Some(data))
}

/// A refusal as geth says it (clients match on these messages).
fn refused(refusal: &Refusal, shared: &Shared) -> RpcError {
    use ward_chain::tx::{TxError, eth::EthTxError};
    use ward_executor::Inadmissible as Rule;

    use crate::mempool::PoolRule;
    let message = match refusal {
        Refusal::Pool(PoolRule::NonceUsed { next, got }) => {
            format!("nonce too low: next nonce {next}, tx nonce {got}")
        }
        Refusal::Rules(Rule::Nonce { expected, got }) if got < expected => {
            format!("nonce too low: next nonce {expected}, tx nonce {got}")
        }
        Refusal::Pool(
            PoolRule::NonceTooFar { next, got } | PoolRule::TooManyGapped { next, got },
        ) => {
            format!("nonce too high: next nonce {next}, tx nonce {got}")
        }
        Refusal::Pool(PoolRule::Known(_)) | Refusal::Committed(_) => "already known".into(),
        Refusal::Pool(PoolRule::Underpriced { .. }) => "replacement transaction underpriced".into(),
        Refusal::Pool(
            PoolRule::Full(_) | PoolRule::FullBytes { .. } | PoolRule::FullAtPrice { .. },
        ) => "txpool is full".into(),
        Refusal::Rules(Rule::Funds { .. }) => {
            format!("insufficient funds for gas * price + value: {refusal}")
        }
        Refusal::Rules(Rule::GasPrice { .. }) => format!(
            "max fee per gas less than block base fee: {refusal} (the base fee is {}, this node admits from {})",
            base_fee(shared),
            node_gas_price(shared)
        ),
        Refusal::Rules(Rule::IntrinsicCost { .. }) => format!("intrinsic gas too low: {refusal}"),
        Refusal::Rules(Rule::GasAboveMaximum { .. }) => {
            format!("exceeds block gas limit: {refusal}")
        }
        Refusal::Tx(TxError::Ethereum(EthTxError::WrongChain { .. })) => {
            format!("invalid chain id: {refusal}")
        }
        Refusal::Tx(TxError::Ethereum(EthTxError::BadSignature)) => {
            "invalid sender: invalid transaction v, r, s values".into()
        }
        other => other.to_string(),
    };
    // The code Ward gives the refusal (-32000, or a node's own failing).
    RpcError::eth(RpcError::from(refusal.clone()).code, message, None)
}
