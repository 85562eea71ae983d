//! Transactions and what became of them: receipts, events, the
//! transaction as `getTransaction` shows it.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ward_primitives::{Address, Hash32, Status};

use super::traces::Trace;
use crate::wire::{Amount, Bytes, opt_word, present, word};

/// An event, with its schema's decoding where the contract has one, and
/// where it happened (`getEvents`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The contract that emitted it.
    #[serde(with = "word")]
    pub contract: Address,
    /// Its topic.
    pub topic: Bytes,
    /// Its data.
    pub data: Bytes,
    /// Its name in the contract's schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its fields by name, decoded by the schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Value>,
    /// Why the bytes do not fit the schema's event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode_error: Option<String>,
    /// Its block (`getEvents`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Its transaction (`getEvents`).
    #[serde(default, with = "opt_word", skip_serializing_if = "Option::is_none")]
    pub tx: Option<Hash32>,
    /// Its position in the receipt (`getEvents`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
}

/// Why a transaction did not end `ok`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The reason, for programs.
    pub kind: String,
    /// What happened.
    pub message: String,
}

/// A receipt: the CLI's receipt fields, `index`, what the schemas of the
/// contracts involved decode, and what some methods add (`block` when
/// waited for, `transaction` from `getTransaction`, `storage` and
/// `trace` from `simulateTransaction`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    /// How it ended: `ok`, `reverted`, `trapped`, ...
    #[serde(with = "crate::wire::status")]
    pub status: Status,
    /// The guest's exit code.
    pub exit_code: i32,
    /// What it returned.
    pub output: Bytes,
    /// The gas it used.
    pub gas_used: u64,
    /// What the sender paid for gas.
    pub fee: Amount,
    /// Why it did not end `ok`.
    pub error: Option<Failure>,
    /// Its transaction.
    #[serde(with = "word")]
    pub tx: Hash32,
    /// Its block's height.
    pub height: u64,
    /// Its position in the block.
    pub index: u32,
    /// The events it emitted.
    pub events: Vec<Event>,
    /// A deploy's new contract.
    #[serde(default, with = "opt_word", skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Gas in a system runtime's own units (an EVM contract's EVM gas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_gas: Option<u64>,
    /// The method called, where the input names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The output decoded by the method's return type (`null` for none),
    /// or a revert's message.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub decoded: Option<Value>,
    /// Why the output does not fit the schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode_error: Option<String>,
    /// Its block's hash, when waited for.
    #[serde(default, with = "opt_word", skip_serializing_if = "Option::is_none")]
    pub block: Option<Hash32>,
    /// The transaction itself (`getTransaction`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<Transaction>,
    /// The writes it would make (`simulateTransaction`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<Vec<StorageWrite>>,
    /// Its frames (`simulateTransaction` with `trace`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Box<Trace>>,
}

/// `sendTransaction`, `sendRawTransaction`: the receipt when waited for,
/// else the transaction's hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Sent {
    /// Committed.
    Receipt(Box<Receipt>),
    /// Admitted.
    Pending {
        /// Its hash.
        #[serde(with = "word")]
        tx: Hash32,
    },
}

/// `getTransaction`: the receipt (with its `transaction`), or the hash of
/// one still waiting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Found {
    /// In a block.
    Receipt(Box<Receipt>),
    /// In the mempool.
    Pending {
        /// Its hash.
        #[serde(with = "word")]
        tx: Hash32,
        /// `pending`.
        status: String,
    },
}

/// A write a simulation would make.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageWrite {
    /// The contract.
    #[serde(with = "word")]
    pub address: Address,
    /// The key.
    pub key: Bytes,
    /// The value (`null` removes).
    pub value: Option<Bytes>,
}

/// A stored transaction as `getTransaction` shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    /// Signed by its sender's key.
    pub signed: bool,
    /// Sent by a dev node for an address it impersonated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impersonated: Option<bool>,
    /// Its sender.
    #[serde(with = "word")]
    pub from: Address,
    /// A signed one's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<Bytes>,
    /// Its nonce (none for an embedder's unsigned one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<u64>,
    /// Its gas limit.
    pub gas_limit: u64,
    /// Its gas limit, its gas price and its receipt's gas count EVM gas
    /// (`docs/ethereum.md`, "Gas"): an Ethereum transaction's, or one a
    /// dev node sent for an Ethereum tool. Absent: Ward gas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evm_gas: Option<bool>,
    /// Its gas price (none for an embedder's unsigned one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_price: Option<Amount>,
    /// The native asset it moves.
    pub value: Amount,
    /// The chain it was signed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<String>,
    /// A call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<CallShown>,
    /// A deploy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<DeployShown>,
    /// An admin transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<AdminShown>,
    /// An Ethereum transaction's own fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ethereum: Option<EthShown>,
}

/// What an Ethereum transaction says beyond Ward's fields
/// (`docs/ethereum.md`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EthShown {
    /// Its type: 0 legacy, 1 EIP-2930, 2 EIP-1559.
    #[serde(rename = "type")]
    pub ty: u8,
    /// The Ethereum chain id it was signed for.
    pub chain_id: u64,
    /// Its fee cap (a legacy one's gas price).
    pub max_fee_per_gas: Amount,
    /// Its priority fee (a legacy one's gas price).
    pub max_priority_fee_per_gas: Amount,
}

/// A parameter of a schema's method, in declaration order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its type, as the schema writes it.
    #[serde(rename = "type")]
    pub ty: String,
}

/// A call's or deploy's input as `getTransaction` shows it, with its
/// arguments decoded by the schema.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InputShown {
    /// The input (`null` past 4096 bytes unless `full_input`).
    pub input: Option<Bytes>,
    /// The input's size when it is left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_size: Option<usize>,
    /// The parameters in declaration order (a call's method's, or a
    /// deploy's `init`'s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Vec<Param>>,
    /// The arguments by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
    /// Why the input does not fit the schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode_error: Option<String>,
}

/// A call as `getTransaction` shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CallShown {
    /// The contract called.
    #[serde(with = "word")]
    pub to: Address,
    /// The method the input names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Its signature in the contract's schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The input, decoded.
    #[serde(flatten)]
    pub input: InputShown,
}

/// A deploy as `getTransaction` shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeployShown {
    /// Its code's hash.
    #[serde(with = "word")]
    pub code_hash: Hash32,
    /// Its code's size.
    pub code_size: usize,
    /// Its address's salt.
    pub salt: Bytes,
    /// What it runs as.
    pub kind: String,
    /// Who may upgrade it.
    #[serde(with = "opt_word")]
    pub admin: Option<Address>,
    /// `init`'s input, decoded.
    #[serde(flatten)]
    pub input: InputShown,
}

/// An admin transaction as `getTransaction` shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AdminShown {
    /// The contract.
    #[serde(with = "word")]
    pub contract: Address,
    /// An upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<UpgradeShown>,
    /// A change of admin (`Some(None)`: nobody).
    #[serde(
        default,
        deserialize_with = "crate::wire::present_word",
        serialize_with = "crate::wire::write_present_word",
        skip_serializing_if = "Option::is_none"
    )]
    pub set_admin: Option<Option<Address>>,
}

/// An upgrade as `getTransaction` shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpgradeShown {
    /// The new code's hash.
    #[serde(with = "word")]
    pub code_hash: Hash32,
    /// Its size.
    pub code_size: usize,
    /// `migrate`'s input.
    pub migrate_input: Bytes,
}
