//! What the chain commands share: the options every one takes and how
//! they open the data directory, who sends a transaction and who signs
//! it, and what it moves and pays. The commands on a data directory
//! (`chain`), on a node (`remote`), and traces and money (`trace`,
//! `money`) all stand on it, and it on none of them.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context, bail};
use clap::Args;
use ward_executor::Executor;
use ward_state::{Address, RedbStore, StateError};
use ward_text::parse;
use ward_vm::{BackendKind, CacheOptions, Config, ModuleCache};

/// Options every chain command takes.
#[derive(Args, Debug)]
pub(crate) struct Common {
    /// The data directory holding the state.
    #[arg(long, default_value = "./.ward")]
    pub(crate) data_dir: PathBuf,
    /// The engine.
    #[arg(long, default_value = "wasmtime")]
    pub(crate) backend: BackendKind,
    /// Print one JSON object on stdout's last line.
    #[arg(long)]
    pub(crate) json: bool,
    /// Talk to the node at this URL (`http://HOST:PORT`) instead of
    /// opening the data directory.
    #[arg(long, env = "WARD_NODE", value_name = "URL")]
    pub(crate) node: Option<String>,
}

/// Who sends a transaction: `--sender` (a data directory's, or a node's
/// dev account) or `--key` (signed here, for a node). `deploy`, `call`,
/// `transfer`, `upgrade` and `set-admin` take it alike.
#[derive(Args, Debug, Default)]
pub(crate) struct Sender {
    /// The sender's address, as hex (the deployer, the caller, the
    /// admin; default: 32 bytes of 0x01; with --node, the node's first
    /// dev account, which the node signs for).
    #[arg(long, conflicts_with = "key")]
    pub(crate) sender: Option<String>,
    /// Sign with this key file (`ward key new`); needs --node.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: Option<PathBuf>,
}

impl Sender {
    /// Who signs for a node.
    pub(crate) fn signer(&self) -> anyhow::Result<Signer> {
        Signer::of(self.key.as_ref(), self.sender.as_ref())
    }

    /// The sender of a data directory's transaction (no key: a data
    /// directory takes no signatures).
    pub(crate) fn local(&self) -> anyhow::Result<Address> {
        no_key(self.key.as_ref())?;
        sender(self.sender.as_ref())
    }
}

/// What a transaction moves and pays (`docs/economics.md`).
#[derive(Args, Debug, Default)]
pub(crate) struct Payment {
    /// Native asset moved to the callee (or the new contract): an integer
    /// in the asset's smallest unit, or whole units with a point (`1.5`).
    #[arg(long, value_parser = parse::amount, value_name = "AMOUNT")]
    pub(crate) value: Option<parse::Amount>,
    /// The gas price, in the smallest unit per gas (default: the node's
    /// minimum); needs --node (a data directory's own transactions pay no
    /// fees).
    #[arg(long, value_parser = parse::amount_arg, value_name = "PRICE")]
    pub(crate) gas_price: Option<u128>,
}

impl Payment {
    /// The value for a data directory (no fees; the default asset's
    /// decimals).
    pub(crate) fn local_value(&self) -> anyhow::Result<u128> {
        if self.gas_price.is_some() {
            bail!("--gas-price needs --node: a data directory's own transactions pay no fees");
        }
        let decimals = ward_node::genesis::Asset::default().decimals;
        Ok(self
            .value
            .as_ref()
            .map(|v| v.in_smallest(decimals))
            .transpose()?
            .unwrap_or(0))
    }
}

const DEFAULT_SENDER: Address = Address([1; 32]);

/// `--key` signs transactions for a node; without `--node` there is no one
/// to send them to.
pub(crate) fn no_key(key: Option<&PathBuf>) -> anyhow::Result<()> {
    match key {
        Some(_) => bail!("--key signs transactions for a node: pass --node URL (or set WARD_NODE)"),
        None => Ok(()),
    }
}

/// Who signs a transaction sent to a node.
pub(crate) enum Signer {
    /// This key, here.
    Key(ed25519_dalek::SigningKey),
    /// The node, for one of its dev accounts (the first when `None`).
    Dev(Option<Address>),
}

impl Signer {
    pub(crate) fn of(key: Option<&PathBuf>, sender: Option<&String>) -> anyhow::Result<Signer> {
        Ok(match (key, sender) {
            (Some(path), _) => Signer::Key(crate::key::load(path)?),
            (None, Some(text)) => Signer::Dev(Some(address(text)?)),
            (None, None) => Signer::Dev(None),
        })
    }
}

pub(crate) fn address(text: &str) -> anyhow::Result<Address> {
    Ok(Address(parse::bytes32(text)?))
}

pub(crate) fn sender(text: Option<&String>) -> anyhow::Result<Address> {
    text.map_or(Ok(DEFAULT_SENDER), |t| address(t))
}

/// How a command opens the data directory.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Writes, and starts a new chain where there is none (`deploy`, `demo`).
    Create,
    /// Writes to an existing chain (`call`).
    Write,
    /// Only reads (`query`, `state`, `receipt`): the file is never written.
    Read,
}

pub(crate) fn open(common: &Common, access: Access) -> anyhow::Result<Executor<RedbStore>> {
    open_executor(&common.data_dir, common.backend, access)
}

/// An executor with the default config over the state in `dir`, on `backend`.
pub(crate) fn open_executor(
    dir: &Path,
    backend: BackendKind,
    access: Access,
) -> anyhow::Result<Executor<RedbStore>> {
    let store = Arc::new(open_store(dir, access)?);
    // As `ward serve`: WASI commands may be deployed as such.
    let mut config = Config::default();
    config.policy.imports = ward_vm::ImportPolicy::wasi();
    let backend =
        crate::backends::create(backend, &config).map_err(|f| anyhow::anyhow!("{}", f.message))?;
    // Compiled modules are kept in the data directory's verified disk
    // cache (as `ward serve` does), so the next process does not compile
    // them again (the EVM runtime takes seconds); a read loads from it but
    // never writes the directory.
    let options = CacheOptions {
        disk_dir: Some(dir.join("cache")),
        disk_read_only: access == Access::Read,
        ..CacheOptions::default()
    };
    // The runtimes this checkout builds, where their modules are found
    // (`docs/runtimes.md`): a data directory records no settings, so its
    // commands register what they find.
    let specs: Vec<_> = ward_node::runtimes::KNOWN
        .iter()
        .filter_map(|name| ward_node::runtimes::RuntimeSpec::parse(name).ok())
        .collect();
    let (runtimes, _) = ward_node::runtimes::register(&specs, &backend, &config, &options)?;
    let cache = ModuleCache::new(backend, &config, options)
        .with_context(|| format!("cannot open the module cache in {}", dir.display()))?;
    Ok(Executor::with_cache(store, Arc::new(cache)).with_runtimes(Arc::new(runtimes)))
}

pub(crate) fn open_store(dir: &Path, access: Access) -> anyhow::Result<RedbStore> {
    let opened = match access {
        Access::Create => RedbStore::create(dir),
        Access::Write => RedbStore::open(dir),
        Access::Read => RedbStore::open_read_only(dir),
    };
    opened.map_err(|e| match e {
        StateError::Missing { path } => anyhow::anyhow!(
            "no Ward state in {}: `ward deploy` or `ward demo` starts a chain there",
            path.display()
        ),
        other => anyhow::Error::new(other).context("cannot open the state"),
    })
}
