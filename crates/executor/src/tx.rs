//! A transaction as the executor runs it: the chain's one transaction
//! model (`ward_chain::tx`: one payload type, one encoding whose first
//! byte names the sender kind, one `VerifiedTx` that runs). An
//! embedder's own transaction is the chain's
//! [`Unsigned`](ward_chain::tx::Unsigned), named [`Tx`] here, which runs
//! as the `VerifiedTx` it vouches for (`Unsigned::vouched`). Beside
//! them: a transaction's id as executed, and a deploy's address.

use ward_primitives::{Address, Hash32};
use ward_state::Encode;

/// An embedder's unsigned transaction: its sender, gas limit, value and
/// the chain's [`Payload`](ward_chain::tx::Payload).
pub use ward_chain::tx::Unsigned as Tx;

/// The identifier of a transaction as executed: BLAKE3 of its hash, the
/// block height and its position in the block. Two identical transactions
/// (same sender, target, input and gas) are distinct executions; receipts
/// are stored and looked up (`ward receipt`) by this identifier.
pub fn tx_id(tx: &Tx, height: u64, index: u32) -> Hash32 {
    id_at(tx.hash(), height, index)
}

/// [`tx_id`] of the transaction whose hash is `hash`.
pub(crate) fn id_at(hash: Hash32, height: u64, index: u32) -> Hash32 {
    let mut out = b"ward-tx-id".to_vec();
    hash.encode(&mut out);
    height.encode(&mut out);
    index.encode(&mut out);
    Hash32(*blake3::hash(&out).as_bytes())
}

/// The address a deploy creates: BLAKE3 of a domain tag, the sender, the
/// code hash and the salt (each length-prefixed where variable).
pub fn contract_address(sender: &Address, code_hash: &Hash32, salt: &[u8]) -> Address {
    let mut out = b"ward-contract-address".to_vec();
    sender.encode(&mut out);
    code_hash.encode(&mut out);
    salt.encode(&mut out);
    Address(*blake3::hash(&out).as_bytes())
}
