//! The chain's settings, recorded in the data directory when the chain is
//! created: every node of a chain must run with the same ones, so a node
//! refuses a directory recorded with others.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ward_executor::{ChainLimits, Fees};
use ward_primitives::{Address, RuntimeName};
use ward_state::{RedbStore, StateRead};

use crate::{
    genesis::{Amount, Asset, Genesis},
    startup::NodeError,
};

/// A copy of the chain's settings beside the store, written when a node
/// first opens the directory: it says a chain lives here, so that a
/// directory whose store went missing is refused rather than taken for a
/// new chain at height 0.
pub const CHAIN_FILE: &str = "chain.json";

/// Refuses a data directory whose [`CHAIN_FILE`] says a chain lives there
/// but whose store is gone.
///
/// # Errors
///
/// [`NodeError::Settings`] naming both files.
pub fn check_store_present(dir: &std::path::Path) -> Result<(), NodeError> {
    let store = dir.join(ward_state::DATABASE_FILE);
    if dir.join(CHAIN_FILE).exists() && !store.exists() {
        return Err(NodeError::Settings(format!(
            "{} says a chain lives in {}, but its store {} is missing: restore it (or remove {CHAIN_FILE} to start a new chain there)",
            CHAIN_FILE,
            dir.display(),
            ward_state::DATABASE_FILE
        )));
    }
    Ok(())
}

/// Writes [`CHAIN_FILE`] in `dir` when it is missing (through a temporary
/// file, so a crash leaves the whole file or none).
///
/// # Errors
///
/// [`NodeError::Io`].
pub fn record_chain_file(dir: &std::path::Path, settings: &ChainSettings) -> Result<(), NodeError> {
    let path = dir.join(CHAIN_FILE);
    if path.exists() {
        return Ok(());
    }
    let json = serde_json::to_vec_pretty(settings)
        .map_err(|e| NodeError::Settings(format!("cannot encode the settings: {e}")))?;
    let temp = dir.join(format!(".{CHAIN_FILE}.tmp"));
    std::fs::write(&temp, json)?;
    std::fs::rename(&temp, &path)?;
    Ok(())
}

/// No bound (a field absent from an older record).
fn unbounded() -> u64 {
    u64::MAX
}

/// The name of the record in the store's settings table.
pub(crate) const RECORD: &str = "chain";

/// The system runtimes a node registers (each name with its module's
/// record), as [`ChainSettings::runtimes`] has them.
pub(crate) fn runtime_records(runtimes: &[(RuntimeName, String)]) -> BTreeMap<String, String> {
    runtimes
        .iter()
        .map(|(name, record)| (name.to_string(), record.clone()))
        .collect()
}

/// What a chain's nodes must agree on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// ([`Genesis::eth_chain_id`]); absent: the chain takes none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eth_chain_id: Option<u64>,
    /// The state root of the genesis state (the balances the chain
    /// started with), hex: it names the genesis, so that nodes of another
    /// genesis are refused.
    #[serde(default)]
    pub genesis_root: String,
}

impl ChainSettings {
    /// This build's settings for `chain_id` with `limits`.
    pub fn new(chain_id: &str, limits: &ChainLimits) -> Self {
        ChainSettings {
            chain_id: chain_id.to_owned(),
            abi_version: ward_vm::ABI_VERSION,
            schedule_version: ward_vm::SCHEDULE_VERSION,
            max_tx_bytes: limits.max_tx_bytes,
            max_tx_gas: limits.max_tx_gas,
            max_block_gas: limits.max_block_gas,
            tx_memory_bytes: limits.tx_memory_bytes,
            max_instances: limits.max_instances,
            max_tx_event_bytes: limits.max_tx_event_bytes,
            runtimes: BTreeMap::new(),
            asset: Asset::default(),
            min_gas_price: Amount(0),
            fee_collector: None,
            eth_chain_id: None,
            genesis_root: String::new(),
        }
    }

    /// The fee rules.
    ///
    /// # Errors
    ///
    /// A recorded collector that is not an address.
    pub fn fees(&self) -> Result<Fees, NodeError> {
        let collector = match &self.fee_collector {
            None => None,
            Some(text) => Some(Address::from_hex(text).ok_or_else(|| {
                NodeError::Settings(format!(
                    "the recorded fee collector {text:?} is not an address"
                ))
            })?),
        };
        Ok(Fees {
            min_gas_price: self.min_gas_price.0,
            collector,
        })
    }

    /// What transactions from others are checked against: the chain id,
    /// the Ethereum chain id, and the base fee (the least gas price);
    /// nothing unsigned is taken.
    pub fn rules(&self) -> ward_chain::tx::ChainRules {
        ward_chain::tx::ChainRules {
            eth_chain_id: self.eth_chain_id,
            base_fee: self.min_gas_price.0,
            ..ward_chain::tx::ChainRules::new(&self.chain_id)
        }
    }

