//! State as a client reads it: values with their proofs, contracts,
//! nonces, code, the native asset.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ward_primitives::{Address, Hash32};

use crate::wire::{Amount, Bytes, opt_word, word};

/// A value of the state tree after a block, with its proof against
/// that block's state root.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proven {
    /// The value (`null` when absent; a balance's is 16 bytes
    /// little-endian, `null` for zero).
    pub value: Option<Bytes>,
    /// Its proof against `state_root` (`null` on a fork).
    pub proof: Option<Bytes>,
    /// The block's state root.
    #[serde(with = "word")]
    pub state_root: Hash32,
    /// The block.
    pub height: u64,
}

/// `getStorage`: a value with its proof.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Storage {
    /// The contract.
    #[serde(with = "word")]
    pub address: Address,
    /// The key.
    pub key: Bytes,
    /// The value, proven.
    #[serde(flatten)]
    pub proven: Proven,
}

/// `getBalance`: a balance with its proof.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Balance {
    /// The account or contract.
    #[serde(with = "word")]
    pub address: Address,
    /// In the asset's smallest unit.
    pub balance: Amount,
    /// The native asset's name.
    pub asset: String,
    /// Its decimals.
    pub decimals: u8,
    /// The balance's value in the state tree, proven.
    #[serde(flatten)]
    pub proven: Proven,
}

/// `getStorageRange`: a page of a contract's entries in key order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageRange {
    /// The contract.
    #[serde(with = "word")]
    pub address: Address,
    /// The latest block.
    pub height: u64,
    /// The entries.
    pub entries: Vec<Entry>,
    /// The last key returned, to continue from (`null`: no more).
    pub cursor: Option<Bytes>,
}

/// A storage entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The key.
    pub key: Bytes,
    /// The value.
    pub value: Bytes,
}

/// `getContract`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    /// Its address.
    #[serde(with = "word")]
    pub address: Address,
    /// Its code's hash.
    #[serde(with = "word")]
    pub code_hash: Hash32,
    /// Its code's size.
    pub code_size: usize,
    /// Who deployed it.
    #[serde(with = "word")]
    pub deployer: Address,
    /// The block that created it.
    pub created_at: u64,
    /// What its code runs as.
    pub kind: String,
    /// Who may upgrade it (`null`: immutable).
    #[serde(with = "opt_word")]
    pub admin: Option<Address>,
    /// Every code it has run.
    pub code_history: Vec<CodeSince>,
    /// Its schema in the JSON form of docs/contracts.md.
    pub schema: Option<Value>,
}

/// A code a contract ran from a height on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeSince {
    /// The first block it ran in.
    pub since: u64,
    /// Its hash.
    #[serde(with = "word")]
    pub code_hash: Hash32,
}

/// `getNonce`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nonce {
    /// The account's transactions in blocks.
    pub nonce: u64,
    /// The next nonce free in the mempool.
    pub pending: u64,
}

/// `getStateValue`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateValue {
    /// The key's hash.
    #[serde(with = "word")]
    pub key_hash: Hash32,
    /// The block.
    pub height: u64,
    /// The value (`null` when absent).
    pub value: Option<Bytes>,
}

/// `getCode`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Code {
    /// Its hash.
    #[serde(with = "word")]
    pub code_hash: Hash32,
    /// The code.
    pub code: Bytes,
}
