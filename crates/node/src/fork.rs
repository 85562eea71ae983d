//! A dev node that forks another node's chain (`ward serve --dev --fork
//! URL`, `docs/node.md`, "Forking a chain"), as anvil's `--fork-url`
//! does for Ethereum.
//!
//! The fork takes the source's chain settings and its block H (the
//! latest, or `--fork-height`) as the base of its own chain: its first
//! block is H + 1, whose parent is the source's block H. Its state is
//! the source's state after H, read over JSON-RPC as it is first needed
//! (`getStateValue`, `getCode`) and kept in the fork's store, under what
//! its own blocks write; the source is never written to. The dev
//! accounts are funded in the base, so they can pay. What was fetched
//! stays: a fork restarted with the source gone still reads it.

use std::{sync::Arc, time::Duration};

use ward_chain::tree::{self, StateKey};
use ward_primitives::Hash32;
use ward_rpc::{
    ErrorObject, Method,
    client::{Client, ClientError},
    methods, params,
};
use ward_state::{ChangeSet, RedbStore, StateCommit, StateError, Upstream};

use crate::settings::ChainSettingsExt as _;
use crate::{settings::ChainSettings, startup::NodeError};

/// Where a fork's base comes from: `ward serve --fork URL
/// [--fork-height H]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForkConfig {
    /// The source node's address (`http://HOST:PORT`).
    pub url: String,
    /// The source's block to fork after (default: its latest).
    pub height: Option<u64>,
}

/// What a fork records in its store, where it came from, is what
/// `getNetwork` shows of it.
pub use ward_rpc::results::Fork as ForkRecord;

/// The name of the record in the store's settings table.
const RECORD: &str = "fork";

/// How long one read of the source may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A JSON-RPC client of the source node.
struct Source {
    client: Client,
    url: String,
}

impl Source {
    fn new(url: &str) -> Result<Source, ClientError> {
        Ok(Source {
            client: Client::with(url, TIMEOUT, 64 << 20)?,
            url: url.trim_end_matches('/').to_owned(),
        })
    }

    /// One call of method `M`: its result, the source's error as
    /// `Ok(Err(..))`, or why the source could not be asked or answered
    /// in another shape.
    fn call<M: Method>(
        &self,
        params: &M::Params,
    ) -> Result<Result<M::Output, ErrorObject>, String> {
        match self.client.call::<M>(params) {
            Ok(applied) => Ok(Ok(applied.value)),
            Err(ClientError::Rpc(error)) => Ok(Err(error)),
            Err(other) => Err(format!("{}: {other}", self.url)),
        }
    }

    /// [`Source::call`] where an error object is a failure too.
    fn result<M: Method>(&self, params: &M::Params) -> Result<M::Output, String> {
        self.call::<M>(params)?
            .map_err(|error| format!("{}: {}: {error}", self.url, M::NAME))
    }
}

impl Upstream for Source {
    fn tree_value(&self, key_hash: &Hash32, height: u64) -> Result<Option<Vec<u8>>, StateError> {
        let params = params::GetStateValue {
            key_hash: *key_hash,
            height: Some(height),
        };
        let got = self
            .result::<methods::GetStateValue>(&params)
            .map_err(StateError::Upstream)?;
        Ok(got.value.map(Vec::from))
    }

    fn code(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        match self
            .call::<methods::GetCode>(&params::GetCode { code_hash: *hash })
            .map_err(StateError::Upstream)?
        {
            Ok(got) => Ok(Some(got.code.0)),
            Err(error) if error.data.kind == "not_found" => Ok(None),
            Err(error) => Err(StateError::Upstream(format!(
                "{}: getCode: {error}",
                self.url
            ))),
        }
    }
}

/// Opens the fork in `store`: a new one (an empty store) takes the
/// source's settings and block, funds `dev_accounts` and records all of
/// it; an existing one checks that the source still holds its base.
/// Either way the store then reads through the source. Returns the
/// chain's settings.
///
/// # Errors
///
/// [`NodeError::Settings`] when the source cannot be read, is another
/// chain than the recorded one, needs system runtimes this node does not
/// register, or the data directory holds a chain that is not a fork.
pub(crate) fn open(
    store: &RedbStore,
    fork: &ForkConfig,
    runtimes: &[(ward_primitives::RuntimeName, String)],
    dev_accounts: &[ward_primitives::Address],
) -> Result<ChainSettings, NodeError> {
    let failed = |why: String| NodeError::Settings(format!("--fork {}: {why}", fork.url));
    let source = Source::new(&fork.url).map_err(|e| failed(e.to_string()))?;
    let (settings, height) = match (ChainSettings::recorded(store)?, recorded(store)?) {
        (Some(settings), Some(record)) => {
            if fork.height.is_some_and(|h| h != record.height) {
                return Err(failed(format!(
                    "this data directory forked at block {}: start it without --fork-height, or fork into a new one",
                    record.height
                )));
            }
            let block = source_block(&source, record.height).map_err(failed)?;
            if block.hash().to_string() != record.hash {
                return Err(failed(format!(
                    "its block {} is not the one this fork was made from ({}): another chain",
                    record.height, record.hash
                )));
            }
            check_runtimes(&settings, runtimes)?;
            (settings, record.height)
        }
        (Some(_), None) => {
            return Err(NodeError::Settings(
                "this data directory holds a chain that is not a fork: --fork needs a new directory"
                    .into(),
            ));
        }
        (None, _) => create(store, &source, fork, runtimes, dev_accounts).map_err(|e| match e {
            NodeError::Settings(why) => failed(why),
            other => other,
        })?,
    };
    store.fork_from(Arc::new(source), height)?;
    Ok(settings)
}

