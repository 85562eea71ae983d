//! System runtimes on the chain path (`docs/runtimes.md`).
//!
//! A chain registers trusted, self-metered runtimes under names
//! ([`Runtimes`]); a contract deployed for one ([`CodeKind::Runtime`]) has
//! code that is the runtime's input rather than Wasm (an EVM contract's
//! bytecode for `evm`). Its frames run the runtime's instance from the
//! per-thread pool of [`ward_vm::SystemRuntimes`], with the contract's
//! address, storage and caller as any contract's frame has them, and the
//! code and the call's input in one envelope ([`envelope`]).

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
};

use ward_primitives::{Address, CodeKind, Gas, Hash32, RuntimeName};
use ward_vm::{
    Backend, CacheOptions, CallContext, CodeHash, Config, Entry, ErrorKind, Failure, Metering,
    ModuleCache, Reply, RunOptions, Status, SystemRuntimes,
};

/// The system runtimes a chain registered, by name, on one backend.
pub struct Runtimes {
    system: SystemRuntimes,
    backend: Arc<dyn Backend>,
    /// The backend's config, metered as runtimes are (self-metered).
    config: Config,
    names: BTreeMap<RuntimeName, Registered>,
    /// Contracts' envelope heads, by runtime and code hash.
    heads: Heads,
    /// Whether code is analysed for the runtimes that can take it
    /// ([`Runtimes::with_analysis`]).
    analysis: bool,
}

/// One registered runtime.
#[derive(Clone, Copy, Debug)]
struct Registered {
    code: CodeHash,
    /// Whether it exports `deploy` (which then turns a deploy's code into
    /// the contract's).
    deploys: bool,
    /// Whether the executor analyses a contract's code for it, once per
    /// code hash: it exports `analyze` and is self-metered (an
    /// engine-metered runtime pays for its analysis in every frame, as it
    /// always did).
    analyzes: bool,
}

/// The bytes of envelope heads ([`head`]) the executor keeps, least
/// recently used first out: the code and analysis of every contract a
/// busy chain calls, many times over.
pub const HEAD_CACHE_BYTES: usize = 32 << 20;

/// Set in an envelope's code length when the code's analysis follows the
/// code (`docs/runtimes.md`).
pub const ANALYZED: u32 = 1 << 31;

/// Envelope heads by (runtime, contract code hash), bounded by
/// [`HEAD_CACHE_BYTES`]: code is stored by its hash and never changes, so
/// a head is read and analysed once.
#[derive(Default)]
struct Heads {
    state: Mutex<HeadState>,
}

/// A head's key: the runtime's code hash and the contract's.
type HeadKey = (CodeHash, Hash32);

#[derive(Default)]
struct HeadState {
    /// Each head, and when it was last used.
    entries: BTreeMap<HeadKey, (Arc<Vec<u8>>, u64)>,
    clock: u64,
    bytes: usize,
}