    /// The executor's limits.
    pub fn limits(&self) -> ChainLimits {
        ChainLimits {
            max_tx_bytes: self.max_tx_bytes,
            max_tx_gas: self.max_tx_gas,
            max_block_gas: self.max_block_gas,
            tx_memory_bytes: self.tx_memory_bytes,
            max_instances: self.max_instances,
            max_tx_event_bytes: self.max_tx_event_bytes,
        }
    }

    /// The settings of `genesis` on this build, with `max_block_gas` if
    /// given, and the state root its balances make.
    ///
    /// # Errors
    ///
    /// A genesis that does not check, or a store failure.
    pub fn of_genesis(
        genesis: &Genesis,
        max_block_gas: Option<u64>,
        runtimes: BTreeMap<String, String>,
    ) -> Result<ChainSettings, NodeError> {
        genesis.check().map_err(NodeError::Settings)?;
        let mut limits = genesis.chain_limits();
        if let Some(gas) = max_block_gas {
            limits.max_block_gas = gas;
        }
        let root = genesis_root(genesis)?;
        Ok(ChainSettings {
            runtimes,
            asset: genesis.asset.clone(),
            min_gas_price: genesis.min_gas_price,
            fee_collector: genesis
                .fees()
                .map_err(NodeError::Settings)?
                .collector
                .map(|a| a.to_string()),
            eth_chain_id: genesis.eth_chain_id,
            genesis_root: root.to_string(),
            ..ChainSettings::new(&genesis.chain_id, &limits)
        })
    }

    /// The settings that differ between `self` and `other`, each as
    /// `name: VALUE (self), VALUE (other)`, by field name.
    pub fn differences(&self, other: &ChainSettings) -> Vec<(String, String, String)> {
        let object = |s: &ChainSettings| match serde_json::to_value(s) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        let (mine, theirs) = (object(self), object(other));
        let mut names: Vec<&String> = mine.keys().chain(theirs.keys()).collect();
        names.sort();
        names.dedup();
        let shown =
            |v: Option<&serde_json::Value>| v.map_or_else(|| "none".into(), |v| v.to_string());
        names
            .into_iter()
            .filter(|name| mine.get(*name) != theirs.get(*name))
            .map(|name| (name.clone(), shown(mine.get(name)), shown(theirs.get(name))))
            .collect()
    }

    /// Refuses `other` unless it is these settings, naming every setting
    /// that differs with its value in each (`mine` and `theirs` say whose
    /// they are).
    ///
    /// # Errors
    ///
    /// [`NodeError::Settings`].
    pub fn check_same(
        &self,
        mine: &str,
        other: &ChainSettings,
        theirs: &str,
    ) -> Result<(), NodeError> {
        let differ = self.differences(other);
        if differ.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = differ
            .iter()
            .map(|(name, a, b)| format!("{name} is {a} in {mine}, {b} in {theirs}"))
            .collect();
        Err(NodeError::Settings(format!(
            "{mine} has other settings than {theirs}: {}",
            list.join("; ")
        )))
    }

    /// Checks the settings a snapshot carries (by name, as the store
    /// records them) against `genesis`'s on this build, with
    /// `max_block_gas` when the chain was created with one other than
    /// the genesis's: what `ward snapshot restore --genesis` keeps. The
    /// system runtimes are taken as recorded: a node started on the
    /// directory checks them against the modules it is given.
    ///
    /// # Errors
    ///
    /// Why they are not the genesis's, naming each setting that differs.
    pub fn check_snapshot(
        settings: &BTreeMap<String, Vec<u8>>,
        genesis: &Genesis,
        max_block_gas: Option<u64>,
    ) -> Result<(), String> {
        if let Some(other) = settings.keys().find(|name| *name != RECORD) {
            return Err(format!("a setting {other:?} that is not a chain's"));
        }
        let bytes = settings
            .get(RECORD)
            .ok_or("the snapshot carries no chain settings")?;
        let carried: ChainSettings = serde_json::from_slice(bytes)
            .map_err(|e| format!("its chain settings do not decode: {e}"))?;
        let ours = ChainSettings::of_genesis(genesis, max_block_gas, carried.runtimes.clone())
            .map_err(|e| e.to_string())?;
        carried
            .check_same("the snapshot", &ours, "the genesis")
            .map_err(|e| e.to_string())
    }

