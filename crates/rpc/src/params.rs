//! What each method takes: one object of named fields, unknown fields
//! refused (`deny_unknown_fields`), absent and `null` alike unless a
//! field says otherwise.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ward_primitives::{Address, Hash32};

use crate::wire::{Amount, Bytes, opt_word, present, present_word, word, write_present_word};

/// No params.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// A deploy: `code` with `init`'s `input` (or `args`, JSON encoded by the
/// module's own schema).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deploy {
    /// The module (or a system runtime's code).
    pub code: Bytes,
    /// `init`'s input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Bytes>,
    /// `init`'s arguments by name, instead of `input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
    /// The salt of its address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<Bytes>,
    /// What the code runs as: `ward` (default), `wasi`, or a runtime's
    /// name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Who may upgrade it (none: immutable).
    #[serde(default, with = "opt_word", skip_serializing_if = "Option::is_none")]
    pub admin: Option<Address>,
}

/// A call: `to` with `input` (or `method` and its JSON `args`, encoded by
/// the schema of the contract at `to`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// The contract (or account) called.
    #[serde(with = "word")]
    pub to: Address,
    /// The input, as hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Bytes>,
    /// A method of the contract's schema, instead of `input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// `method`'s arguments by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
}

/// An admin transaction: an upgrade or a change of admin.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    /// The contract.
    #[serde(with = "word")]
    pub contract: Address,
    /// New code and its `migrate` input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<Upgrade>,
    /// The new admin (present and `null`: nobody, immutable from then).
    #[serde(
        default,
        deserialize_with = "present_word",
        serialize_with = "write_present_word",
        skip_serializing_if = "Option::is_none"
    )]
    pub set_admin: Option<Option<Address>>,
}

/// `admin.upgrade`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upgrade {
    /// The new code.
    pub code: Bytes,
    /// Its `migrate` input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Bytes>,
}

/// Declares a params type of an unsigned transaction: the fields named
/// in the call, then exactly one of `deploy`, `call` and `admin` (the
/// method checks that), and the gas, value, price and nonce, so that the
/// three methods that take one take the same fields alike.
macro_rules! unsigned_params {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            /// A deploy.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub deploy: Option<Deploy>,
            /// A call.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub call: Option<Call>,
            /// An admin transaction.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub admin: Option<Admin>,
            /// The gas limit (`estimateGas`: the most to try, default and
            /// cap `--query-gas-cap`).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub gas: Option<u64>,
            /// The native asset moved to the callee or new contract.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub value: Option<Amount>,
            /// The price of a unit of gas (default: the node's minimum;
            /// a simulation or an estimate pays none).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub gas_price: Option<Amount>,
            /// The nonce (default: the sender's next free one; not
            /// checked by a simulation or an estimate).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub nonce: Option<u64>,
        }
    };
}

unsigned_params! {
    /// `sendTransaction`: a dev account (or an impersonated address) and
    /// what it sends.
    Transaction {
        /// The sender.
        #[serde(with = "word")]
        from: Address,
        /// Answer with the receipt once committed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wait: Option<bool>,
    }
}

/// `sendRawTransaction`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Raw {
    /// The signed encoding.
    pub tx: Bytes,
    /// Answer with the receipt once committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<bool>,
}

unsigned_params! {
    /// `simulateTransaction`: a signed transaction (`tx`, with no other
    /// transaction field) or an unsigned one (`from` and the rest), with
    /// a trace and a profile on request.
    Simulate {
        /// A signed transaction's encoding (its nonce is checked).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tx: Option<Bytes>,
        /// The sender of an unsigned one: any address.
        #[serde(default, with = "opt_word", skip_serializing_if = "Option::is_none")]
        from: Option<Address>,
        /// Accepted for `sendTransaction`'s shape; nothing to wait for.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wait: Option<bool>,
        /// The frames too.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        trace: Option<bool>,
        /// The trace's gas profile too (needs `trace`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        profile: Option<bool>,
    }
}

