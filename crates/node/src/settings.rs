//! The chain's settings, recorded in the data directory when the chain is
//! created: every node of a chain must run with the same ones, so a node
//! refuses a directory recorded with others.

use std::collections::BTreeMap;

use ward_executor::{ChainLimits, Fees};
use ward_primitives::{Address, RuntimeName};
use ward_state::{RedbStore, StateRead};

pub use ward_rpc::results::ChainSettings;

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

/// What a node does with the chain's settings: reads them from a genesis
/// or a store, checks them against its own and a snapshot's, and applies
/// them (the executor's fees and limits, the transactions' rules). The
/// record itself is ward-rpc's [`ChainSettings`], as the wire carries it.
pub trait ChainSettingsExt: Sized {
    /// This build's settings for `chain_id` with `limits`.
    fn new(chain_id: &str, limits: &ChainLimits) -> Self;

    /// The fee rules.
    ///
    /// # Errors
    ///
    /// A recorded collector that is not an address.
    fn fees(&self) -> Result<Fees, NodeError>;

    /// What transactions from others are checked against: the chain id,
    /// the Ethereum chain id, and the base fee (the least gas price);
    /// nothing unsigned is taken.
    fn rules(&self) -> ward_chain::tx::ChainRules;

    /// The executor's limits.
    fn limits(&self) -> ChainLimits;

    /// The settings of `genesis` on this build, with `max_block_gas` if
    /// given, and the state root its balances make.
    ///
    /// # Errors
    ///
    /// A genesis that does not check, or a store failure.
    fn of_genesis(
        genesis: &Genesis,
        max_block_gas: Option<u64>,
        runtimes: BTreeMap<String, String>,
    ) -> Result<ChainSettings, NodeError>;

    /// The settings that differ between `self` and `other`, each as
    /// `name: VALUE (self), VALUE (other)`, by field name.
    fn differences(&self, other: &ChainSettings) -> Vec<(String, String, String)>;

    /// Refuses `other` unless it is these settings, naming every setting
    /// that differs with its value in each (`mine` and `theirs` say whose
    /// they are).
    ///
    /// # Errors
    ///
    /// [`NodeError::Settings`].
    fn check_same(&self, mine: &str, other: &ChainSettings, theirs: &str) -> Result<(), NodeError>;

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
    fn check_snapshot(
        settings: &BTreeMap<String, Vec<u8>>,
        genesis: &Genesis,
        max_block_gas: Option<u64>,
    ) -> Result<(), String>;

    /// The settings recorded in `store`, if a node ever served it.
    ///
    /// # Errors
    ///
    /// A store failure, or a record that does not decode.
    fn recorded(store: &RedbStore) -> Result<Option<ChainSettings>, NodeError>;

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
    fn open(
        store: &RedbStore,
        chain_id: &str,
        max_block_gas: Option<u64>,
        runtimes: &[(RuntimeName, String)],
        genesis: Option<&Genesis>,
    ) -> Result<ChainSettings, NodeError>;
}

impl ChainSettingsExt for ChainSettings {
    fn new(chain_id: &str, limits: &ChainLimits) -> Self {
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

    fn fees(&self) -> Result<Fees, NodeError> {
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
            min_evm_gas_price: None,
            collector,
        })
    }

    fn rules(&self) -> ward_chain::tx::ChainRules {
        ward_chain::tx::ChainRules {
            eth_chain_id: self.eth_chain_id,
            base_fee: ward_executor::price_per(
                ward_chain::tx::GasUnit::Ethereum(Default::default()),
                self.min_gas_price.0,
            ),
            ..ward_chain::tx::ChainRules::new(&self.chain_id)
        }
    }

    fn limits(&self) -> ChainLimits {
        ChainLimits {
            max_tx_bytes: self.max_tx_bytes,
            max_tx_gas: self.max_tx_gas,
            max_block_gas: self.max_block_gas,
            tx_memory_bytes: self.tx_memory_bytes,
            max_instances: self.max_instances,
            max_tx_event_bytes: self.max_tx_event_bytes,
        }
    }

    fn of_genesis(
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

    fn differences(&self, other: &ChainSettings) -> Vec<(String, String, String)> {
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

    fn check_same(&self, mine: &str, other: &ChainSettings, theirs: &str) -> Result<(), NodeError> {
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

    fn check_snapshot(
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

    fn recorded(store: &RedbStore) -> Result<Option<ChainSettings>, NodeError> {
        let Some(bytes) = store.setting(RECORD)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            NodeError::Settings(format!("the recorded chain settings do not decode: {e}"))
        })
    }

    fn open(
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
            store.put_setting(RECORD, &to_record(&settings)?)?;
            return Ok(settings);
        };
        if recorded.chain_id != chain_id {
            return Err(NodeError::Settings(format!(
                "the data directory holds chain {:?}, not {:?} (pass --chain-id {} to serve it)",
                recorded.chain_id, chain_id, recorded.chain_id
            )));
        }
        check_versions(&recorded, "the chain")?;
        check_runtimes(&recorded, &runtimes, "the chain was created with")?;
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

/// The settings as a store or the cluster records them.
pub(crate) fn to_record(settings: &ChainSettings) -> Result<Vec<u8>, NodeError> {
    serde_json::to_vec(settings)
        .map_err(|e| NodeError::Settings(format!("cannot encode the settings: {e}")))
}

/// Refuses a chain whose ABI or gas schedule this build does not run;
/// `chain` names it in the message.
pub(crate) fn check_versions(settings: &ChainSettings, chain: &str) -> Result<(), NodeError> {
    if (settings.abi_version, settings.schedule_version)
        != (ward_vm::ABI_VERSION, ward_vm::SCHEDULE_VERSION)
    {
        return Err(NodeError::Settings(format!(
            "{chain} runs ABI version {} and gas schedule {}, this build {} and {}",
            settings.abi_version,
            settings.schedule_version,
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
    settings: &ChainSettings,
    runtimes: &BTreeMap<String, String>,
    chain: &str,
) -> Result<(), NodeError> {
    if &settings.runtimes != runtimes {
        return Err(NodeError::Settings(format!(
            "{chain} system runtimes {:?}, this node registers {:?} (pass --runtime NAME=PATH for each, with the chain's modules)",
            settings.runtimes, runtimes
        )));
    }
    Ok(())
}

/// The state root `genesis`'s balances make at height 0 (computed, not
/// written).
fn genesis_root(genesis: &Genesis) -> Result<ward_primitives::Hash32, NodeError> {
    let accounts = genesis.accounts().map_err(NodeError::Settings)?;
    ward_executor::genesis_root(&accounts)
        .map_err(|e| NodeError::Settings(format!("the genesis state: {e}")))
}