    /// The settings recorded in `store`, if a node ever served it.
    ///
    /// # Errors
    ///
    /// A store failure, or a record that does not decode.
    pub fn recorded(store: &RedbStore) -> Result<Option<ChainSettings>, NodeError> {
        let Some(bytes) = store.setting(RECORD)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            NodeError::Settings(format!("the recorded chain settings do not decode: {e}"))
        })
    }

    /// The settings as a store or the cluster records them.
    pub(crate) fn to_record(&self) -> Result<Vec<u8>, NodeError> {
        serde_json::to_vec(self)
            .map_err(|e| NodeError::Settings(format!("cannot encode the settings: {e}")))
    }

    /// Refuses a chain whose ABI or gas schedule this build does not run;
    /// `chain` names it in the message.
    pub(crate) fn check_versions(&self, chain: &str) -> Result<(), NodeError> {
        if (self.abi_version, self.schedule_version)
            != (ward_vm::ABI_VERSION, ward_vm::SCHEDULE_VERSION)
        {
            return Err(NodeError::Settings(format!(
                "{chain} runs ABI version {} and gas schedule {}, this build {} and {}",
                self.abi_version,
                self.schedule_version,
                ward_vm::ABI_VERSION,
                ward_vm::SCHEDULE_VERSION
            )));
        }
        Ok(())
    }

    /// Refuses a chain whose system runtimes are not those this node
    /// registers (`runtimes`, as [`runtime_records`] has them); `chain`
    /// says whose runtimes they are in the message.
    pub(crate) fn check_runtimes(
        &self,
        runtimes: &BTreeMap<String, String>,
        chain: &str,
    ) -> Result<(), NodeError> {
        if &self.runtimes != runtimes {
            return Err(NodeError::Settings(format!(
                "{chain} system runtimes {:?}, this node registers {:?} (pass --runtime NAME=PATH for each, with the chain's modules)",
                self.runtimes, runtimes
            )));
        }
        Ok(())
    }

    /// The settings of the chain in `store`: those recorded, checked
    /// against this build, the command line and `genesis` (if given), or,
    /// for a store without any, those of `genesis` (with `max_block_gas`
    /// if given), recorded now. A new chain needs a genesis: a file's, or
    /// a `--dev` node's ([`Genesis::dev`]).
    ///
    /// # Errors
    ///
    /// Another chain's directory, settings this build or the command line
    /// disagrees with, another genesis, a new chain without one, or a
    /// store failure.
    pub fn open(
        store: &RedbStore,
        chain_id: &str,
        max_block_gas: Option<u64>,
        runtimes: &[(RuntimeName, String)],
        genesis: Option<&Genesis>,
    ) -> Result<ChainSettings, NodeError> {
        let runtimes = runtime_records(runtimes);
        if let Some(genesis) = genesis
            && genesis.chain_id != chain_id
        {
            return Err(NodeError::Settings(format!(
                "the genesis is of chain {:?}, the node serves {chain_id:?}",
                genesis.chain_id
            )));
        }
        let Some(recorded) = ChainSettings::recorded(store)? else {
            let Some(genesis) = genesis else {
                let height = store.height()?;
                if height > 0 {
                    return Err(NodeError::Settings(format!(
                        "this data directory holds a chain at block {height} without its settings (a snapshot restored without --genesis): pass the chain's --genesis FILE"
                    )));
                }
                return Err(NodeError::Settings(
                    "a new chain needs a genesis: pass --genesis FILE (`ward genesis FILE` writes a template) or --dev".into(),
                ));
            };
            let settings = ChainSettings::of_genesis(genesis, max_block_gas, runtimes)?;
            store.put_setting(RECORD, &settings.to_record()?)?;
            return Ok(settings);
        };
        if recorded.chain_id != chain_id {
            return Err(NodeError::Settings(format!(
                "the data directory holds chain {:?}, not {:?} (pass --chain-id {} to serve it)",
                recorded.chain_id, chain_id, recorded.chain_id
            )));
        }
        recorded.check_versions("the chain")?;
        recorded.check_runtimes(&runtimes, "the chain was created with")?;
        if let Some(gas) = max_block_gas
            && gas != recorded.max_block_gas
        {
            return Err(NodeError::Settings(format!(
                "the chain was created with --max-block-gas {}, not {gas}",
                recorded.max_block_gas
            )));
        }
        if let Some(genesis) = genesis {
            let ours = ChainSettings::of_genesis(
                genesis,
                Some(recorded.max_block_gas),
                recorded.runtimes.clone(),
            )?;
            recorded.check_same("the chain", &ours, "this genesis")?;
        }
        Ok(recorded)
    }
}

/// The state root `genesis`'s balances make at height 0 (computed, not
/// written).
fn genesis_root(genesis: &Genesis) -> Result<ward_primitives::Hash32, NodeError> {
    let accounts = genesis.accounts().map_err(NodeError::Settings)?;
    ward_executor::genesis_root(&accounts)
        .map_err(|e| NodeError::Settings(format!("the genesis state: {e}")))
}