unsigned_params! {
    /// `estimateGas`: an unsigned transaction; `gas` is the most to try.
    Estimate {
        /// The sender.
        #[serde(with = "word")]
        from: Address,
    }
}

/// `getTransaction`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetTransaction {
    /// Its hash.
    #[serde(with = "word")]
    pub tx: Hash32,
    /// Every input byte, however long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_input: Option<bool>,
}

/// `traceTransaction`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceTransaction {
    /// Its hash.
    #[serde(with = "word")]
    pub tx: Hash32,
    /// The gas profile too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<bool>,
}

/// `query`: a read-only call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// The contract.
    #[serde(with = "word")]
    pub to: Address,
    /// The input, as hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Bytes>,
    /// A method of the contract's schema, instead of `input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// `method`'s arguments by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
    /// The block whose state it reads (default: the latest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Its gas (default and cap: `--query-gas-cap`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas: Option<u64>,
    /// The caller it sees (default: zero).
    #[serde(default, with = "opt_word", skip_serializing_if = "Option::is_none")]
    pub from: Option<Address>,
}

/// `getStorage`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetStorage {
    /// The contract.
    #[serde(with = "word")]
    pub address: Address,
    /// The key.
    pub key: Bytes,
    /// The block (default: the latest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
}

/// `getStorageRange`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetStorageRange {
    /// The contract.
    #[serde(with = "word")]
    pub address: Address,
    /// The last key returned by the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Bytes>,
    /// Entries at most (default 100, at most 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// `getContract`, `getNonce`, `impersonate`, `stopImpersonating`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressOnly {
    /// The account or contract.
    #[serde(with = "word")]
    pub address: Address,
}

/// `getBalance`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetBalance {
    /// The account or contract.
    #[serde(with = "word")]
    pub address: Address,
    /// The block (default: the latest; 0 is the genesis state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
}

/// `getBlock`: exactly one of `height` and `hash`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetBlock {
    /// Its height.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Its hash.
    #[serde(default, with = "opt_word", skip_serializing_if = "Option::is_none")]
    pub hash: Option<Hash32>,
}

/// `getEvents`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetEvents {
    /// Only this contract's.
    #[serde(default, with = "opt_word", skip_serializing_if = "Option::is_none")]
    pub contract: Option<Address>,
    /// Only this topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<Bytes>,
    /// The first block (default: the first the node keeps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_height: Option<u64>,
    /// The last block (default: the latest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_height: Option<u64>,
    /// `height:receipt:event`, the next one to return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Events at most (default 100, at most 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// `getStateValue`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetStateValue {
    /// The key's hash (`ward_chain::tree::key_hash`).
    #[serde(with = "word")]
    pub key_hash: Hash32,
    /// The block (default: the latest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
}

/// `getCode`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetCode {
    /// The code's hash.
    #[serde(with = "word")]
    pub code_hash: Hash32,
}

/// `backup`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// The directory's name under `--backup-dir`.
    pub name: String,
}

/// `mine`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mine {
    /// How many blocks (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocks: Option<u64>,
}

/// `setNextBlockTime`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetNextBlockTime {
    /// Milliseconds since the Unix epoch.
    pub time: u64,
}

/// `setBalance`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetBalance {
    /// The account or contract.
    #[serde(with = "word")]
    pub address: Address,
    /// Its new balance.
    pub balance: Amount,
}

/// `setStorage`: `value` is required, and `null` removes the entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetStorage {
    /// The contract.
    #[serde(with = "word")]
    pub address: Address,
    /// The key.
    pub key: Bytes,
    /// `Some(None)`: remove; `None`: absent, refused.
    #[serde(default, deserialize_with = "present")]
    pub value: Option<Option<Bytes>>,
}

/// `setCode`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetCode {
    /// The contract.
    #[serde(with = "word")]
    pub address: Address,
    /// Its new code.
    pub code: Bytes,
}

/// `revert`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revert {
    /// The snapshot's id.
    pub id: u64,
}