impl Heads {
    fn get(&self, key: &HeadKey) -> Option<Arc<Vec<u8>>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.clock += 1;
        let tick = state.clock;
        let (head, used) = state.entries.get_mut(key)?;
        *used = tick;
        Some(head.clone())
    }

    fn insert(&self, key: HeadKey, head: Arc<Vec<u8>>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.clock += 1;
        let tick = state.clock;
        state.bytes += head.len();
        if let Some((old, _)) = state.entries.insert(key, (head, tick)) {
            state.bytes -= old.len();
        }
        if state.bytes > HEAD_CACHE_BYTES {
            let mut order: Vec<(u64, HeadKey)> = state
                .entries
                .iter()
                .map(|(k, (_, used))| (*used, *k))
                .collect();
            order.sort_unstable();
            for (_, key) in order {
                if state.bytes <= HEAD_CACHE_BYTES / 2 {
                    break;
                }
                if let Some((head, _)) = state.entries.remove(&key) {
                    state.bytes -= head.len();
                }
            }
        }
    }
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
            heads: Heads::default(),
            analysis: true,
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
        let module = self.system.module(&code);
        let exports = |entry| {
            module
                .as_ref()
                .is_some_and(|m| m.export_func(entry).is_some())
        };
        let registered = Registered {
            code,
            deploys: exports("deploy"),
            analyzes: exports("analyze")
                && module
                    .as_ref()
                    .is_some_and(|m| m.metering() == Metering::SelfMetered),
        };
        self.names.insert(name, registered);
    }

    /// Whether the executor analyses a contract's code once, by its code
    /// hash, for the runtimes that export `analyze` and are self-metered,
    /// and passes the analysis in every frame's envelope (on by default).
    /// Off, every frame analyses its code itself: the same results and
    /// gas, in more time. For comparisons and tests.
    pub fn with_analysis(mut self, on: bool) -> Self {
        self.analysis = on;
        self
    }

    /// Whether frames of runtime `name` are given their code's analysis.
    pub fn analyzes(&self, name: &RuntimeName) -> bool {
        self.analysis && self.names.get(name).is_some_and(|r| r.analyzes)
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

    /// The head of the envelope of a call of the contract whose code hash
    /// is `code_hash` on runtime `name` ([`head`]): kept, or made from the
    /// code `read` gives and, for a runtime that analyses, its analysis.
    pub(crate) fn head<E>(
        &self,
        name: &RuntimeName,
        code_hash: &Hash32,
        read: impl FnOnce() -> Result<Vec<u8>, E>,
    ) -> Result<Arc<Vec<u8>>, E> {
        let Some(registered) = self.names.get(name) else {
            return read().map(|code| Arc::new(head(&code, None)));
        };
        let key = (registered.code, *code_hash);
        if let Some(head) = self.heads.get(&key) {
            return Ok(head);
        }
        let code = read()?;
        let analysis = if registered.analyzes && self.analysis {
            self.analyze(&registered.code, &code)
        } else {
            None
        };
        let made = Arc::new(head(&code, analysis.as_deref()));
        self.heads.insert(key, made.clone());
        Ok(made)
    }

    /// Runtime `runtime`'s `analyze` of `code`, outside any frame: its
    /// output, or `None` when it failed (the frame then analyses its code
    /// itself, which gives the same result at the same gas: a
    /// self-metered runtime charges its own machine's gas, which no
    /// analysis changes).
    fn analyze(&self, runtime: &CodeHash, code: &[u8]) -> Option<Vec<u8>> {
        let options = RunOptions {
            input: code.to_vec(),
            gas_limit: Gas::MAX,
            ..RunOptions::default()
        };
        let context = CallContext::new(Vec::new(), Gas::MAX);
        let execution = self
            .system
            .call(
                runtime,
                &Entry::Main("analyze".into()),
                options,
                context,
                &mut |_| Reply::Trap("an analysis suspends nothing".into()),
            )
            .ok()?;
        (execution.outcome.status == Status::Ok).then_some(execution.outcome.output)
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
    let mut out = head(code, None);
    out.extend_from_slice(input);
    out
}

/// The part of an envelope before the input: `code`'s length, `code`
/// and, when there is one, its `analysis` (the length word then has
/// [`ANALYZED`] set, and the analysis follows the code after its own
/// length).
pub fn head(code: &[u8], analysis: Option<&[u8]>) -> Vec<u8> {
    let extra = analysis.map_or(0, |a| 4 + a.len());
    let mut out = Vec::with_capacity(4 + code.len() + extra);
    let flag = if analysis.is_some() { ANALYZED } else { 0 };
    out.extend_from_slice(&(code.len() as u32 | flag).to_le_bytes());
    out.extend_from_slice(code);
    if let Some(analysis) = analysis {
        out.extend_from_slice(&(analysis.len() as u32).to_le_bytes());
        out.extend_from_slice(analysis);
    }
    out
}

/// An envelope's code and input, whether or not it carries an analysis;
/// `None` when it is not one.
pub fn open_envelope(envelope: &[u8]) -> Option<(&[u8], &[u8])> {
    let word = u32::from_le_bytes(envelope.get(..4)?.try_into().ok()?);
    let len = (word & !ANALYZED) as usize;
    let code = envelope.get(4..4usize.checked_add(len)?)?;
    let rest = &envelope[4 + len..];
    if word & ANALYZED == 0 {
        return Some((code, rest));
    }
    let analysis = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
    Some((code, rest.get(4usize.checked_add(analysis)?..)?))
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
    /// The runtime with this code hash, for a contract whose envelope
    /// starts with this head ([`head`]: its code, and its analysis).
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
            Code::Runtime(_, head) => {
                let mut envelope = Vec::with_capacity(head.len() + input.len());
                envelope.extend_from_slice(head);
                envelope.extend_from_slice(&input);
                envelope
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_bounded_and_the_least_recently_used_go_first() {
        let heads = Heads::default();
        let key = |i: u8| (CodeHash([0; 32]), Hash32([i; 32]));
        let big = Arc::new(vec![0u8; HEAD_CACHE_BYTES / 4]);
        for i in 0..4 {
            heads.insert(key(i), big.clone());
        }
        // The oldest, used again, outlives the others.
        assert!(heads.get(&key(0)).is_some());
        heads.insert(key(4), big.clone());
        let state = heads.state.lock().unwrap();
        assert!(state.bytes <= HEAD_CACHE_BYTES / 2, "{}", state.bytes);
        assert_eq!(
            state.bytes,
            state.entries.values().map(|(h, _)| h.len()).sum::<usize>()
        );
        assert!(state.entries.contains_key(&key(0)));
        assert!(state.entries.contains_key(&key(4)));
        assert!(!state.entries.contains_key(&key(1)));
    }
}
