//! What each method answers. A result object also carries
//! `applied_height` on the wire (the node's height when it started
//! answering, [`crate::Applied`]); the types here leave it to the
//! envelope, and read past fields they do not know, so a client keeps
//! working when a node adds one.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ward_primitives::{Address, Hash32};

use crate::wire::{Amount, Bytes, opt_word, present, word, words};

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
    /// `ok`, `reverted`, `trapped`, ...
    pub status: String,
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

/// `estimateGas`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimate {
    /// `gas_needed` and the margin: the limit to send with.
    pub gas: u64,
    /// The least limit with the same outcome.
    pub gas_needed: u64,
    /// What it uses.
    pub gas_used: u64,
    /// The margin, in percent.
    pub margin_percent: u64,
    /// How many runs the search took.
    pub simulations: u64,
}

/// `traceTransaction` (and `trace` of `simulateTransaction`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// The receipt the block recorded.
    pub receipt: Receipt,
    /// Gas paid outside any frame.
    pub charged: Vec<Charge>,
    /// `charged` and every frame's `self_gas`: the receipt's `gas_used`.
    pub gas_accounted: u64,
    /// The top frame (`null` for a plain transfer).
    pub root: Option<Frame>,
    /// The gas profile, when asked for (docs/debugging.md has its shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Value>,
}

/// Gas paid outside any frame.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    /// What for (`intrinsic`, `deploy`).
    pub what: String,
    /// How much.
    pub gas: u64,
}

/// A call frame of a trace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// How it was entered (`call`, `deploy`, `inner_call`, ...).
    pub call: String,
    /// Whose state.
    #[serde(with = "word")]
    pub address: Address,
    /// Whose code.
    #[serde(with = "word")]
    pub code_address: Address,
    /// Its caller.
    #[serde(with = "word")]
    pub caller: Address,
    /// What its code runs as.
    pub kind: String,
    /// Its input.
    pub input: Bytes,
    /// The native asset it was sent.
    pub value: Amount,
    /// The gas it was given.
    pub gas_given: u64,
    /// The gas it used, its callees' included.
    pub gas_used: u64,
    /// The gas it used itself.
    pub self_gas: u64,
    /// An EVM frame's own gas.
    pub runtime_gas: Option<u64>,
    /// How it ended.
    pub status: String,
    /// Why it did not end `ok`.
    pub error: Option<Failure>,
    /// What it returned.
    pub output: Bytes,
    /// The method its input names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Its arguments, by the schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
    /// Its output by the schema, or a revert's message.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub decoded: Option<Value>,
    /// Its reads, writes and events in order.
    pub accesses: Vec<Access>,
    /// The steps of the `vm_*` children it ran.
    pub children: Vec<ChildStep>,
    /// Where a frame that did not return stopped (docs/debugging.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backtrace: Option<Value>,
    /// The frames it called.
    pub calls: Vec<Frame>,
}

/// A frame's access to its state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// A read and the value found.
    Read {
        /// The key.
        key: Bytes,
        /// The value (`null`: none).
        value: Option<Bytes>,
    },
    /// A write.
    Write {
        /// The key.
        key: Bytes,
        /// The value before.
        old: Option<Bytes>,
        /// The value after (`null`: removed).
        new: Option<Bytes>,
    },
    /// An event.
    Event(TracedEvent),
}

/// An event in a frame, decoded like a receipt's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TracedEvent {
    /// Its topic.
    pub topic: Bytes,
    /// Its data.
    pub data: Bytes,
    /// Its name in the schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its fields by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Value>,
}

/// A step of a `vm_*` child.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChildStep {
    /// The child instance.
    pub instance: u64,
    /// What was asked of it.
    pub call: ChildCall,
    /// How the step ended.
    pub result: ChildResult,
    /// The gas the step took.
    pub gas_used: u64,
}

/// What a step asked of a child.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChildCall {
    /// `vm_call`: an export with arguments and a budget.
    Run {
        /// The export.
        export: String,
        /// Its arguments.
        args: Vec<i64>,
        /// The budget.
        gas: u64,
    },
    /// `vm_resume`: a syscall's value.
    Resume {
        /// The value.
        value: i64,
    },
}

