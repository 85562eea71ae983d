//! System runtimes on the chain path (`docs/runtimes.md`).
//!
//! A chain registers trusted, self-metered runtimes under names
//! ([`Runtimes`]); a contract deployed for one ([`CodeKind::Runtime`]) has
//! code that is the runtime's input rather than Wasm (an EVM contract's
//! bytecode for `evm`). Its frames run the runtime's instance from the
//! per-thread pool of [`ward_vm::SystemRuntimes`], with the contract's
//! address, storage and caller as any contract's frame has them, and the
//! code and the call's input in one envelope ([`envelope`]).

use std::{collections::BTreeMap, sync::Arc};

use ward_primitives::{Address, CodeKind, Hash32, RuntimeName};
use ward_vm::{
    Backend, CacheOptions, CodeHash, Config, ErrorKind, Failure, Metering, ModuleCache,
    SystemRuntimes,
};

/// The system runtimes a chain registered, by name, on one backend.
pub struct Runtimes {
    system: SystemRuntimes,
    backend: Arc<dyn Backend>,
    /// The backend's config, metered as runtimes are (self-metered).
    config: Config,
    names: BTreeMap<RuntimeName, Registered>,
}

/// One registered runtime.
#[derive(Clone, Copy, Debug)]
struct Registered {
    code: CodeHash,
    /// Whether it exports `deploy` (which then turns a deploy's code into
    /// the contract's).
    deploys: bool,
}

impl Runtimes {
    /// No runtimes, on `backend` (created with `config`).
    pub fn new(backend: Arc<dyn Backend>, config: &Config) -> Self {
        let mut self_metered = config.clone();
        self_metered.policy.metering = Metering::SelfMetered;
        Runtimes {
            system: SystemRuntimes::new(backend.clone(), config),
            backend,
            config: self_metered,
            names: BTreeMap::new(),
        }
    }

    /// Registers `wasm` under `name` as a self-metered runtime: it is not
    /// instrumented, its host calls are free, and it charges for what it
    /// does through `ward.charge_gas`. Its calls run `main`; it may export
    /// `deploy`. Returns the module's code hash.
    ///
    /// # Errors
    ///
    /// The module's rejection by the policy or the engine.
    pub fn register(&mut self, name: RuntimeName, wasm: &[u8]) -> Result<CodeHash, Failure> {
        self.register_metered(name, wasm, Metering::SelfMetered)
    }

    /// [`Runtimes::register`] metered as `metering` says: an instrumented
    /// runtime also pays for every Wasm instruction it runs, as a contract
    /// does (what the EVM runtime's rate is calibrated against,
    /// `docs/evm.md`).
    ///
    /// # Errors
    ///
    /// The module's rejection by the policy or the engine.
    pub fn register_metered(
        &mut self,
        name: RuntimeName,
        wasm: &[u8],
        metering: Metering,
    ) -> Result<CodeHash, Failure> {
        let code = self.system.register(wasm, metering)?;
        self.name(name, code);
        Ok(code)
    }

    /// [`Runtimes::register_metered`] through a module cache with `options`
    /// (its disk directory keeps the compiled runtime for the next
    /// process: a runtime of a megabyte takes seconds to compile on
    /// wasmtime).
    ///
    /// # Errors
    ///
    /// The module's rejection, or a disk cache directory that cannot be
    /// created.
    pub fn register_cached(
        &mut self,
        name: RuntimeName,
        wasm: &[u8],
        metering: Metering,
        options: CacheOptions,
    ) -> Result<CodeHash, Failure> {
        let mut config = self.config.clone();
        config.policy.metering = metering;
        let cache = ModuleCache::new(self.backend.clone(), &config, options)
            .map_err(|e| Failure::new(ErrorKind::HostError, e.to_string()))?;
        let (code, module) = cache.compile_with_id(wasm, None)?;
        self.system.register_compiled(code, module);
        self.name(name, code);
        Ok(code)
    }

    fn name(&mut self, name: RuntimeName, code: CodeHash) {
        let deploys = self
            .system
            .module(&code)
            .is_some_and(|m| m.export_func("deploy").is_some());
        self.names.insert(name, Registered { code, deploys });
    }

    /// The names registered, in order, with their code hashes.
    pub fn names(&self) -> Vec<(RuntimeName, CodeHash)> {
        self.names.iter().map(|(n, r)| (*n, r.code)).collect()
    }

    /// The runtime registered under `name`'s code hash, and whether it
    /// exports `deploy`.
    pub(crate) fn get(&self, name: &RuntimeName) -> Option<(CodeHash, bool)> {
        self.names.get(name).map(|r| (r.code, r.deploys))
    }

    /// The registry of instances.
    pub fn system(&self) -> &SystemRuntimes {
        &self.system
    }

    /// Drops every cached instance of every runtime (each thread's, before
    /// its next call): the next call of each builds a fresh one.
    pub fn reset(&self) {
        self.system.reset();
    }
}

/// A runtime's input for a contract whose code is `code`: `code`'s length
/// (`u32`, little-endian), `code`, then the call's (or deploy's) `input`.
pub fn envelope(code: &[u8], input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + code.len() + input.len());
    out.extend_from_slice(&(code.len() as u32).to_le_bytes());
    out.extend_from_slice(code);
    out.extend_from_slice(input);
    out
}

/// Where a deploy for a system runtime creates its contract: the deploy's
/// address ([`crate::contract_address`]) with its first 12 bytes zeroed, so
/// that the contract has a 20-byte address (an EVM address) too.
pub fn runtime_address(address: Address) -> Address {
    address.eth_form()
}

/// What a frame runs: a contract's module, or a registered runtime with
/// the contract's code.
#[derive(Clone)]
pub(crate) enum Code {
    /// A Wasm contract (Ward or WASI), and the hash of its code.
    Wasm(ward_vm::Module, Hash32),
    /// The runtime with this code hash, for a contract with this code.
    Runtime(CodeHash, Arc<Vec<u8>>),
}

impl Code {
    /// Whether the frame's code offers children (`vm_*`): a Wasm contract
    /// that imports them.
    pub(crate) fn runs_children(&self) -> bool {
        matches!(self, Code::Wasm(module, _) if module.runs_children())
    }

    /// The frame's input for a call with `input`.
    pub(crate) fn input(&self, input: Vec<u8>) -> Vec<u8> {
        match self {
            Code::Wasm(..) => input,
            Code::Runtime(_, code) => envelope(code, &input),
        }
    }
}

/// The transient space the frames of runtime `name` share in a
/// transaction (`docs/runtimes.md`, "Bookkeeping"): an address derived from
/// the name, which no contract's address is.
pub(crate) fn shared_space(name: &RuntimeName) -> Address {
    let hash = blake3::derive_key(
        "ward runtime transient space 2026-11",
        name.as_str().as_bytes(),
    );
    Address(hash)
}

/// Whether `kind` is a runtime's.
pub(crate) fn is_runtime(kind: CodeKind) -> bool {
    matches!(kind, CodeKind::Runtime(_))
}
