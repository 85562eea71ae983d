//! Backend configuration and import resolution.

use std::borrow::Cow;

use ward_abi::{HostFn, WasiFn};
use ward_instrument::HostSignature;
pub use ward_instrument::{
    CostSchedule, Features, FloatPolicy, ImportPolicy, Limits, LoopCharging, Metering, Policy,
};

use crate::{
    ErrorKind, Extern, Failure, Link, Module,
    value::{ExternType, FuncType, ValType},
};

/// An import the embedder provides beyond the `ward` ABI, served by its
/// [`crate::Host`] (plugin hosts define their own; contract hosts usually
/// define none).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostImport {
    /// Import module name. Must not be [`ward_abi::MODULE`].
    pub module: String,
    /// Import field name.
    pub name: String,
    /// The function's signature.
    pub ty: FuncType,
}

/// How a backend is set up. Fixed when the backend is created.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    /// The module policy: features, limits (checked before compiling, and
    /// enforced on `memory.grow` / `table.grow` at run time), metering mode,
    /// float handling and the gas schedule. Consensus-relevant throughout.
    pub policy: Policy,
    /// Embedder-defined imports, numbered by their position here.
    pub host_imports: Vec<HostImport>,
    /// Whether calls can be interrupted by a wall-clock deadline (wasmtime:
    /// epoch checks; wasmi: fuel slices). Costs a few percent of compute
    /// speed. Default: on.
    pub interruptible: bool,
    /// Whether wasmtime keeps instances in its pooling allocator (slots
    /// reserved once, memories initialised copy-on-write, small memories
    /// kept resident between uses). When the machine cannot reserve the
    /// address space, the backend falls back to on-demand allocation and
    /// says so in a log line. Default: on.
    pub pooling: bool,
    /// How many instances may be alive at once per backend (the pool's
    /// size): every frame of a chain of calls between contracts holds one.
    /// Default: 1100 (the default call-depth limit of 1024 plus headroom).
    pub max_instances: u32,
    /// Bytes of linear memory a backend may keep in recycled instances
    /// (0: every call instantiates anew). A finished instance of a
    /// recyclable module (`Module::recyclable`) is restored to exactly the
    /// state of a new one (memory rewritten from the module's initial
    /// image, mutable globals reset by the instrumentation's
    /// `__ward_reset`) and handed to the next call of that module instead
    /// of instantiating. Not part of the fingerprint: it changes no
    /// outcome. Default: 64 MiB.
    pub recycle_bytes: u64,
    /// Tier-up (wasmtime only, through `ward_backends::new`): a module's
    /// first calls run on wasmi, which translates it in milliseconds,
    /// while wasmtime compiles it on a worker thread; later calls run the
    /// compiled code. Same instrumented bytes, so the same outcomes and
    /// gas. Not part of the fingerprint. Default: off (a node turns it
    /// on).
    pub tier_up: bool,
    /// Whether a call may hand its storage reads and writes and its
    /// events to the embedder as requests ([`crate::Request::StorageRead`],
    /// [`crate::Request::StorageWrite`], [`crate::Request::Event`]) when
    /// its context asks for them ([`crate::CallContext::with_chain_requests`])
    /// instead of answering them through its [`crate::Chain`]: what a host
    /// that serves them from its own loop needs (the C API). Charged
    /// exactly as before, so outcomes and gas do not change; not part of
    /// the fingerprint. It makes those four functions suspendable, which
    /// on wasmtime costs an async trampoline on every call of them.
    /// Default: off.
    pub chain_requests: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            policy: Policy::default(),
            host_imports: Vec::new(),
            interruptible: true,
            pooling: true,
            max_instances: 1100,
            recycle_bytes: 64 << 20,
            tier_up: false,
            chain_requests: false,
        }
    }
}

/// What one import of a module resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// A host ABI function.
    Abi(HostFn),
    /// A WASI preview 1 function.
    Wasi(WasiFn),
    /// Embedder-defined host import number `n`.
    Host(usize),
    /// A syscall ([`ImportPolicy::Syscalls`]): the module's import number
    /// `n`. Calling it suspends the guest with a [`crate::Request::Syscall`]
    /// whose index is `n`.
    Syscall(usize),
    /// An explicit link to an item of another instance.
    Link(Extern),
    /// A profiling hook ([`ward_instrument::PROFILE_MODULE`]) that
    /// [`Policy::profile`] added.
    Profile,
}

impl Resolved {
    /// The import number of a syscall.
    pub fn syscall(self) -> Option<usize> {
        match self {
            Resolved::Syscall(index) => Some(index),
            _ => None,
        }
    }

    /// Whether calling this import may suspend the guest, with
    /// [`Config::chain_requests`] as `chain_requests`.
    pub fn may_suspend(self, chain_requests: bool) -> bool {
        match self {
            Resolved::Host(_) | Resolved::Syscall(_) => true,
            Resolved::Abi(f) => f.uses().suspends || (chain_requests && is_chain_request(f)),
            Resolved::Wasi(f) => f.uses().suspends,
            Resolved::Link(_) | Resolved::Profile => false,
        }
    }
}

/// Whether host function `f` becomes a request to the embedder under
/// [`Config::chain_requests`]: the storage functions and `emit_event`.
pub fn is_chain_request(f: HostFn) -> bool {
    matches!(
        f,
        HostFn::StorageRead | HostFn::StorageWrite | HostFn::StorageRemove | HostFn::EmitEvent
    )
}

impl Config {
    /// The limits of this configuration's policy.
    pub fn limits(&self) -> &Limits {
        &self.policy.limits
    }