/// How a child's step ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChildResult {
    /// The export returned.
    Finished {
        /// Its result.
        result: Option<i64>,
        /// What is left of the budget.
        gas_left: u64,
    },
    /// The child called a syscall and waits.
    Syscall {
        /// The import's number.
        index: u32,
        /// Its arguments.
        args: Vec<i64>,
        /// What is left of the budget.
        gas_left: u64,
    },
    /// The step failed.
    Failed(String),
}

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

/// A block: its header, hash and transactions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// Its height.
    pub height: u64,
    /// Its hash.
    #[serde(with = "word")]
    pub hash: Hash32,
    /// Its parent's hash.
    #[serde(with = "word")]
    pub parent: Hash32,
    /// Milliseconds since the Unix epoch.
    pub time: u64,
    /// The state root after it.
    #[serde(with = "word")]
    pub state_root: Hash32,
    /// The root of its transactions.
    #[serde(with = "word")]
    pub tx_root: Hash32,
    /// The root of its receipts.
    #[serde(with = "word")]
    pub receipts_root: Hash32,
    /// Its transactions' hashes, in order.
    #[serde(with = "words")]
    pub txs: Vec<Hash32>,
}

/// `replayBlock`: a committed block as stored and as replayed on its parent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Replay {
    /// The block as stored.
    pub stored: Block,
    /// The block as replayed.
    pub replayed: Block,
    /// Whether they are the same block (state root, receipts and hash).
    pub equal: bool,
}

/// `getEvents`: a page of events.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Events {
    /// The events, in chain order.
    pub events: Vec<Event>,
    /// `height:receipt:event` to continue from (`null`: done).
    pub cursor: Option<String>,
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

/// The native asset.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    /// Its name.
    pub name: String,
    /// Its decimals.
    pub decimals: u8,
}

/// `getNetwork`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// The chain's id.
    pub chain_id: String,
    /// The node's backend.
    pub backend: String,
    /// The host ABI's version.
    pub abi_version: u32,
    /// The gas schedule's version.
    pub schedule_version: u32,
    /// The largest transaction, in bytes.
    pub max_tx_bytes: u64,
    /// The most gas of a transaction.
    pub max_tx_gas: u64,
    /// The most gas of a block.
    pub max_block_gas: u64,
    /// The node's block time (0: on demand).
    pub block_time_ms: u64,
    /// The latest block.
    pub height: u64,
    /// Started with `--dev`.
    pub dev: bool,
    /// The native asset.
    pub asset: Asset,
    /// The lowest gas price this node admits.
    pub min_gas_price: Amount,
    /// The chain's lowest gas price.
    pub chain_min_gas_price: Amount,
    /// Who receives fees (`null`: burned), as the settings write it.
    pub fee_collector: Option<String>,
    /// The genesis state's root, as the settings write it.
    pub genesis_root: String,
    /// The whole record every node of the chain agrees on, as
    /// `DIR/chain.json` holds it.
    pub settings: Value,
    /// `{url, height, hash}` on a fork.
    pub fork: Option<Value>,
    /// A dev node's accounts.
    #[serde(default, with = "opt_words", skip_serializing_if = "Option::is_none")]
    pub dev_accounts: Option<Vec<Address>>,
}

/// `backup`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    /// The height of the copy.
    pub height: u64,
    /// Where it is.
    pub path: String,
}

/// `setNextBlockTime`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockTime {
    /// The next block's time.
    pub time: u64,
}

/// `impersonate`, `stopImpersonating`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impersonation {
    /// The address.
    #[serde(with = "word")]
    pub address: Address,
    /// Whether it is impersonated now.
    pub impersonated: bool,
}

/// `snapshot`, `revert`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The snapshot's id.
    pub id: u64,
    /// The chain's height then.
    pub height: u64,
}

/// `#[serde(with = "opt_words")]`: an optional list of words.
mod opt_words {
    use serde::{Deserialize, Deserializer, Serializer};
    use ward_primitives::Address;

    pub(super) fn serialize<S: Serializer>(
        words: &Option<Vec<Address>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match words {
            Some(words) => crate::wire::words::serialize(words, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<Address>>, D::Error> {
        #[derive(Deserialize)]
        struct Words(#[serde(with = "crate::wire::words")] Vec<Address>);
        Option::<Words>::deserialize(deserializer).map(|w| w.map(|w| w.0))
    }
}
