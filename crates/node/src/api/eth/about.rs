//! What a client asks about the node and its chain: its version, the
//! chain's id, whether it is syncing, its peers.

use alloy_primitives::{Bytes, U64};
use alloy_rpc_types_eth::SyncStatus;
use serde_json::Value;

use super::{
    chain::eth_chain_id,
    params::{Params, to_json},
};
use crate::{error::RpcError, state::Shared};

/// `web3_clientVersion`: `ward/v<version>`, or a dev node's
/// `--client-version`.
pub(super) fn client_version(shared: &Shared, _: &Params) -> Result<Value, RpcError> {
    match &shared.config().client_version {
        Some(version) => to_json(version),
        None => to_json(format!("ward/v{}", env!("CARGO_PKG_VERSION"))),
    }
}

/// `web3_sha3`: the Keccak-256 of its data.
pub(super) fn sha3(_: &Shared, p: &Params) -> Result<Value, RpcError> {
    let data: Bytes = p.at(0)?;
    to_json(alloy_primitives::keccak256(&data))
}

/// `net_version`: the chain id in decimal.
pub(super) fn net_version(shared: &Shared, _: &Params) -> Result<Value, RpcError> {
    to_json(eth_chain_id(shared)?.to_string())
}

/// `eth_chainId`.
pub(super) fn chain_id(shared: &Shared, _: &Params) -> Result<Value, RpcError> {
    to_json(U64::from(eth_chain_id(shared)?))
}

/// `net_listening`: a node that answers listens.
pub(super) fn listening(_: &Shared, _: &Params) -> Result<Value, RpcError> {
    to_json(true)
}

/// `net_peerCount`: a node speaks no Ethereum peer protocol.
pub(super) fn peer_count(_: &Shared, _: &Params) -> Result<Value, RpcError> {
    to_json(U64::ZERO)
}

/// `eth_syncing`: a node answers from what it has applied.
pub(super) fn syncing(_: &Shared, _: &Params) -> Result<Value, RpcError> {
    to_json(SyncStatus::None)
}
