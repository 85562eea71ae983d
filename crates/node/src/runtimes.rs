//! The system runtimes a node (or the CLI's data directory) registers
//! (`docs/runtimes.md`): named modules read from files, compiled through
//! the data directory's disk cache.

use std::{collections::BTreeMap, path::PathBuf, sync::Arc};

use ward_executor::Runtimes;
use ward_primitives::RuntimeName;
use ward_vm::{Backend, CacheOptions, CodeHash, Config, Metering};

use crate::startup::NodeError;

/// The runtimes this repository builds (`make contracts`), which the CLI's
/// data-directory commands register when their modules are found.
pub const KNOWN: [&str; 2] = ["evm", "stackvm"];

/// A runtime to register: its name, its module's file and how it is
/// metered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeSpec {
    /// The name contracts are deployed for.
    pub name: RuntimeName,
    /// The module.
    pub path: PathBuf,
    /// Self-metered (the default: it charges through `ward.charge_gas`),
    /// or engine-metered too (`,metered`: instrumented, it also pays for
    /// every Wasm instruction it runs).
    pub metering: Metering,
}

/// What marks an engine-metered runtime in a spec and in the chain's
/// settings.
const METERED: &str = ",metered";

impl RuntimeSpec {
    /// `NAME=PATH`, or `NAME` alone for the module [`default_path`] finds;
    /// either followed by `,metered` for an engine-metered runtime.
    ///
    /// # Errors
    ///
    /// A name that is not a runtime's, or no module found for a bare name.
    pub fn parse(text: &str) -> Result<RuntimeSpec, NodeError> {
        let (text, metering) = match text.strip_suffix(METERED) {
            Some(rest) => (rest, Metering::Instrumented),
            None => (text, Metering::SelfMetered),
        };
        let (name, path) = match text.split_once('=') {
            Some((name, path)) => (name, Some(PathBuf::from(path))),
            None => (text, None),
        };
        let name = RuntimeName::new(name).ok_or_else(|| {
            NodeError::Config(format!(
                "`{name}` is not a runtime's name (1 to 16 of a-z, 0-9 and -, starting with a letter; not ward or wasi)"
            ))
        })?;
        let path = match path {
            Some(path) => path,
            None => default_path(&name).ok_or_else(|| {
                NodeError::Config(format!(
                    "no module for runtime `{name}`: pass --runtime {name}=PATH, set WARD_RUNTIMES to its directory, or build it with `make contracts`"
                ))
            })?,
        };
        Ok(RuntimeSpec {
            name,
            path,
            metering,
        })
    }
}

/// Where runtime `name`'s module is when no path is given: `NAME.wasm` in
/// the directory `WARD_RUNTIMES` names, or else in the contracts' build
/// directory of the source checkout this executable was built in
/// (`target/contracts/wasm32-unknown-unknown/release`, beside
/// `target/debug` or `target/release`). `None` when there is no such file.
pub fn default_path(name: &RuntimeName) -> Option<PathBuf> {
    let file = format!("{name}.wasm");
    let dir = match std::env::var_os("WARD_RUNTIMES") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let exe = std::env::current_exe().ok()?;
            // target/{debug,release}/ward, or target/debug/deps/TEST.
            let target = exe
                .ancestors()
                .find(|dir| dir.join("contracts").is_dir() && dir.ends_with("target"))?
                .to_path_buf();
            target.join("contracts/wasm32-unknown-unknown/release")
        }
    };
    let path = dir.join(file);
    path.is_file().then_some(path)
}

/// The runtimes a dev node (`--dev`, no `--runtime`) registers: those
/// its chain recorded when it has one (each from [`default_path`]),
/// else, for a new chain, the EVM runtime when its module is found, so
/// that Ethereum tools deploy Solidity on a dev node as on Hardhat's or
/// anvil's. `specs` when they name any, or off a dev node.
///
/// # Errors
///
/// A recorded runtime whose module is not found.
pub fn dev_defaults(
    specs: &[RuntimeSpec],
    dev: bool,
    recorded: Option<&BTreeMap<String, String>>,
) -> Result<Vec<RuntimeSpec>, NodeError> {
    if !dev || !specs.is_empty() {
        return Ok(specs.to_vec());
    }
    match recorded {
        Some(records) => records
            .iter()
            .map(|(name, record)| {
                let metered = if record.ends_with(METERED) {
                    METERED
                } else {
                    ""
                };
                RuntimeSpec::parse(&format!("{name}{metered}"))
            })
            .collect(),
        None => Ok(RuntimeName::new("evm")
            .and_then(|name| default_path(&name).map(|path| (name, path)))
            .map(|(name, path)| RuntimeSpec {
                name,
                path,
                metering: Metering::SelfMetered,
            })
            .into_iter()
            .collect()),
    }
}

/// How the chain's settings record a registered runtime: its code hash
/// (hex), followed by `,metered` when it is engine-metered (gas differs,
/// so a chain's nodes must agree on it; self-metered runtimes are
/// recorded as they always were).
pub fn record(code: &CodeHash, metering: Metering) -> String {
    match metering {
        Metering::Instrumented => format!("{}{METERED}", code.to_hex()),
        _ => code.to_hex(),
    }
}

/// Registers every runtime of `specs` on `backend` (created with
/// `config`), compiled through a module cache with `cache`'s options (its
/// disk directory, when given, keeps them for the next process).
/// Returns the registry and each runtime's name and settings record
/// ([`record`]), in name order.
///
/// # Errors
///
/// A module that cannot be read or is refused.
pub fn register(
    specs: &[RuntimeSpec],
    backend: &Arc<dyn Backend>,
    config: &Config,
    cache: &CacheOptions,
) -> Result<(Runtimes, Vec<(RuntimeName, String)>), NodeError> {
    let mut runtimes = Runtimes::new(backend.clone(), config);
    // By name: a name registered twice is its last registration's, as in
    // the registry.
    let mut records = std::collections::BTreeMap::new();
    for spec in specs {
        let wasm = std::fs::read(&spec.path).map_err(|e| {
            NodeError::Config(format!(
                "runtime `{}`: cannot read {}: {e}",
                spec.name,
                spec.path.display()
            ))
        })?;
        let code = runtimes
            .register_cached(spec.name, &wasm, spec.metering, cache.clone())
            .map_err(|f| {
                NodeError::Config(format!(
                    "runtime `{}` ({}) is refused: {}",
                    spec.name,
                    spec.path.display(),
                    f.message
                ))
            })?;
        records.insert(spec.name, record(&code, spec.metering));
    }
    Ok((runtimes, records.into_iter().collect()))
}