/// The system runtimes of the chain a fork serves, by their settings
/// records: those it recorded, or for a new fork the source's.
///
/// # Errors
///
/// [`NodeError::Settings`] when the source cannot be read.
pub(crate) fn chain_runtimes(
    store: &RedbStore,
    fork: &ForkConfig,
) -> Result<std::collections::BTreeMap<String, String>, NodeError> {
    if let Some(settings) = ChainSettings::recorded(store)? {
        return Ok(settings.runtimes);
    }
    let failed = |why: String| NodeError::Settings(format!("--fork {}: {why}", fork.url));
    let source = Source::new(&fork.url).map_err(|e| failed(e.to_string()))?;
    let network = source
        .result::<methods::GetNetwork>(&params::Empty {})
        .map_err(failed)?;
    Ok(network.settings.runtimes)
}

/// The source chain's runtimes must be those this node registers.
fn check_runtimes(
    settings: &ChainSettings,
    runtimes: &[(ward_primitives::RuntimeName, String)],
) -> Result<(), NodeError> {
    crate::settings::check_runtimes(
        settings,
        &crate::settings::runtime_records(runtimes),
        "the source chain has",
    )
}

/// The source's block `height`, its hash checked.
fn source_block(source: &Source, height: u64) -> Result<ward_state::BlockRecord, String> {
    let params = params::GetBlock {
        height: Some(height),
        hash: None,
    };
    let block = source.result::<methods::GetBlock>(&params)?;
    crate::json::block_from(&block).map_err(|e| format!("its block {height}: {e}"))
}

/// A new fork: the source's settings, then its block as the store's
/// base, with the dev accounts funded, in one commit. Returns the
/// settings and the base's height.
fn create(
    store: &RedbStore,
    source: &Source,
    fork: &ForkConfig,
    runtimes: &[(ward_primitives::RuntimeName, String)],
    dev_accounts: &[ward_primitives::Address],
) -> Result<(ChainSettings, u64), NodeError> {
    let network = source
        .result::<methods::GetNetwork>(&params::Empty {})
        .map_err(NodeError::Settings)?;
    let settings = network.settings;
    crate::settings::check_versions(&settings, "it")?;
    check_runtimes(&settings, runtimes)?;
    let height = fork.height.unwrap_or(network.height);
    if height == 0 {
        return Err(NodeError::Settings(
            "its chain has no block yet to fork after".into(),
        ));
    }
    let block = source_block(source, height).map_err(NodeError::Settings)?;
    let record = ForkRecord {
        url: fork.url.clone(),
        height,
        hash: block.hash().to_string(),
    };
    // The base: the source's block, and the dev accounts' balances as
    // the fork's own state at its height (the rest is read through).
    let mut changes = ChangeSet::default();
    let mut leaves = Vec::new();
    for address in dev_accounts {
        let balance = crate::genesis::DEV_BALANCE;
        changes.balances.insert(*address, balance);
        leaves.push((
            tree::key_hash(&StateKey::Balance(address).to_bytes()),
            balance.to_le_bytes().to_vec(),
        ));
    }
    leaves.sort();
    changes.tree = tree::build(height, leaves)
        .ok_or_else(|| NodeError::Settings("two dev accounts share an address".into()))?;
    changes.block = Some(block);
    changes.settings.insert(
        RECORD.to_owned(),
        serde_json::to_vec(&record)
            .map_err(|e| NodeError::Settings(format!("cannot encode the fork's record: {e}")))?,
    );
    changes.settings.insert(
        crate::settings::RECORD.to_owned(),
        crate::settings::to_record(&settings)?,
    );
    store.commit(changes)?;
    tracing::info!(url = %fork.url, height, "forked the source's chain");
    Ok((settings, height))
}

/// The fork's record in `store`, if it is one.
///
/// # Errors
///
/// A store failure, or a record that does not decode.
pub fn recorded(store: &RedbStore) -> Result<Option<ForkRecord>, NodeError> {
    store
        .setting(RECORD)?
        .map(|bytes| {
            serde_json::from_slice(&bytes)
                .map_err(|e| NodeError::Settings(format!("the recorded fork does not decode: {e}")))
        })
        .transpose()
}
