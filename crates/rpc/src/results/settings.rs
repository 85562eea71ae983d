//! The record every node of a chain agrees on, as the chain's data
//! directory keeps it (`DIR/chain.json`, the store's settings table) and
//! `getNetwork` answers it; the node checks and applies it
//! (`ward_node::settings`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::wire::Amount;

/// The chain's native asset (`docs/economics.md`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    /// Its ticker: 1 to 16 ASCII letters and digits.
    pub name: String,
    /// How many decimal places one whole unit has (the smallest unit is
    /// 10^-decimals of it).
    pub decimals: u8,
}

impl Default for Asset {
    /// `WARD`, of 18 decimals.
    fn default() -> Self {
        Asset {
            name: "WARD".into(),
            decimals: 18,
        }
    }
}

/// No bound (a field absent from an older record).
fn unbounded() -> u64 {
    u64::MAX
}

/// What a chain's nodes must agree on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSettings {
    /// The chain id transactions are signed for.
    pub chain_id: String,
    /// The host ABI version contracts were deployed against.
    pub abi_version: u32,
    /// The gas schedule's version.
    pub schedule_version: u32,
    /// Largest transaction, in bytes.
    pub max_tx_bytes: u64,
    /// Largest gas limit of one transaction.
    pub max_tx_gas: u64,
    /// Largest sum of gas limits in one block.
    pub max_block_gas: u64,
    /// Linear memory all frames of one transaction may hold.
    pub tx_memory_bytes: u64,
    /// Instances (frames and children) alive at once in one transaction.
    pub max_instances: u64,
    /// Topic and data bytes the events of one transaction may hold.
    /// Absent from records of chains before schedule version 6 (which this
    /// build refuses anyway): unbounded.
    #[serde(default = "unbounded")]
    pub max_tx_event_bytes: u64,
    /// The system runtimes contracts may be deployed for: each name's
    /// module's code hash, hex, followed by `,metered` for an
    /// engine-metered one (`docs/runtimes.md`). Absent from records
    /// written before runtimes existed: none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub runtimes: BTreeMap<String, String>,
    /// The native asset (`docs/economics.md`).
    #[serde(default)]
    pub asset: Asset,
    /// The lowest gas price a transaction may name.
    #[serde(default)]
    pub min_gas_price: Amount,
    /// Who receives fees; `None`: they are burned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_collector: Option<String>,
    /// The numeric chain id Ethereum transactions are signed for
    /// (the genesis's `eth_chain_id`); absent: the chain takes none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eth_chain_id: Option<u64>,
    /// The state root of the genesis state (the balances the chain
    /// started with), hex: it names the genesis, so that nodes of another
    /// genesis are refused.
    #[serde(default)]
    pub genesis_root: String,
}
