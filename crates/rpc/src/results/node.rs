//! The node itself: its network, backups and a dev node's controls.

use serde::{Deserialize, Serialize};
use ward_primitives::Address;

use super::settings::{Asset, ChainSettings};
use crate::wire::{Amount, word};

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
    pub settings: ChainSettings,
    /// Where a fork came from (`null`: not a fork).
    pub fork: Option<Fork>,
    /// A dev node's accounts.
    #[serde(default, with = "opt_words", skip_serializing_if = "Option::is_none")]
    pub dev_accounts: Option<Vec<Address>>,
}

/// Where a fork came from, as its store records it (docs/node.md,
/// "Forking a chain").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fork {
    /// The source node it was forked from (a restart may name another
    /// node of the same chain).
    pub url: String,
    /// The source's block the fork builds on.
    pub height: u64,
    /// That block's hash, hex: another source must hold the same block.
    pub hash: String,
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