    /// The policy modules are prepared under: [`Config::policy`], with the
    /// embedder's [`Config::host_imports`] added to the functions a module
    /// may import. Cache keys fingerprint this policy.
    pub fn effective_policy(&self) -> Cow<'_, Policy> {
        match &self.policy.imports {
            ImportPolicy::Functions(_) if !self.host_imports.is_empty() => {
                let mut policy = self.policy.clone();
                if let ImportPolicy::Functions(list) = &mut policy.imports {
                    let wasm = |t: &ValType| match t {
                        ValType::I32 => wasmparser::ValType::I32,
                        ValType::I64 => wasmparser::ValType::I64,
                        ValType::F32 => wasmparser::ValType::F32,
                        ValType::F64 => wasmparser::ValType::F64,
                        ValType::FuncRef => wasmparser::ValType::FUNCREF,
                        ValType::ExternRef => wasmparser::ValType::EXTERNREF,
                    };
                    list.extend(self.host_imports.iter().map(|h| HostSignature {
                        module: h.module.clone(),
                        name: h.name.clone(),
                        params: h.ty.params.iter().map(wasm).collect(),
                        results: h.ty.results.iter().map(wasm).collect(),
                    }));
                }
                Cow::Owned(policy)
            }
            _ => Cow::Borrowed(&self.policy),
        }
    }

    /// A canonical encoding of everything in this config that changes what
    /// a compiled module is: the effective policy's canonical bytes (which
    /// include the schedule version and the host imports), the ABI version
    /// and whether code is compiled interruptible. Module cache keys hash
    /// it.
    pub fn fingerprint(&self) -> Vec<u8> {
        let mut out = self.effective_policy().canonical_bytes();
        out.extend(ward_abi::ABI_VERSION.to_le_bytes());
        out.push(u8::from(self.interruptible));
        out
    }

    /// Resolves every import of `module`: explicit `links` first, then the
    /// `ward` ABI and WASI preview 1 (which the policy admits only when it
    /// lists them: [`ImportPolicy::wasi`]), then [`Config::host_imports`].
    ///
    /// # Errors
    ///
    /// `unknown_import` for an import nothing provides, and
    /// `import_signature_mismatch` for a host import of the wrong kind or type.
    /// Links are type-checked by the engine when instantiating.
    pub fn resolve_imports(
        &self,
        module: &Module,
        links: &[Link],
    ) -> Result<Vec<Resolved>, Failure> {
        module
            .imports()
            .iter()
            .enumerate()
            .map(|(index, import)| {
                if let Some(link) = links
                    .iter()
                    .find(|l| l.module == import.module && l.name == import.name)
                {
                    return Ok(Resolved::Link(link.item));
                }
                let mismatch = |expected: &FuncType| {
                    Failure::new(
                        ErrorKind::ImportSignatureMismatch,
                        format!(
                            "import {}.{}: expected func {expected}, module declares {}",
                            import.module,
                            import.name,
                            describe(&import.ty)
                        ),
                    )
                };
                // A function of one of the two tables: known by name, and
                // of exactly the table's signature.
                let table = match import.module.as_str() {
                    ward_abi::MODULE => Some((
                        HostFn::from_name(&import.name)
                            .map(|f| (FuncType::of_host_fn(f), Resolved::Abi(f))),
                        "a host function",
                    )),
                    ward_abi::WASI_MODULE => Some((
                        WasiFn::from_name(&import.name)
                            .map(|f| (FuncType::of_wasi_fn(f), Resolved::Wasi(f))),
                        "a WASI preview 1 function",
                    )),
                    _ => None,
                };
                if let Some((found, what)) = table {
                    let Some((expected, resolved)) = found else {
                        return Err(Failure::new(
                            ErrorKind::UnknownImport,
                            format!("import {}.{} is not {what}", import.module, import.name),
                        ));
                    };
                    return match &import.ty {
                        ExternType::Func(ty) if *ty == expected => Ok(resolved),
                        _ => Err(mismatch(&expected)),
                    };
                }
                if import.module == ward_instrument::PROFILE_MODULE {
                    let edge = FuncType {
                        params: vec![ValType::I32, ValType::I64],
                        results: Vec::new(),
                    };
                    let at = FuncType {
                        params: vec![ValType::I32],
                        results: Vec::new(),
                    };
                    let expected = match import.name.as_str() {
                        "enter" | "leave" => edge,
                        _ => at,
                    };
                    return match &import.ty {
                        ExternType::Func(ty)
                            if *ty == expected
                                && matches!(import.name.as_str(), "enter" | "leave" | "at") =>
                        {
                            Ok(Resolved::Profile)
                        }
                        _ => Err(mismatch(&expected)),
                    };
                }
                if let Some(host) = self
                    .host_imports
                    .iter()
                    .position(|h| h.module == import.module && h.name == import.name)
                {
                    let expected = &self.host_imports[host].ty;
                    return match &import.ty {
                        ExternType::Func(ty) if ty == expected => Ok(Resolved::Host(host)),
                        _ => Err(mismatch(expected)),
                    };
                }
                if let ImportPolicy::Syscalls { module, max_params } = &self.policy.imports
                    && import.module == *module
                    && let ExternType::Func(ty) = &import.ty
                    && ty.is_syscall(*max_params)
                {
                    return Ok(Resolved::Syscall(index));
                }
                Err(Failure::new(
                    ErrorKind::UnknownImport,
                    format!(
                        "unknown import {}.{} ({})",
                        import.module,
                        import.name,
                        import.ty.kind_name()
                    ),
                ))
            })
            .collect()
    }
}

fn describe(ty: &ExternType) -> String {
    match ty {
        ExternType::Func(f) => format!("func {f}"),
        other => other.kind_name().to_string(),
    }
}
